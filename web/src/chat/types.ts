// What the chat socket and the sessions API carry, as the page uses it.

export interface Card {
  kind: "product" | "image" | "job" | "profile";
  id: string;
  title?: string | null;
  image_url?: string | null;
  data: Record<string, unknown>;
}

export interface VoiceMeta {
  duration_s?: number;
  engine?: string;
  confidence?: number;
}

export type Role = "user" | "assistant" | "support";

/**
 * A message on screen. `state` only concerns the person's own messages sent from this tab:
 * `queued` waits for the socket, `sending` was sent and its turn has not finished, `failed` was
 * sent but its turn never finished (the connection dropped), and gets a Retry button.
 */
export interface ChatMessage {
  key: string;
  role: Role;
  text: string;
  cards: Card[];
  attachments: string[];
  voice?: VoiceMeta | null;
  state?: "queued" | "sending" | "failed";
}

/** One frame from the server (`ready` and `watching` carry no message). */
export interface ServerFrame {
  event: string;
  session_id?: string;
  data: Record<string, unknown>;
}

export interface SessionSummary {
  id: string;
  created_at: string;
  last_active_at: string;
  expired: boolean;
  handoff: boolean;
  turns: number;
  /** The start of the first message; null for a conversation that began with a photo only. */
  title: string | null;
}

export interface SessionDetail extends SessionSummary {
  history: { event: string; data: Record<string, unknown> }[];
}

/** A turn's timings for the lead's benchmark (`window.__ikTurns`). */
export interface TurnTiming {
  sent_at: number;
  first_token_ms: number | null;
  done_ms: number | null;
  session_id: string | null;
}

declare global {
  interface Window {
    __ikTurns?: TurnTiming[];
    __ikChatSocket?: WebSocket | null;
  }
}
