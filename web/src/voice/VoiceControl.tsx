// The chat composer's microphone: hold to talk (pointer or Space), or switch hands-free on and just
// talk. The spoken turn lands in the chat history like a typed one (`onTurnDone` reloads it).
import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type KeyboardEvent,
  type PointerEvent,
} from "react";

import { VoiceClient, type Snapshot } from "./client";
import { translate, type StringKey } from "./strings";
import "./voice.css";

export interface VoiceControlProps {
  sessionId: string | null;
  locale: "zh" | "en";
  onSession: (id: string) => void;
  onTurnDone: () => void;
}

const NOTICE_CODES = new Set(["no_speech", "not_understood", "language_unsupported", "asr_unavailable", "too_long", "clipped"]);
const noop = () => () => undefined;

export function VoiceControl({ sessionId, locale, onSession, onTurnDone }: VoiceControlProps) {
  const callbacks = useRef({ onSession, onTurnDone });
  callbacks.current = { onSession, onTurnDone };
  const [client, setClient] = useState<VoiceClient | null>(null);

  // Made in an effect (not during render) so a remount, or StrictMode's double run, never reuses
  // a disposed client; the socket and microphone only open on the first press.
  useEffect(() => {
    const made = new VoiceClient({
      sessionId,
      locale,
      onSession: (id) => callbacks.current.onSession(id),
      onTurnDone: () => callbacks.current.onTurnDone(),
    });
    setClient(made);
    return () => made.dispose();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps -- later options go through setOptions

  useEffect(() => {
    client?.setOptions({
      sessionId,
      locale,
      onSession: (id) => callbacks.current.onSession(id),
      onTurnDone: () => callbacks.current.onTurnDone(),
    });
  }, [client, sessionId, locale]);

  const subscribe = useCallback((listener: () => void) => (client ? client.subscribe(listener) : noop()), [client]);
  const snap = useSyncExternalStore(subscribe, () => client?.snapshot ?? null);
  const t = (key: StringKey, vars?: Record<string, string | number>) => translate(locale, key, vars);
  const disabled = !client || !!snap?.unavailable;
  const holding = useRef(false);

  const down = () => {
    if (disabled || holding.current) return;
    holding.current = true;
    client.press();
  };
  const up = () => {
    if (!holding.current) return;
    holding.current = false;
    client?.release();
  };
  const onPointerDown = (event: PointerEvent<HTMLButtonElement>) => {
    if (event.button !== 0) return;
    event.preventDefault(); // keeps focus and stops a long press selecting text on phones
    event.currentTarget.setPointerCapture(event.pointerId);
    down();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key !== " " && event.key !== "Enter") return;
    event.preventDefault();
    if (!event.repeat) down();
  };
  const onKeyUp = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key !== " " && event.key !== "Enter") return;
    event.preventDefault();
    up();
  };

  // The status floats above the control, right-aligned with it: never wider than the room to its left.
  const box = useRef<HTMLDivElement>(null);
  const [room, setRoom] = useState(340);
  useLayoutEffect(() => {
    const measure = () => {
      if (box.current) setRoom(Math.max(160, Math.min(340, box.current.getBoundingClientRect().right - 12)));
    };
    measure();
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }, [snap]);

  // Typing elsewhere (the composer under the message box) closes the box.
  useEffect(() => {
    if (!client) return;
    const focused = (event: FocusEvent) => {
      if (box.current && event.target instanceof Node && !box.current.contains(event.target)) client.dismiss();
    };
    document.addEventListener("focusin", focused);
    return () => document.removeEventListener("focusin", focused);
  }, [client]);

  const state = snap?.state ?? "idle";
  const handsFree = snap?.handsFree ?? false;
  const micLabel = snap?.unavailable ? t("voice_off") : handsFree ? t("talk_over") : t("hold_to_talk");

  return (
    <div className="ik-voice" data-testid="voice" data-state={state} ref={box}>
      <VoiceStatus snap={snap} locale={locale} t={t} width={room} onDismiss={() => client?.dismiss()} />
      <div className="ik-voice-buttons">
        {state === "speaking" && (
          <button type="button" className="ik-voice-stop" data-testid="voice-stop" onClick={() => client?.stop()}>
            {t("stop")}
          </button>
        )}
        <button
          type="button"
          className={`ik-voice-hands-free${handsFree ? " on" : ""}`}
          data-testid="voice-hands-free"
          aria-pressed={handsFree}
          disabled={disabled}
          title={handsFree ? t("hands_free_on") : t("hands_free")}
          onClick={() => void client?.setHandsFree(!handsFree)}
        >
          {t("hands_free")}
        </button>
        <button
          type="button"
          className={`ik-voice-mic ${state}`}
          data-testid="voice-mic"
          aria-label={micLabel}
          title={micLabel}
          disabled={disabled}
          onPointerDown={onPointerDown}
          onPointerUp={up}
          onPointerCancel={up}
          onLostPointerCapture={up}
          onKeyDown={onKeyDown}
          onKeyUp={onKeyUp}
          onBlur={up}
          onContextMenu={(event) => event.preventDefault()}
        >
          <MicIcon />
        </button>
      </div>
    </div>
  );
}

function VoiceStatus({
  snap,
  locale,
  t,
  width,
  onDismiss,
}: {
  snap: Snapshot | null;
  width: number;
  onDismiss: () => void;
  locale: "zh" | "en";
  t: (key: StringKey, vars?: Record<string, string | number>) => string;
}) {
  if (!snap || snap.dismissed) return null;
  const lines: { key: string; text: string; className: string }[] = [];
  if (snap.unavailable) {
    const kind = snap.unavailable.kind;
    lines.push({ key: "unavailable", text: t(`unavailable_${kind}`, { detail: snap.unavailable.detail }), className: "error" });
  } else {
    if (snap.preparing) {
      lines.push({ key: "preparing", text: snap.state === "listening" ? t("preparing_hold") : t("preparing"), className: "muted" });
    } else if (snap.state !== "idle") {
      const key: StringKey =
        snap.state === "listening" ? (snap.handsFree ? "listening_hands_free" : "listening") : snap.state;
      lines.push({ key: "state", text: t(key), className: "muted" });
    }
    if (snap.languagesHeard && !snap.languagesHeard.includes(locale) && !snap.notice) {
      lines.push({ key: "english-only", text: t("english_only"), className: "muted" });
    }
    if (snap.transcript) lines.push({ key: "transcript", text: t("you_said", { text: snap.transcript }), className: "" });
    if (snap.speaking) lines.push({ key: "speaking", text: t("assistant_says", { text: snap.speaking }), className: "muted" });
    if (snap.notice) {
      const code = snap.notice.code;
      const fallback = NOTICE_CODES.has(code) ? t(`notice_${code}` as StringKey) : t("notice_other", { code });
      lines.push({ key: "notice", text: snap.notice.text || fallback, className: "notice" });
    }
    if (snap.error) {
      const text =
        snap.error.code === "connection_lost"
          ? t("error_connection_lost", { detail: snap.error.detail })
          : t("error_other", { detail: snap.error.detail || snap.error.code });
      lines.push({ key: "error", text, className: "error" });
    }
  }
  if (lines.length === 0) return null;
  return (
    <div className="ik-voice-status" data-testid="voice-status" role="status" aria-live="polite" style={{ maxWidth: width }}>
      <button type="button" className="ik-voice-dismiss link" data-testid="voice-dismiss" aria-label={t("dismiss")} title={t("dismiss")} onClick={onDismiss}>
        ×
      </button>
      {lines.map((line) => (
        <div key={line.key} className={`ik-voice-line ${line.className}`} data-testid={`voice-${line.key}`}>
          {line.text}
        </div>
      ))}
    </div>
  );
}

function MicIcon() {
  return (
    <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
      <path
        fill="currentColor"
        d="M12 14a3 3 0 0 0 3-3V5a3 3 0 1 0-6 0v6a3 3 0 0 0 3 3Zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2Z"
      />
    </svg>
  );
}
