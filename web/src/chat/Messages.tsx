// The conversation: the person's messages (with their photos and state), replies with their
// cards, and the reply being streamed with what the assistant is doing meanwhile.
import { useEffect, useRef } from "react";
import { AuthImage } from "../components/AuthImage";
import { useLocale, useT } from "../i18n";
import { Cards } from "./Cards";
import { MicIcon } from "./icons";
import { previewOf } from "./previews";
import { STRINGS, TOOL_LABELS } from "./strings";
import type { ChatMessage } from "./types";
import type { Stream } from "./useChat";

function Photos({ ids }: { ids: string[] }) {
  const t = useT(STRINGS);
  if (!ids.length) return null;
  return (
    <div className="chat-photos">
      {ids.map((id) => {
        const url = previewOf(id);
        return url ? (
          <img key={id} src={url} alt={t("photo")} className="chat-photo" data-testid="message-photo" />
        ) : (
          <AuthImage key={id} src={`/api/v1/uploads/${id}`} alt={t("photoSent")} className="chat-photo" testId="message-photo" />
        );
      })}
    </div>
  );
}

function Bubble({ message, connected, onRetry }: { message: ChatMessage; connected: boolean; onRetry: (key: string) => void }) {
  const t = useT(STRINGS);
  const who = message.role === "user" ? t("you") : message.role === "support" ? t("support") : t("assistant");
  const duration = message.voice?.duration_s;
  return (
    <div className={`chat-msg ${message.role}${message.state ? ` ${message.state}` : ""}`} data-testid={`message-${message.role}`} data-state={message.state ?? "ok"}>
      <div className="chat-who">
        {who}
        {message.voice && (
          <span className="badge chat-voice" data-testid="voice-badge" title={t("voice", { s: duration ?? "?" })}>
            <MicIcon /> {typeof duration === "number" ? `${duration.toFixed(1)} s` : ""}
          </span>
        )}
      </div>
      <Photos ids={message.attachments} />
      {message.text && <div className="chat-text" data-testid="message-text">{message.text}</div>}
      <Cards cards={message.cards} />
      {message.state === "queued" && !connected && <div className="chat-state muted" data-testid="message-queued">{t("queued")}</div>}
      {(message.state === "sending" || (message.state === "queued" && connected)) && <div className="chat-state muted">{t("sending")}</div>}
      {message.state === "failed" && (
        <div className="chat-state error row" data-testid="message-failed">
          <span>{t("failed")}</span>
          <button type="button" onClick={() => onRetry(message.key)} data-testid="retry">
            {t("retry")}
          </button>
        </div>
      )}
    </div>
  );
}

function Streaming({ stream }: { stream: Stream }) {
  const t = useT(STRINGS);
  const { locale } = useLocale();
  const tool = stream.tool ? (TOOL_LABELS[locale][stream.tool] ?? stream.tool.replaceAll("_", " ")) : null;
  return (
    <div className="chat-msg assistant streaming" data-testid="message-streaming" aria-live="polite">
      <div className="chat-who">{t("assistant")}</div>
      {tool && <div className="chat-tool muted" data-testid="tool-activity">{t("tool", { tool })}</div>}
      {stream.text ? (
        <div className="chat-text" data-testid="streaming-text">{stream.text}</div>
      ) : (
        !tool && <div className="chat-typing muted">{t("thinking")}</div>
      )}
      <Cards cards={stream.cards} />
    </div>
  );
}

export function Messages({
  messages,
  stream,
  connected,
  onRetry,
}: {
  messages: ChatMessage[];
  stream: Stream | null;
  /** Queued messages say they wait for the connection only while there is none. */
  connected: boolean;
  onRetry: (key: string) => void;
}) {
  const end = useRef<HTMLDivElement>(null);
  const streamed = stream ? stream.text.length + stream.cards.length : 0;
  useEffect(() => {
    end.current?.scrollIntoView({ block: "end" });
  }, [messages.length, streamed, stream?.tool]);
  return (
    <div className="chat-messages" data-testid="messages">
      {messages.map((message) => (
        <Bubble key={message.key} message={message} connected={connected} onRetry={onRetry} />
      ))}
      {stream && <Streaming stream={stream} />}
      <div ref={end} />
    </div>
  );
}
