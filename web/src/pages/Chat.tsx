// The person's chat with the style advisor: streamed replies with product, picture and try-on
// cards over one WebSocket that reconnects by itself, the list of their conversations, photo
// upload, and support handoff. Nothing typed is lost (see chat/draft.ts).
import { useCallback, useState } from "react";
import type { Me } from "../api";
import { useLocale, useT } from "../i18n";
import { go } from "../route";
import "../chat/chat.css";
import { Composer } from "../chat/Composer";
import { forgetUnaccepted, savedDraft, setComposerDraft } from "../chat/draft";
import { Messages } from "../chat/Messages";
import { Sessions } from "../chat/Sessions";
import { STRINGS } from "../chat/strings";
import { useChat } from "../chat/useChat";
import { VoiceControl } from "../voice/VoiceControl";

function initialDraft(): string {
  const text = savedDraft();
  setComposerDraft(text);
  forgetUnaccepted();
  return text;
}

export function ChatPage({ me, sessionId }: { me: Me; sessionId: string | null }) {
  const t = useT(STRINGS);
  const { locale } = useLocale();
  const chat = useChat(sessionId, locale);
  const [drawer, setDrawer] = useState(false);
  const [draft] = useState(initialDraft);

  const pick = useCallback((id: string | null) => {
    setDrawer(false);
    if (id) go("chat", id);
    else go("chat");
  }, []);

  // A spoken turn may start a session: open it here too (the socket then watches it).
  const current = chat.sessionId;
  const voiceSession = useCallback((id: string) => {
    if (id !== current) go("chat", id);
  }, [current]);

  const empty = !chat.loading && !chat.notFound && !chat.loadError && chat.messages.length === 0 && !chat.stream;

  return (
    <div className="chat-page" data-testid="chat-page" data-user={me.id} data-session-id={chat.sessionId ?? ""} data-watching={chat.watching ?? ""} data-socket={chat.status}>
      <Sessions current={chat.sessionId} version={chat.sessionsVersion} open={drawer} onClose={() => setDrawer(false)} onPick={pick} />
      <section className="chat-main">
        <div className="chat-toolbar">
          <button type="button" className="chat-drawer-toggle" onClick={() => setDrawer(true)} data-testid="sessions-toggle">
            ☰ {t("sessions")}
          </button>
          <button type="button" className="link" onClick={() => pick(null)} data-testid="new-chat-top">
            {t("newChat")}
          </button>
        </div>
        {chat.status === "reconnecting" && (
          <div className="notice chat-banner" role="status" data-testid="reconnecting">
            {t("reconnecting")}
          </div>
        )}
        {chat.handoff && (
          <div className="notice chat-banner" role="status" data-testid="handoff-banner">
            {chat.handoff === "waiting" ? t("handoffWaiting") : t("handoff")}
          </div>
        )}
        {chat.error && (
          <div className="error chat-banner chat-error row" role="alert" data-testid="chat-error">
            <span>{t("error", { detail: chat.error })}</span>
            <button type="button" className="link" onClick={chat.dismissError}>
              {t("close")}
            </button>
          </div>
        )}
        {chat.loading && <div className="muted chat-loading" data-testid="history-loading">{t("loadingHistory")}</div>}
        {chat.notFound && <div className="notice" data-testid="not-found">{t("notFound")}</div>}
        {chat.loadError && <div className="error" role="alert">{t("historyFailed", { detail: chat.loadError })}</div>}
        {empty && (
          <div className="chat-empty" data-testid="chat-empty">
            <h2>{t("empty")}</h2>
            <p className="muted">{t("emptyHint")}</p>
          </div>
        )}
        <Messages messages={chat.messages} stream={chat.stream} connected={chat.status === "open"} onRetry={chat.retry} />
        <Composer
          initial={draft}
          onSend={chat.send}
          extra={<VoiceControl sessionId={chat.sessionId} locale={locale} onSession={voiceSession} onTurnDone={chat.reload} />}
        />
      </section>
    </div>
  );
}
