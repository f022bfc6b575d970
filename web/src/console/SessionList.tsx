// The live conversations: who, when, how long, and whether someone is waiting for a human.
import { useLocale, useT } from "../i18n";
import { STRINGS, when } from "./strings";
import { isWaiting, type ConsoleSession } from "./types";

interface Props {
  meId: string;
  sessions: ConsoleSession[] | null;
  error: string | null;
  selected: string | null;
  waitingOnly: boolean;
  onWaitingOnly: (value: boolean) => void;
  onPick: (id: string) => void;
}

export function SessionList({ meId, sessions, error, selected, waitingOnly, onWaitingOnly, onPick }: Props) {
  const t = useT(STRINGS);
  const { locale } = useLocale();
  return (
    <section className="card console-list" data-testid="console-list" aria-label={t("conversations")}>
      <div className="row console-list-head">
        <h2>{t("conversations")}</h2>
        <label className="console-check">
          <input type="checkbox" checked={waitingOnly} onChange={(e) => onWaitingOnly(e.target.checked)} data-testid="waiting-only" />
          {t("waitingOnly")}
        </label>
      </div>
      {error && <p className="error" role="alert" data-testid="list-error">{t("listError", { detail: error })}</p>}
      {sessions === null && !error && <p className="muted">{t("loading")}</p>}
      {sessions?.length === 0 && <p className="muted" data-testid="list-empty">{waitingOnly ? t("emptyWaiting") : t("empty")}</p>}
      <ul className="console-sessions">
        {sessions?.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              className={`console-session${s.id === selected ? " active" : ""}`}
              onClick={() => onPick(s.id)}
              data-testid="session-row"
              data-session-id={s.id}
              aria-current={s.id === selected ? "true" : undefined}
            >
              <span className="console-who">
                <strong>{s.user_name || s.user_email || t("deleted")}</strong>
                {s.user_name && s.user_email && <span className="muted console-email">{s.user_email}</span>}
              </span>
              {s.title && <span className="console-title" data-testid="session-row-title">{s.title}</span>}
              <span className="row console-meta">
                <span className="muted">{when(s.last_active_at, locale)}</span>
                <span className="muted">{t("turns", { n: s.turns })}</span>
                {isWaiting(s) && <span className="badge warn" data-testid="badge-waiting">{t("waiting")}</span>}
                {s.handoff && s.staff_id !== null && (
                  <span className="badge ok" data-testid="badge-taken">{s.staff_id === meId ? t("takenYou") : t("taken")}</span>
                )}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
