// Nothing typed is lost: `ik.draft` holds what the composer shows or, once it is emptied by a
// send, the oldest message the server has not accepted yet. The sign-in page reads the key to tell
// the person their message is kept, and the chat page puts it back in the composer on load.

export const DRAFT_KEY = "ik.draft";

let composer = "";
const unaccepted = new Map<string, string>();

function write(): void {
  const text = composer || unaccepted.values().next().value || "";
  try {
    if (text) localStorage.setItem(DRAFT_KEY, text);
    else localStorage.removeItem(DRAFT_KEY);
  } catch {
    // Storage full or blocked: the text is still on screen.
  }
}

export function savedDraft(): string {
  try {
    return localStorage.getItem(DRAFT_KEY) ?? "";
  } catch {
    return "";
  }
}

export function setComposerDraft(text: string): void {
  composer = text;
  write();
}

/** A message left the composer; it stays in the draft until the server takes it. */
export function holdUntilAccepted(key: string, text: string): void {
  if (text.trim()) unaccepted.set(key, text);
  write();
}

export function accepted(key: string): void {
  unaccepted.delete(key);
  write();
}

export function forgetUnaccepted(): void {
  unaccepted.clear();
  write();
}
