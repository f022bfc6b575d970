// One person's voice conversation: the microphone, the /voice/ws socket and the speaker, outside
// React so that audio callbacks never wait for a render. The component reads `snapshot` and calls
// `press`/`release`/`setHandsFree`/`stop`.

import { SignedOut, accessToken, api, socketUrl } from "../api";
import { MicError, Microphone, type MicProblem } from "./capture";
import { Player } from "./player";

export type VoiceState = "idle" | "listening" | "recognising" | "speaking";

/** Why voice cannot be used at all: the button is disabled and the text composer carries on. */
export type Unavailable = { kind: MicProblem | "server"; detail: string };

export interface Notice {
  code: string;
  text: string;
}

export interface Snapshot {
  state: VoiceState;
  /** The socket is waiting for the speech engines (they load on first use). */
  preparing: boolean;
  handsFree: boolean;
  /** What the recogniser heard last. */
  transcript: string | null;
  /** The sentence the assistant is saying. */
  speaking: string | null;
  notice: Notice | null;
  /** The server's `error` event (`code`, `detail`), or `connection_lost` when the socket dropped. */
  error: { code: string; detail: string } | null;
  unavailable: Unavailable | null;
  /** The person closed the message box; it opens again with the next thing worth saying. */
  dismissed: boolean;
  /** Languages the recogniser understands (from `ready`); null until the socket has been ready once. */
  languagesHeard: string[] | null;
}

export interface Options {
  sessionId: string | null;
  locale: "zh" | "en";
  onSession: (id: string) => void;
  onTurnDone: () => void;
}

/** What browser tests read (`window.__ikVoice`). */
interface TestHooks {
  state: VoiceState;
  transcripts: string[];
  audioFrames: number;
  notices: string[];
}

declare global {
  interface Window {
    __ikVoice?: TestHooks;
  }
}

const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_ENGINES_DOWN = 1011;
/** Renew the socket's sign-in this long before it expires (accessToken refreshes under 30 s). */
const RENEW_BEFORE_MS = 20_000;
/** Nothing said or played for this long: give the microphone and the socket back. */
const IDLE_MS = 90_000;

type Outgoing = string | ArrayBuffer;

export class VoiceClient {
  snapshot: Snapshot = {
    state: "idle",
    preparing: false,
    handsFree: false,
    transcript: null,
    speaking: null,
    notice: null,
    error: null,
    unavailable: null,
    languagesHeard: null,
    dismissed: false,
  };
  private readonly hooks: TestHooks;
  private listeners = new Set<() => void>();
  private context: AudioContext | null = null;
  private mic: Promise<Microphone> | null = null;
  private player: Player | null = null;
  private socket: WebSocket | null = null;
  /** Frames waiting for the socket to be ready and configured, in order. */
  private queue: Outgoing[] = [];
  private configured = false;
  private retriedAuth = false;
  private talking = false;
  private audioHeader: { sample_rate: number; reply_id: string; text: string } | null = null;
  /** Replies the person stopped: their frames still in flight are dropped. */
  private silenced = new Set<string>();
  /** The session the server is adding turns to (its own `session` event, or the one configured). */
  private serverSession: string | null = null;
  private renewTimer: number | undefined;
  private idleTimer: number | undefined;
  private disposed = false;

  constructor(private options: Options) {
    this.hooks = { state: "idle", transcripts: [], audioFrames: 0, notices: [] };
    window.__ikVoice = this.hooks;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setOptions(options: Options): void {
    const previous = this.options;
    this.options = options;
    if (!this.socket) return;
    if (options.sessionId === null && this.serverSession !== null) {
      // A new chat: a config cannot clear the session, so the next utterance gets a fresh socket.
      this.closeSocket();
      return;
    }
    const sessionChanged = options.sessionId !== null && options.sessionId !== this.serverSession;
    if (sessionChanged || options.locale !== previous.locale) {
      if (sessionChanged) this.serverSession = options.sessionId;
      this.send(JSON.stringify(this.config()));
    }
  }

  // --- what the person does -------------------------------------------------------------------

  /** Push-to-talk pressed (pointer down or Space). Also stops a reply that is playing. */
  press(): void {
    if (this.snapshot.unavailable || this.disposed) return;
    this.touch();
    this.silenceReply();
    if (this.snapshot.handsFree) {
      // Hands-free listens all the time: pressing only talks over the reply.
      this.send(JSON.stringify({ type: "cancel" }));
      this.update({ state: "listening" });
      return;
    }
    this.talking = true;
    this.update({ state: "listening", notice: null, error: null });
    const context = this.audio();
    this.connect();
    this.send(JSON.stringify({ type: "start" }));
    void this.openMic(context);
  }

  /** Push-to-talk released: the utterance is complete. */
  release(): void {
    if (!this.talking) return;
    this.talking = false;
    this.touch();
    this.send(JSON.stringify({ type: "end" }));
    this.update({ state: "recognising" });
  }

  async setHandsFree(on: boolean): Promise<void> {
    if (this.snapshot.unavailable || this.disposed || on === this.snapshot.handsFree) return;
    this.touch();
    this.talking = false;
    this.update({ handsFree: on, state: on ? "listening" : this.playing() ? "speaking" : "idle", notice: null, error: null });
    if (!on) {
      if (this.socket) this.send(JSON.stringify({ type: "config", mode: "push_to_talk" }));
      this.releaseMic();
      return;
    }
    const context = this.audio();
    this.connect();
    if (this.configured) this.send(JSON.stringify(this.config()));
    await this.openMic(context);
  }

  /** The stop button: the reply stops here and on the server. */
  stop(): void {
    this.touch();
    this.silenceReply();
    this.send(JSON.stringify({ type: "cancel" }));
    this.update({ state: this.baseState() });
  }

  /** Close the message box (it covers part of the composer on a phone). */
  dismiss(): void {
    if (!this.snapshot.dismissed) this.update({ dismissed: true });
  }

  dispose(): void {
    this.disposed = true;
    this.shutDown();
    this.listeners.clear();
  }

  // --- audio ----------------------------------------------------------------------------------

  /** The audio context, made (or resumed) inside the gesture so the browser lets it play. */
  private audio(): AudioContext {
    if (!this.context || this.context.state === "closed") {
      this.context = new AudioContext({ latencyHint: "interactive" });
      this.player = new Player(this.context, () => this.update({ state: this.baseState(), speaking: null }));
    }
    void this.context.resume();
    return this.context;
  }

  /** Opened on the first press and kept until hands-free is switched off or the idle timeout, so
   * the next press records at once instead of losing its first syllable to getUserMedia. */
  private async openMic(context: AudioContext): Promise<void> {
    if (!this.mic) {
      this.mic = Microphone.open(context, (pcm) => {
        if (this.talking || this.snapshot.handsFree) this.send(pcm);
      });
    }
    try {
      await this.mic;
    } catch (err) {
      this.mic = null;
      this.talking = false;
      const problem = err instanceof MicError ? err.problem : "failed";
      this.update({
        unavailable: { kind: problem, detail: err instanceof Error ? err.message : String(err) },
        handsFree: false,
        state: "idle",
      });
      this.closeSocket();
    }
  }

  private releaseMic(): void {
    const mic = this.mic;
    this.mic = null;
    void mic?.then((m) => m.close()).catch(() => undefined);
  }

  private playing(): boolean {
    return this.player?.playing ?? false;
  }

  private silenceReply(): void {
    if (this.audioHeader) this.silenced.add(this.audioHeader.reply_id);
    if (this.lastReply) this.silenced.add(this.lastReply);
    this.player?.stop();
    this.update({ speaking: null });
  }

  private lastReply: string | null = null;

  private baseState(): VoiceState {
    if (this.talking || this.snapshot.handsFree) return "listening";
    return this.playing() ? "speaking" : "idle";
  }

  // --- the socket -----------------------------------------------------------------------------

  private config(): Record<string, unknown> {
    const frame: Record<string, unknown> = {
      type: "config",
      format: "pcm16",
      sample_rate: this.context?.sampleRate ?? 48_000,
      mode: this.snapshot.handsFree ? "hands_free" : "push_to_talk",
      locale: this.options.locale,
    };
    if (this.options.sessionId) frame.session_id = this.options.sessionId;
    return frame;
  }

  private send(frame: Outgoing): void {
    if (this.socket && this.configured && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(frame);
    } else if (this.socket) {
      this.queue.push(frame);
    }
  }

  private connect(): void {
    if (this.socket) return;
    const socket = new WebSocket(socketUrl("voice/ws"));
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.configured = false;
    this.queue = [];
    this.serverSession = this.options.sessionId;
    this.update({ preparing: true });
    const revalidate = this.retriedAuth;
    socket.onopen = async () => {
      try {
        // After a 4401 the stored token looked valid but was refused: an ordinary request lets
        // api() refresh it (or sign the person out) before the socket tries again.
        if (revalidate) await api<unknown>("users/me");
        socket.send(JSON.stringify({ type: "auth", token: await accessToken() }));
      } catch (err) {
        if (this.socket !== socket) return;
        if (!(err instanceof SignedOut)) {
          this.update({ error: { code: "connection_lost", detail: err instanceof Error ? err.message : String(err) } });
        }
        socket.close(1000);
      }
    };
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (this.socket !== socket) return;
      if (typeof event.data === "string") this.onEvent(JSON.parse(event.data) as { event: string; data: Record<string, unknown> });
      else this.onAudio(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.onClose(event.code, event.reason);
    };
  }

  private onClose(code: number, reason: string): void {
    const wasBusy = this.talking || this.snapshot.handsFree;
    this.socket = null;
    this.configured = false;
    this.queue = [];
    window.clearTimeout(this.renewTimer);
    if (this.disposed) return;
    if (code === CLOSE_ENGINES_DOWN) {
      this.talking = false;
      this.releaseMic();
      this.update({ unavailable: { kind: "server", detail: reason }, preparing: false, handsFree: false, state: "idle" });
      return;
    }
    if (code === CLOSE_UNAUTHORIZED && !this.retriedAuth) {
      // The token ran out between checks: one fresh sign-in, then carry on (the config goes out
      // again on `ready`; an utterance being held is started again, its first words are lost).
      this.retriedAuth = true;
      this.connect();
      if (this.talking) this.send(JSON.stringify({ type: "start" }));
      return;
    }
    const wasHandsFree = this.snapshot.handsFree;
    this.talking = false;
    const lost = code !== 1000 || wasBusy;
    this.update({
      preparing: false,
      handsFree: false,
      state: this.playing() ? "speaking" : "idle",
      error: lost ? { code: "connection_lost", detail: reason || `code ${code}` } : this.snapshot.error,
    });
    if (wasHandsFree) this.releaseMic();
  }

  private onEvent(frame: { event: string; data: Record<string, unknown> }): void {
    const data = frame.data ?? {};
    switch (frame.event) {
      case "ready": {
        this.retriedAuth = false;
        this.scheduleRenewal(Number(data.expires_at));
        if (!this.configured) {
          this.configured = true;
          const heard = Array.isArray(data.languages_heard) ? data.languages_heard.map(String) : null;
          this.update({ preparing: false, languagesHeard: heard ?? this.snapshot.languagesHeard });
          const queued = this.queue;
          this.queue = [];
          this.socket?.send(JSON.stringify(this.config()));
          for (const item of queued) this.socket?.send(item);
        }
        break;
      }
      case "session": {
        const id = String(data.session_id ?? "");
        if (id && id !== this.serverSession) {
          this.serverSession = id;
          this.options.onSession(id);
        }
        break;
      }
      case "speech_started":
        this.silenceReply();
        this.update({ state: "listening" });
        break;
      case "speech_ended":
        this.update({ state: "recognising" });
        break;
      case "transcript": {
        const text = String(data.text ?? "");
        this.hooks.transcripts.push(text);
        this.update({ transcript: text, state: "recognising" });
        break;
      }
      case "notice": {
        const code = String(data.code ?? "");
        this.hooks.notices.push(code);
        this.update({ notice: { code, text: String(data.text ?? "") } });
        break;
      }
      case "error":
        this.update({ error: { code: String(data.code ?? "error"), detail: String(data.detail ?? "") } });
        break;
      case "audio":
        this.audioHeader = {
          sample_rate: Number(data.sample_rate),
          reply_id: String(data.reply_id ?? ""),
          text: String(data.text ?? ""),
        };
        break;
      case "barge_in":
      case "audio_reset":
        this.player?.stop();
        this.update({ state: this.baseState(), speaking: null });
        break;
      case "audio_done":
        if (!this.playing()) this.update({ state: this.baseState(), speaking: null });
        break;
      case "done":
        this.options.onTurnDone();
        break;
      default:
        break; // the chat turn's own events (token, card, message...): the chat page shows them
    }
  }

  private onAudio(pcm: ArrayBuffer): void {
    const header = this.audioHeader;
    this.audioHeader = null;
    if (!header || !this.player || this.silenced.has(header.reply_id)) return;
    this.lastReply = header.reply_id;
    this.hooks.audioFrames += 1;
    this.player.enqueue(pcm, header.sample_rate);
    this.touch();
    this.update({ state: this.talking ? "listening" : "speaking", speaking: header.text });
  }

  private scheduleRenewal(expiresAt: number): void {
    window.clearTimeout(this.renewTimer);
    if (!Number.isFinite(expiresAt)) return;
    const delay = Math.max(expiresAt * 1000 - Date.now() - RENEW_BEFORE_MS, 1_000);
    this.renewTimer = window.setTimeout(async () => {
      const socket = this.socket;
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      try {
        socket.send(JSON.stringify({ type: "auth", token: await accessToken() }));
      } catch {
        // Signed out: the app shows the sign-in page and the socket closes with 4401.
      }
    }, delay);
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.configured = false;
    this.queue = [];
    window.clearTimeout(this.renewTimer);
    if (socket) {
      socket.onclose = null;
      socket.close(1000);
    }
    this.update({ preparing: false });
  }

  /** Something happened: the idle countdown starts again. */
  private touch(): void {
    window.clearTimeout(this.idleTimer);
    this.idleTimer = window.setTimeout(() => {
      if (this.talking || this.snapshot.handsFree || this.playing()) this.touch();
      else this.shutDown();
    }, IDLE_MS);
  }

  private shutDown(): void {
    window.clearTimeout(this.idleTimer);
    this.talking = false;
    this.closeSocket();
    this.releaseMic();
    this.player?.stop();
    void this.context?.close().catch(() => undefined);
    this.context = null;
    this.player = null;
    if (!this.disposed) this.update({ handsFree: false, state: "idle" });
  }

  private update(patch: Partial<Snapshot>): void {
    // Something new to read (not a sentence of the same reply) opens a closed message box again.
    const news =
      patch.transcript != null ||
      patch.notice != null ||
      patch.error != null ||
      patch.unavailable != null ||
      patch.preparing === true ||
      patch.state === "listening";
    this.snapshot = { ...this.snapshot, ...patch };
    if (news && patch.dismissed === undefined) this.snapshot.dismissed = false;
    this.hooks.state = this.snapshot.state;
    for (const listener of this.listeners) listener();
  }
}
