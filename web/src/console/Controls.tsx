// Take over, answer as support, hand back. What support typed survives a failed send; the API's
// reason (409: nobody took it over, the assistant has it back...) is shown as it came.
import { useState, type FormEvent } from "react";
import { api, SignedOut } from "../api";
import { useT } from "../i18n";
import { describe, STRINGS } from "./strings";
import { isWaiting, type ChatEvent, type SessionDetail } from "./types";

type Info = Omit<SessionDetail, "history">;
interface Action {
  session: Info;
  events: ChatEvent[];
}

const MAX_REPLY = 4000;

export function Controls({ session, meId, onDone }: { session: Info; meId: string; onDone: (events: ChatEvent[], next: Info) => void }) {
  const t = useT(STRINGS);
  const [reply, setReply] = useState("");
  const [answerWaiting, setAnswerWaiting] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const path = `support/sessions/${encodeURIComponent(session.id)}`;

  const act = async (action: string, body?: unknown): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      const result = await api<Action>(`${path}/${action}`, { method: "POST", json: body });
      onDone(result.events, result.session);
      return true;
    } catch (failure) {
      if (!(failure instanceof SignedOut)) setError(describe(failure));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (!reply.trim()) return;
    if (await act("reply", { text: reply.trim() })) setReply("");
  };

  const mine = session.handoff && session.staff_id === meId;
  const other = session.handoff && session.staff_id !== null && !mine;
  const canReply = session.handoff && !other;
  return (
    <section className="console-controls stack" data-testid="controls" data-handoff={String(session.handoff)}>
      <p className={session.handoff ? "notice" : "muted"} data-testid="control-state">
        {mine ? t("youHaveIt") : other ? t("someoneHasIt") : isWaiting(session) ? t("waitingBanner") : t("assistantHasIt")}
      </p>
      <div className="row">
        {!mine && (
          <button type="button" className="primary" disabled={busy} onClick={() => void act("takeover")} data-testid="take-over">
            {t("takeOver")}
          </button>
        )}
        {session.handoff && (
          <>
            <button type="button" disabled={busy} onClick={() => void act("handback", { answer_waiting: answerWaiting })} data-testid="hand-back">
              {t("handBack")}
            </button>
            <label className="console-check">
              <input type="checkbox" checked={answerWaiting} onChange={(e) => setAnswerWaiting(e.target.checked)} data-testid="answer-waiting" />
              {t("answerWaiting")}
            </label>
          </>
        )}
      </div>
      <form className="console-reply" onSubmit={(e) => void send(e)}>
        <textarea
          value={reply}
          onChange={(e) => setReply(e.target.value)}
          placeholder={t("replyPlaceholder")}
          aria-label={t("replyPlaceholder")}
          maxLength={MAX_REPLY}
          rows={2}
          disabled={!canReply}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void send(e);
          }}
          data-testid="reply-input"
        />
        <button type="submit" className="primary" disabled={!canReply || busy || !reply.trim()} data-testid="reply-send">
          {busy ? t("working") : t("send")}
        </button>
      </form>
      {error && <p className="error" role="alert" data-testid="control-error">{error}</p>}
    </section>
  );
}
