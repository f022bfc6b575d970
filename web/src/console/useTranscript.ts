// One conversation as support follows it: the history, then everything said from then on over the
// support event stream. The stream is opened first and the history read once it is subscribed, so
// nothing said in between is lost; messages are merged by id, so nothing shows twice.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, SignedOut } from "../api";
import { readSse } from "./sse";
import { describe } from "./strings";
import type { ChatEvent, EventData, SessionDetail } from "./types";

export type StreamState = "connecting" | "live" | "reconnecting" | "gone";

function keyOf(data: EventData, index: number): string {
  return typeof data.id === "string" && data.id ? data.id : `idx-${index}-${data.role}-${data.text ?? ""}`;
}

function merge(current: EventData[], incoming: EventData[]): EventData[] {
  const seen = new Set(current.map(keyOf));
  const added = incoming.filter((m, i) => !seen.has(keyOf(m, current.length + i)));
  return added.length ? [...current, ...added] : current;
}

export function useTranscript(sessionId: string, onActivity: () => void) {
  const [session, setSession] = useState<SessionDetail | null>(null);
  const [messages, setMessages] = useState<EventData[]>([]);
  const [state, setState] = useState<StreamState>("connecting");
  const [error, setError] = useState<string | null>(null);
  const activity = useRef(onActivity);
  useEffect(() => {
    activity.current = onActivity;
  }, [onActivity]);

  const reload = useCallback(async () => {
    try {
      const detail = await api<SessionDetail>(`support/sessions/${encodeURIComponent(sessionId)}`);
      setSession(detail);
      const history = detail.history.filter((e) => e.event === "message").map((e) => e.data);
      // History first, in its order; anything heard on the stream meanwhile stays after it.
      setMessages((current) => merge(history, current));
      setError(null);
    } catch (failure) {
      if (failure instanceof SignedOut) return;
      if (failure instanceof ApiError && failure.status === 404) setState("gone");
      else setError(describe(failure));
    }
  }, [sessionId]);

  /** Fold in what an action answered with (the stream brings it too; merging by id keeps one). */
  const absorb = useCallback((events: ChatEvent[], next?: Omit<SessionDetail, "history">) => {
    setMessages((current) => merge(current, events.filter((e) => e.event === "message").map((e) => e.data)));
    if (next) setSession((current) => (current ? { ...current, ...next } : current));
  }, []);

  useEffect(() => {
    setSession(null);
    setMessages([]);
    setState("connecting");
    setError(null);
    const abort = new AbortController();
    let delay = 1_000;
    let first = true;

    const run = async () => {
      while (!abort.signal.aborted) {
        try {
          await readSse(
            `support/sessions/${encodeURIComponent(sessionId)}/events`,
            abort.signal,
            (event) => {
              let data: EventData;
              try {
                data = JSON.parse(event.data) as EventData;
              } catch {
                return;
              }
              if (event.event === "message") setMessages((current) => merge(current, [data]));
              if (event.event === "handoff") void reload();
              if (event.event === "message" || event.event === "handoff" || event.event === "done") activity.current();
            },
            () => {
              delay = 1_000;
              setState("live");
              // The first subscription reads the history; later ones fill what a gap may have missed.
              void reload();
              first = false;
            },
          );
        } catch (failure) {
          if (abort.signal.aborted || failure instanceof SignedOut) return;
          if (failure instanceof ApiError && failure.status === 404) {
            setState("gone");
            return;
          }
        }
        if (abort.signal.aborted) return;
        setState(first ? "connecting" : "reconnecting");
        await new Promise((resolve) => window.setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    };
    void run();
    return () => abort.abort();
  }, [sessionId, reload]);

  return { session, messages, state, error, reload, absorb };
}
