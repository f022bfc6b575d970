// What the support API returns, as the console uses it.
import type { ProfileRead } from "../profileRead";

export interface ConsoleSession {
  id: string;
  user_id: string;
  user_email: string | null;
  user_name: string | null;
  created_at: string;
  last_active_at: string;
  expires_at: string;
  expired: boolean;
  handoff: boolean;
  handoff_since: string | null;
  staff_id: string | null;
  turns: number;
  title: string | null;
}

export interface ToolCall {
  tool: string;
  arguments: Record<string, unknown>;
  ok: boolean;
  error: string | null;
  facts: string[];
}

export interface TranscriptCard {
  kind: string;
  id: string;
  title?: string | null;
  data?: Record<string, unknown>;
}

export interface EventData {
  id?: string | null;
  role?: "user" | "assistant" | "support";
  text?: string;
  source?: string | null;
  cards?: TranscriptCard[];
  tools?: ToolCall[];
  attachments?: string[];
  /** Set on a spoken message: what the recogniser said about it. */
  voice?: { engine?: string; duration_s?: number; confidence?: number | null; language?: string };
  [key: string]: unknown;
}

export interface ChatEvent {
  event: string;
  data: EventData;
}

export interface SessionDetail extends Omit<ConsoleSession, "user_email" | "user_name"> {
  history: ChatEvent[];
}

export interface Note {
  id: string;
  session_id: string;
  author_id: string | null;
  author_email: string | null;
  text: string;
  created_at: string;
}

export interface WardrobeItem {
  id: string;
  name: string;
  category: string | null;
  colour: string | null;
  has_photo: boolean;
}

/** The profile as stored (cm / kg / EU); the person's own units are in `preferred_units`. */
export type Profile = ProfileRead;

export interface Person {
  user: { id: string; email: string; full_name: string | null; role: string; is_active: boolean; created_at: string };
  profile: Profile;
  wardrobe: WardrobeItem[];
}

/** Waiting: the person asked for a human and nobody has the thread yet. */
export function isWaiting(s: { handoff: boolean; staff_id: string | null }): boolean {
  return s.handoff && s.staff_id === null;
}
