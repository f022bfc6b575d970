// The open conversation: its messages, the reply being streamed, support handoff, and the turns
// this tab sent. Frames from the socket are applied to whichever session is open; a turn's own
// frames arrive in order between its `session` and `done`, and other tabs' or support's frames for
// the open session (the socket `watch`es it) are shown as they come.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, SignedOut } from "../api";
import type { Locale } from "../i18n";
import { accepted, forgetUnaccepted, holdUntilAccepted } from "./draft";
import { ChatSocket, type SocketStatus } from "./socket";
import type { Card, ChatMessage, Role, ServerFrame, SessionDetail, TurnTiming, VoiceMeta } from "./types";

export type Handoff = false | "active" | "waiting";

export interface Stream {
  text: string;
  cards: Card[];
  tool: string | null;
}

interface Outgoing {
  key: string;
  text: string;
  attachments: string[];
}

interface InFlight extends Outgoing {
  sessionAtSend: string | null;
  gotSession: boolean;
  timing: TurnTiming;
  turn: number;
}

/** How long a `watch` may stay unanswered before sending goes ahead anyway. */
const WATCH_WAIT_MS = 3_000;

let nextKey = 0;
export const newKey = (): string => `local-${Date.now().toString(36)}-${(nextKey++).toString(36)}`;

export function fromHistory(history: SessionDetail["history"]): ChatMessage[] {
  return history
    .filter((event) => event.event === "message")
    .map((event, index) => toMessage(event.data, `h-${index}`));
}

function toMessage(data: Record<string, unknown>, fallbackKey: string): ChatMessage {
  const role = (data.role === "user" || data.role === "support" ? data.role : "assistant") as Role;
  return {
    key: typeof data.id === "string" && data.id ? data.id : fallbackKey,
    role,
    text: typeof data.text === "string" ? data.text : "",
    cards: Array.isArray(data.cards) ? (data.cards as Card[]) : [],
    attachments: Array.isArray(data.attachments) ? (data.attachments as string[]) : [],
    voice: (data.voice as VoiceMeta | undefined) ?? null,
  };
}

/**
 * Local messages that never got their `done`, set against the history the server keeps: one the
 * server answered disappears into the history; one it took but did not answer marks its history
 * copy for Retry; one it never got stays, with Retry.
 */
function reconcile(history: ChatMessage[], local: ChatMessage[]): ChatMessage[] {
  const merged = history.map((m) => ({ ...m }));
  const used = new Set<number>();
  const tail: ChatMessage[] = [];
  for (const message of local) {
    if (message.state === "queued") {
      tail.push(message);
      continue;
    }
    let found = -1;
    for (let i = merged.length - 1; i >= 0; i--) {
      if (!used.has(i) && merged[i].role === "user" && merged[i].text === message.text) {
        found = i;
        break;
      }
    }
    if (found < 0) {
      tail.push({ ...message, state: "failed" });
      continue;
    }
    used.add(found);
    const answered = merged.slice(found + 1).some((m) => m.role !== "user");
    if (!answered) merged[found] = { ...merged[found], state: "failed", attachments: message.attachments };
  }
  return [...merged, ...tail];
}

export interface ChatApi {
  sessionId: string | null;
  messages: ChatMessage[];
  stream: Stream | null;
  handoff: Handoff;
  status: SocketStatus;
  loading: boolean;
  loadError: string | null;
  notFound: boolean;
  error: string | null;
  busy: boolean;
  /** Bumped when the session list may have changed. */
  sessionsVersion: number;
  /** The session the socket last confirmed it follows (for other tabs' turns). */
  watching: string | null;
  send: (text: string, attachments: string[]) => void;
  retry: (key: string) => void;
  reload: () => void;
  dismissError: () => void;
}

export function useChat(routeSession: string | null, locale: Locale): ChatApi {
  const [sessionId, setSessionId] = useState<string | null>(routeSession);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [stream, setStream] = useState<Stream | null>(null);
  const [handoff, setHandoff] = useState<Handoff>(false);
  const [status, setStatus] = useState<SocketStatus>("connecting");
  const [loading, setLoading] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sessionsVersion, setSessionsVersion] = useState(0);
  const [watching, setWatching] = useState<string | null>(null);

  const open = useRef<string | null>(null);
  const socket = useRef<ChatSocket | null>(null);
  const outbox = useRef<Outgoing[]>([]);
  const inflight = useRef<InFlight | null>(null);
  const watchPending = useRef(false);
  const reloading = useRef(false);
  const watchTimer = useRef<number | undefined>(undefined);
  const localeRef = useRef(locale);
  const loadSeq = useRef(0);
  const messagesRef = useRef(messages);
  localeRef.current = locale;
  messagesRef.current = messages;

  const patch = useCallback((key: string, change: Partial<ChatMessage>) => {
    setMessages((all) => all.map((m) => (m.key === key ? { ...m, ...change } : m)));
  }, []);

  const flush = useCallback(() => {
    const ws = socket.current;
    if (!ws || !ws.isOpen || watchPending.current || reloading.current || inflight.current) return;
    const next = outbox.current[0];
    if (!next) return;
    const frame = {
      type: "message",
      text: next.text,
      session_id: open.current,
      locale: localeRef.current,
      attachments: next.attachments,
    };
    if (!ws.send(frame)) return;
    outbox.current.shift();
    const turns = (window.__ikTurns ??= []);
    const timing: TurnTiming = { sent_at: performance.now(), first_token_ms: null, done_ms: null, session_id: open.current };
    turns.push(timing);
    performance.mark(`ik-turn-${turns.length}-sent`);
    inflight.current = { ...next, sessionAtSend: open.current, gotSession: false, timing, turn: turns.length };
    setBusy(true);
    patch(next.key, { state: "sending" });
  }, [patch]);

  const watch = useCallback(
    (id: string) => {
      if (!socket.current?.send({ type: "watch", session_id: id })) return;
      watchPending.current = true;
      window.clearTimeout(watchTimer.current);
      watchTimer.current = window.setTimeout(() => {
        watchPending.current = false;
        flush();
      }, WATCH_WAIT_MS);
    },
    [flush],
  );

  const watched = useCallback(() => {
    watchPending.current = false;
    window.clearTimeout(watchTimer.current);
    flush();
  }, [flush]);

  /** Loads the session's history; `merge` keeps this tab's unfinished messages (see reconcile). */
  const load = useCallback(async (id: string, merge = false) => {
    const seq = ++loadSeq.current;
    setLoading(true);
    setLoadError(null);
    setNotFound(false);
    try {
      const detail = await api<SessionDetail>(`chat/sessions/${encodeURIComponent(id)}`);
      if (seq !== loadSeq.current || open.current !== id) return;
      const history = fromHistory(detail.history);
      setMessages((all) => {
        const local = all.filter((m) => m.state === "queued" || (merge && (m.state === "failed" || m.state === "sending")));
        return reconcile(history, local);
      });
      setHandoff(detail.handoff ? "active" : false);
    } catch (err) {
      if (seq !== loadSeq.current || err instanceof SignedOut) return;
      if (err instanceof ApiError && err.status === 404) setNotFound(true);
      else setLoadError(err instanceof ApiError ? err.detail : String(err));
    } finally {
      if (seq === loadSeq.current) setLoading(false);
    }
  }, []);

  const finishTurn = useCallback(
    (outcome: "done" | "failed") => {
      const turn = inflight.current;
      if (!turn) return;
      inflight.current = null;
      setBusy(false);
      if (outcome === "done") {
        turn.timing.done_ms = performance.now() - turn.timing.sent_at;
        performance.mark(`ik-turn-${turn.turn}-done`);
        patch(turn.key, { state: undefined });
      } else {
        patch(turn.key, { state: "failed" });
      }
      setSessionsVersion((v) => v + 1);
      flush();
    },
    [flush, patch],
  );

  const onFrame = useCallback(
    (frame: ServerFrame) => {
      const data = frame.data ?? {};
      if (frame.event === "watching") {
        setWatching(frame.session_id ?? null);
        watched();
        return;
      }
      if (frame.event === "error") {
        const detail = String(data.detail ?? "error");
        if (watchPending.current) {
          // The watch was refused: this tab still works, it just does not follow other devices.
          console.warn("chat watch refused:", detail);
          watched();
          return;
        }
        const turn = inflight.current;
        if (turn && !turn.gotSession) {
          // Refused before it started (the draft keeps its text; the bubble offers Retry).
          finishTurn("failed");
        }
        setError(detail);
        return;
      }
      const turn = inflight.current;
      if (frame.event === "session" && turn && !turn.gotSession && turn.sessionAtSend === open.current) {
        turn.gotSession = true;
        accepted(turn.key);
        const id = String(data.session_id ?? frame.session_id);
        turn.timing.session_id = id;
        setWatching(id); // the server follows every session a turn on this socket used
        if (open.current !== id) {
          open.current = id;
          setSessionId(id);
          setNotFound(false);
          location.replace(`#/chat/${encodeURIComponent(id)}`);
        }
        setStream({ text: "", cards: [], tool: null });
        setSessionsVersion((v) => v + 1);
        return;
      }
      if (!frame.session_id || frame.session_id !== open.current) {
        if (frame.event === "done" || frame.event === "message") setSessionsVersion((v) => v + 1);
        return;
      }
      const mine = turn !== null && turn.gotSession;
      switch (frame.event) {
        case "tool_started":
          setStream((s) => ({ text: s?.text ?? "", cards: s?.cards ?? [], tool: String(data.tool ?? "") }));
          break;
        case "tool_finished":
          setStream((s) => (s ? { ...s, tool: null } : s));
          break;
        case "token":
          if (mine && turn.timing.first_token_ms === null) {
            turn.timing.first_token_ms = performance.now() - turn.timing.sent_at;
            performance.mark(`ik-turn-${turn.turn}-first-token`);
          }
          setStream((s) => ({ text: (s?.text ?? "") + String(data.text ?? ""), cards: s?.cards ?? [], tool: s?.tool ?? null }));
          break;
        case "reset":
          setStream((s) => (s ? { ...s, text: "" } : s));
          break;
        case "card":
          if (data.card) setStream((s) => ({ text: s?.text ?? "", cards: [...(s?.cards ?? []), data.card as Card], tool: s?.tool ?? null }));
          break;
        case "message": {
          const message = toMessage(data, newKey());
          if (message.role === "user") {
            // Another tab of this person, or a photo/voice turn: shown as theirs.
            setMessages((all) => (all.some((m) => m.key === message.key) ? all : [...all, message]));
            setStream(null);
          } else {
            setMessages((all) => [
              ...all.map((m) => (m.state === "failed" && !m.key.startsWith("local-") ? { ...m, state: undefined } : m)),
              message,
            ]);
            setStream(mine ? { text: "", cards: [], tool: null } : null);
          }
          break;
        }
        case "handoff":
          setHandoff(data.active ? (data.waiting_for_support ? "waiting" : "active") : false);
          break;
        case "done":
          setStream(null);
          if (mine) finishTurn("done");
          setSessionsVersion((v) => v + 1);
          break;
      }
    },
    [finishTurn, watched],
  );

  const onReady = useCallback(
    (reconnected: boolean) => {
      const turn = inflight.current;
      if (turn) {
        // Its frames went with the old socket: the history (below) tells whether it was answered.
        inflight.current = null;
        setBusy(false);
        patch(turn.key, { state: "failed" });
      }
      setStream(null);
      setError(null);
      setWatching(null);
      const id = open.current;
      if (id) {
        watch(id);
        if (reconnected) {
          // Replies finished while this tab was away come from the history; queued messages wait for it.
          reloading.current = true;
          void load(id, true).finally(() => {
            reloading.current = false;
            flush();
          });
        }
      }
      flush();
    },
    [flush, load, patch, watch],
  );

  const frameRef = useRef(onFrame);
  const readyRef = useRef(onReady);
  frameRef.current = onFrame;
  readyRef.current = onReady;

  // One socket for the page's lifetime.
  useEffect(() => {
    const chat = new ChatSocket({ onFrame: (f) => frameRef.current(f), onStatus: setStatus, onReady: (r) => readyRef.current(r) });
    socket.current = chat;
    chat.start();
    return () => {
      chat.stop();
      if (socket.current === chat) socket.current = null;
    };
  }, []);

  // The route names the open session; a session started here moves the route itself.
  useEffect(() => {
    if (routeSession === open.current) return;
    open.current = routeSession;
    setSessionId(routeSession);
    outbox.current = [];
    inflight.current = null;
    forgetUnaccepted();
    setBusy(false);
    setStream(null);
    setError(null);
    setHandoff(false);
    setNotFound(false);
    setMessages([]);
    setWatching(null);
    reloading.current = false;
    if (routeSession) {
      void load(routeSession);
      watch(routeSession);
    } else {
      loadSeq.current++;
      setLoading(false);
      setLoadError(null);
    }
  }, [routeSession, load, watch]);

  const send = useCallback(
    (text: string, attachments: string[]) => {
      const key = newKey();
      holdUntilAccepted(key, text);
      setError(null);
      setMessages((all) => [...all, { key, role: "user", text, cards: [], attachments, state: "queued" }]);
      outbox.current.push({ key, text, attachments });
      flush();
    },
    [flush],
  );

  const retry = useCallback(
    (key: string) => {
      const message = messagesRef.current.find((m) => m.key === key);
      if (!message || outbox.current.some((o) => o.key === key) || inflight.current?.key === key) return;
      outbox.current.push({ key, text: message.text, attachments: message.attachments });
      holdUntilAccepted(key, message.text);
      patch(key, { state: "queued" });
      flush();
    },
    [flush, patch],
  );

  const reload = useCallback(() => {
    if (open.current) void load(open.current);
  }, [load]);

  return {
    sessionId,
    messages,
    stream,
    handoff,
    status,
    loading,
    loadError,
    notFound,
    error,
    busy,
    sessionsVersion,
    watching,
    send,
    retry,
    reload,
    dismissError: () => setError(null),
  };
}
