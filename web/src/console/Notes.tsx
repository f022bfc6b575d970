// Support's internal notes on the conversation (staff only; never sent to the person).
import { useEffect, useState, type FormEvent } from "react";
import { api, SignedOut } from "../api";
import { useLocale, useT } from "../i18n";
import { describe, STRINGS, when } from "./strings";
import type { Note } from "./types";

const MAX_NOTE = 2000;

export function Notes({ sessionId }: { sessionId: string }) {
  const t = useT(STRINGS);
  const { locale } = useLocale();
  const [notes, setNotes] = useState<Note[] | null>(null);
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const path = `support/sessions/${encodeURIComponent(sessionId)}/notes`;

  useEffect(() => {
    let live = true;
    setNotes(null);
    setError(null);
    api<Note[]>(path)
      .then((list) => live && setNotes(list))
      .catch((failure) => live && !(failure instanceof SignedOut) && setError(describe(failure)));
    return () => {
      live = false;
    };
  }, [path]);

  const add = async (event: FormEvent) => {
    event.preventDefault();
    if (!draft.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const note = await api<Note>(path, { method: "POST", json: { text: draft } });
      setNotes((current) => [...(current ?? []), note]);
      setDraft("");
    } catch (failure) {
      if (!(failure instanceof SignedOut)) setError(describe(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card stack console-notes" data-testid="notes">
      <div>
        <h3>{t("notes")}</h3>
        <p className="muted console-hint">{t("notesHint")}</p>
      </div>
      {notes === null && !error && <p className="muted">{t("loading")}</p>}
      {notes?.length === 0 && <p className="muted" data-testid="notes-empty">{t("noNotes")}</p>}
      <ul className="console-note-list">
        {notes?.map((note) => (
          <li key={note.id} className="console-note" data-testid="note">
            <div className="console-note-text" data-testid="note-text">{note.text}</div>
            <div className="muted console-note-meta">
              {note.author_email ?? t("deleted")} · {when(note.created_at, locale)}
            </div>
          </li>
        ))}
      </ul>
      <form className="stack" onSubmit={(e) => void add(e)}>
        <textarea
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder={t("notePlaceholder")}
          aria-label={t("notePlaceholder")}
          maxLength={MAX_NOTE}
          rows={2}
          data-testid="note-input"
        />
        <div className="row console-note-actions">
          <span className="muted console-hint">{draft.length > MAX_NOTE - 200 ? t("charsLeft", { n: MAX_NOTE - draft.length }) : ""}</span>
          <button type="submit" disabled={busy || !draft.trim()} data-testid="note-add">
            {busy ? t("working") : t("addNote")}
          </button>
        </div>
      </form>
      {error && <p className="error" role="alert" data-testid="notes-error">{t("notesError", { detail: error })}</p>}
    </section>
  );
}
