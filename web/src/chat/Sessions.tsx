// The person's conversations, newest first: a side column on wide screens, a drawer on phones.
import { useEffect, useState } from "react";
import { api, SignedOut } from "../api";
import { useLocale, useT } from "../i18n";
import { STRINGS } from "./strings";
import type { SessionSummary } from "./types";

function when(iso: string, locale: string): string {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString(locale, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function Sessions({
  current,
  version,
  open,
  onClose,
  onPick,
}: {
  current: string | null;
  version: number;
  open: boolean;
  onClose: () => void;
  onPick: (id: string | null) => void;
}) {
  const t = useT(STRINGS);
  const { locale } = useLocale();
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    const escape = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", escape);
    return () => window.removeEventListener("keydown", escape);
  }, [open, onClose]);

  useEffect(() => {
    let live = true;
    api<SessionSummary[]>("chat/sessions")
      .then((list) => {
        if (!live) return;
        setSessions(list);
        setError(null);
      })
      .catch((err) => live && !(err instanceof SignedOut) && setError(String(err.detail ?? err)));
    return () => {
      live = false;
    };
  }, [version, current]);

  return (
    <>
      {open && <div className="chat-drawer-backdrop" onClick={onClose} aria-hidden="true" />}
      <aside className={`chat-sessions${open ? " open" : ""}`} aria-label={t("sessions")} data-testid="sessions">
        <div className="chat-sessions-head">
          <h2>{t("sessions")}</h2>
          <button type="button" className="link chat-drawer-close" onClick={onClose}>
            {t("close")}
          </button>
        </div>
        <button type="button" className="primary" onClick={() => onPick(null)} data-testid="new-chat">
          {t("newChat")}
        </button>
        {error && <p className="error">{error}</p>}
        {sessions === null && !error && <p className="muted">…</p>}
        {sessions?.length === 0 && <p className="muted" data-testid="no-sessions">{t("noSessions")}</p>}
        <ul className="chat-session-list">
          {sessions?.map((s) => (
            <li key={s.id}>
              <button
                type="button"
                className={`chat-session${s.id === current ? " active" : ""}`}
                onClick={() => onPick(s.id)}
                data-testid="session-item"
                data-session-id={s.id}
                aria-current={s.id === current ? "page" : undefined}
              >
                <span className="chat-session-title" data-testid="session-title">
                  {s.title ?? t("untitled")}
                </span>
                <span className="muted">
                  {when(s.last_active_at, locale === "zh" ? "zh-CN" : "en")} ·{" "}
                  {t("turns", { n: s.turns })}
                  {s.handoff && <span className="badge warn">{t("handoffTag")}</span>}
                  {s.expired && <span className="badge">{t("expired")}</span>}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
    </>
  );
}
