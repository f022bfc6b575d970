// The chat WebSocket kept alive: it authenticates with a first frame (the token stays out of
// URLs), renews the token before the server closes the socket at its expiry, and reconnects by
// itself with backoff when the network drops. A 4401 close (token refused) is answered by an
// ordinary API call, which refreshes the pair or signs the app out: the socket never loops on a
// token the server has refused.
import { accessToken, api, SignedOut, socketUrl } from "../api";
import type { ServerFrame } from "./types";

export type SocketStatus = "connecting" | "open" | "reconnecting" | "stopped";

export interface SocketHandlers {
  onFrame: (frame: ServerFrame) => void;
  onStatus: (status: SocketStatus) => void;
  /** After every (re)connection, once the server said `ready`. */
  onReady: (reconnected: boolean) => void;
}

const MAX_BACKOFF_MS = 15_000;
/** Renew this long before the access token expires (api.ts refreshes within 30 s of expiry). */
const RENEW_BEFORE_MS = 20_000;

export class ChatSocket {
  private ws: WebSocket | null = null;
  private stopped = false;
  private failures = 0;
  private refused = 0;
  private everReady = false;
  private retryTimer: number | undefined;
  private renewTimer: number | undefined;

  constructor(private readonly handlers: SocketHandlers) {
    window.addEventListener("online", this.online);
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.online);
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.renewTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, "page left");
    if (window.__ikChatSocket === ws) window.__ikChatSocket = null;
    this.handlers.onStatus("stopped");
  }

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.authenticated;
  }

  private authenticated = false;

  /** Sends when the socket is authenticated; false means the caller keeps the frame for later. */
  send(frame: object): boolean {
    if (!this.isOpen || !this.ws) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private online = (): void => {
    // Back on the network: try at once instead of waiting out the backoff.
    if (this.stopped || this.ws) return;
    window.clearTimeout(this.retryTimer);
    this.failures = 0;
    void this.connect();
  };

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.handlers.onStatus(this.everReady || this.failures > 0 ? "reconnecting" : "connecting");
    let token: string;
    try {
      token = await accessToken();
    } catch (error) {
      if (error instanceof SignedOut) {
        this.stop();
        return;
      }
      this.retry();
      return;
    }
    if (this.stopped) return;
    const ws = new WebSocket(socketUrl("chat/ws"));
    this.ws = ws;
    this.authenticated = false;
    window.__ikChatSocket = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
    ws.onmessage = (message) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(message.data)) as ServerFrame;
      } catch {
        return;
      }
      if (frame.event === "ready") {
        this.ready(frame);
        return;
      }
      this.handlers.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.authenticated = false;
      window.clearTimeout(this.renewTimer);
      if (this.stopped) return;
      if (event.code === 4401) void this.refusedToken();
      else this.retry();
    };
  }

  private ready(frame: ServerFrame): void {
    const first = !this.authenticated;
    this.authenticated = true;
    this.failures = 0;
    this.refused = 0;
    const expiresAt = Number(frame.data.expires_at) * 1000;
    window.clearTimeout(this.renewTimer);
    if (Number.isFinite(expiresAt)) {
      const wait = Math.max(1_000, expiresAt - Date.now() - RENEW_BEFORE_MS);
      this.renewTimer = window.setTimeout(() => void this.renew(), wait);
    }
    if (first) {
      const reconnected = this.everReady;
      this.everReady = true;
      this.handlers.onStatus("open");
      this.handlers.onReady(reconnected);
    }
  }

  private async renew(): Promise<void> {
    try {
      const token = await accessToken();
      this.ws?.send(JSON.stringify({ type: "auth", token }));
    } catch {
      // Signed out (the app shows sign-in) or offline (the close that follows reconnects).
    }
  }

  private async refusedToken(): Promise<void> {
    this.refused += 1;
    try {
      // A plain request refreshes a refused token, or signs the app out when it cannot.
      await api("users/me");
    } catch (error) {
      if (error instanceof SignedOut) {
        this.stop();
        return;
      }
    }
    if (this.refused > 3) this.retry();
    else void this.connect();
  }

  private retry(): void {
    if (this.stopped) return;
    this.failures += 1;
    this.handlers.onStatus("reconnecting");
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.failures - 1));
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => void this.connect(), base / 2 + Math.random() * (base / 2));
  }
}
