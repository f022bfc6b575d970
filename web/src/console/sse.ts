// Server-Sent Events over fetch: the support stream needs the Authorization header, which an
// EventSource cannot send. Reconnecting is the caller's business (`useTranscript`).
import { apiResponse } from "../api";

export interface SseEvent {
  event: string;
  data: string;
}

/** Read `path` until the server ends the stream or `signal` aborts; `onOpen` fires on `: subscribed`. */
export async function readSse(path: string, signal: AbortSignal, onEvent: (event: SseEvent) => void, onOpen: () => void): Promise<void> {
  const response = await apiResponse(path, { signal, headers: { Accept: "text/event-stream" } });
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      if (line === "") {
        if (data.length) onEvent({ event, data: data.join("\n") });
        event = "message";
        data = [];
      } else if (line.startsWith(":")) {
        if (line.slice(1).trim() === "subscribed") onOpen();
      } else {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
    }
  }
}
