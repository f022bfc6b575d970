// The conversation as support reads it: every message, the cards it showed as compact rows, and the
// tool calls behind each assistant reply with their arguments and what came back.
import { useEffect, useRef } from "react";
import { useT } from "../i18n";
import { STRINGS } from "./strings";
import type { EventData, ToolCall, TranscriptCard } from "./types";

function ToolCalls({ calls }: { calls: ToolCall[] }) {
  const t = useT(STRINGS);
  return (
    <details className="console-tools" data-testid="tool-calls">
      <summary>{t("toolCalls", { n: calls.length })}</summary>
      <ol>
        {calls.map((call, i) => (
          <li key={i} className="console-tool" data-testid="tool-call" data-tool={call.tool}>
            <div className="row">
              <code data-testid="tool-name">{call.tool}</code>
              <span className={`badge ${call.ok ? "ok" : "bad"}`}>{call.ok ? t("toolOk") : t("toolFailed")}</span>
            </div>
            <div className="muted console-tool-label">{t("arguments")}</div>
            {Object.keys(call.arguments ?? {}).length ? (
              <pre className="console-json" data-testid="tool-arguments">{JSON.stringify(call.arguments, null, 2)}</pre>
            ) : (
              <div className="muted">{t("noArguments")}</div>
            )}
            <div className="muted console-tool-label">{t("facts")}</div>
            {call.error && <div className="error" data-testid="tool-error">{call.error}</div>}
            {call.facts.length ? (
              <ul className="console-facts" data-testid="tool-facts">
                {call.facts.map((fact, j) => <li key={j}>{fact}</li>)}
              </ul>
            ) : (
              !call.error && <div className="muted">{t("noFacts")}</div>
            )}
          </li>
        ))}
      </ol>
    </details>
  );
}

function Cards({ cards }: { cards: TranscriptCard[] }) {
  const t = useT(STRINGS);
  return (
    <ul className="console-cards" aria-label={t("cards")}>
      {cards.map((card, i) => {
        const price = card.data?.price;
        return (
          <li key={`${card.kind}-${card.id}-${i}`} className="row" data-testid="transcript-card">
            <span className="badge">{card.kind}</span>
            <span>{card.title ?? card.id}</span>
            {typeof price === "number" && <span className="muted">¥{price}</span>}
          </li>
        );
      })}
    </ul>
  );
}

export function Transcript({ messages }: { messages: EventData[] }) {
  const t = useT(STRINGS);
  // Follow new messages inside the transcript's own scroll box, never by scrolling the page.
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [messages.length]);
  if (!messages.length) return <p className="muted" data-testid="transcript-empty">{t("nothingYet")}</p>;
  return (
    <div className="console-transcript" data-testid="transcript" ref={box}>
      {messages.map((m, i) => {
        const role = m.role ?? "assistant";
        const label = role === "user" ? t("person") : role === "support" ? t("support") : t("assistant");
        return (
          <div key={m.id ?? i} className={`console-msg ${role}`} data-testid={`transcript-${role}`}>
            <div className="muted console-msg-who">{label}</div>
            {m.text && <div className="console-msg-text" data-testid="transcript-text">{m.text}</div>}
            {m.voice && (
              <div className="muted" data-testid="transcript-voice">
                🎤{" "}
                {t("spoken", {
                  s: m.voice.duration_s?.toFixed(1) ?? "?",
                  engine: m.voice.engine ?? "?",
                  c: typeof m.voice.confidence === "number" ? m.voice.confidence.toFixed(2) : "—",
                })}
              </div>
            )}
            {Array.isArray(m.attachments) && m.attachments.length > 0 && (
              <div className="muted">{t("attachments", { n: m.attachments.length })}</div>
            )}
            {Array.isArray(m.cards) && m.cards.length > 0 && <Cards cards={m.cards} />}
            {Array.isArray(m.tools) && m.tools.length > 0 && <ToolCalls calls={m.tools} />}
          </div>
        );
      })}
    </div>
  );
}
