// The support console: live conversations on the left, one conversation (transcript with tool calls,
// take over / reply / hand back) in the middle, the person and internal notes beside it. On a phone:
// the list, then the conversation.
import { useCallback, useState } from "react";
import type { Me } from "../api";
import { Controls } from "../console/Controls";
import { Notes } from "../console/Notes";
import { PersonPanel } from "../console/PersonPanel";
import { SessionList } from "../console/SessionList";
import { STRINGS } from "../console/strings";
import { Transcript } from "../console/Transcript";
import { useSessions } from "../console/useSessions";
import { useTranscript } from "../console/useTranscript";
import "../console/console.css";
import { useT } from "../i18n";
import { go } from "../route";

function Conversation({ me, sessionId, onActivity }: { me: Me; sessionId: string; onActivity: () => void }) {
  const t = useT(STRINGS);
  const { session, messages, state, error, absorb } = useTranscript(sessionId, onActivity);
  const done = useCallback(
    (events: Parameters<typeof absorb>[0], next: Parameters<typeof absorb>[1]) => {
      absorb(events, next);
      onActivity();
    },
    [absorb, onActivity],
  );
  if (state === "gone") {
    return (
      <div className="console-main">
        <button type="button" className="link console-back" onClick={() => go("console")} data-testid="console-back">{t("back")}</button>
        <p className="notice" data-testid="console-not-found">{t("notFound")}</p>
      </div>
    );
  }
  return (
    <div className="console-detail" data-testid="console-detail" data-session-id={sessionId}>
      <div className="console-main">
        <button type="button" className="link console-back" onClick={() => go("console")} data-testid="console-back">{t("back")}</button>
        <section className="card stack">
          <div className="row console-head">
            <h2>{t("transcript")}</h2>
            <span className={`badge ${state === "live" ? "ok" : "warn"} console-stream`} data-testid="stream-state" data-state={state}>
              {state === "live" ? t("live") : state === "reconnecting" ? t("reconnecting") : t("connecting")}
            </span>
          </div>
          {error && <p className="error" role="alert" data-testid="transcript-error">{error}</p>}
          {session ? <Transcript messages={messages} /> : <p className="muted">{t("loading")}</p>}
          {session && <Controls session={session} meId={me.id} onDone={done} />}
        </section>
      </div>
      <div className="console-side">
        <PersonPanel sessionId={sessionId} />
        <Notes sessionId={sessionId} />
      </div>
    </div>
  );
}

export default function ConsolePage({ me, sessionId }: { me: Me; sessionId: string | null }) {
  const t = useT(STRINGS);
  const [waitingOnly, setWaitingOnly] = useState(false);
  const { sessions, error, refresh } = useSessions(waitingOnly);
  const activity = useCallback(() => void refresh(), [refresh]);
  return (
    <div className={`console${sessionId ? " has-detail" : ""}`} data-testid="console-page">
      <SessionList
        meId={me.id}
        sessions={sessions}
        error={error}
        selected={sessionId}
        waitingOnly={waitingOnly}
        onWaitingOnly={setWaitingOnly}
        onPick={(id) => go("console", id)}
      />
      {sessionId ? (
        <Conversation key={sessionId} me={me} sessionId={sessionId} onActivity={activity} />
      ) : (
        <p className="card muted console-pick" data-testid="console-pick">{t("pick")}</p>
      )}
    </div>
  );
}
