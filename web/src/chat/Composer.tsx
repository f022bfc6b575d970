// Where the person writes: text (kept in ik.draft on every change), photos uploaded as soon as
// they are picked (so a refusal shows before sending), and the send button. Enter sends,
// Shift+Enter starts a new line.
import { useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { api, ApiError, SignedOut } from "../api";
import { useT } from "../i18n";
import { setComposerDraft } from "./draft";
import { rememberPreview } from "./previews";
import { PaperclipIcon } from "./icons";
import { STRINGS } from "./strings";

interface Attachment {
  local: string;
  name: string;
  url: string;
  uploadId: string | null;
}

let nextLocal = 0;
/** The API takes at most this many photos with one message. */
const MAX_PHOTOS = 8;

export function Composer({
  initial,
  onSend,
  extra,
}: {
  initial: string;
  onSend: (text: string, attachments: string[]) => void;
  /** Rendered beside the send button (the voice control). */
  extra?: ReactNode;
}) {
  const t = useT(STRINGS);
  const [text, setText] = useState(initial);
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const uploading = attachments.some((a) => a.uploadId === null);
  const canSend = !uploading && (text.trim().length > 0 || attachments.length > 0);

  const change = (value: string) => {
    setText(value);
    setComposerDraft(value);
  };

  const pick = async (files: FileList | null) => {
    if (!files) return;
    setUploadError(null);
    const room = Math.max(0, MAX_PHOTOS - attachments.length);
    if (files.length > room) setUploadError(t("tooMany", { n: MAX_PHOTOS }));
    for (const file of Array.from(files).slice(0, room)) {
      const local = `a${nextLocal++}`;
      const url = URL.createObjectURL(file);
      setAttachments((all) => [...all, { local, name: file.name, url, uploadId: null }]);
      try {
        const form = new FormData();
        form.append("file", file);
        const body = await api<{ upload_id: string }>("uploads", { form });
        rememberPreview(body.upload_id, file);
        setAttachments((all) => all.map((a) => (a.local === local ? { ...a, uploadId: body.upload_id } : a)));
      } catch (err) {
        setAttachments((all) => all.filter((a) => a.local !== local));
        URL.revokeObjectURL(url);
        if (err instanceof SignedOut) return;
        setUploadError(err instanceof ApiError ? err.detail : String(err));
      }
    }
    if (input.current) input.current.value = "";
  };

  const remove = (local: string) => {
    setAttachments((all) => {
      const gone = all.find((a) => a.local === local);
      if (gone) URL.revokeObjectURL(gone.url);
      return all.filter((a) => a.local !== local);
    });
  };

  const send = () => {
    if (!canSend) return;
    onSend(text.trim(), attachments.map((a) => a.uploadId as string));
    setText("");
    setComposerDraft("");
    setAttachments([]);
    setUploadError(null);
  };

  const key = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };

  return (
    <div className="chat-composer" data-testid="composer">
      {uploadError && (
        <div className="error chat-upload-error" role="alert" data-testid="upload-error">
          {uploadError}
        </div>
      )}
      {attachments.length > 0 && (
        <div className="chat-attachments">
          {attachments.map((a) => (
            <div key={a.local} className="chat-attachment" data-testid="attachment-preview" data-ready={a.uploadId ? "yes" : "no"}>
              <img src={a.url} alt={a.name} />
              {!a.uploadId && <span className="chat-attachment-busy" aria-label={t("uploading")} />}
              <button type="button" className="chat-attachment-remove" onClick={() => remove(a.local)} aria-label={t("removePhoto")} data-testid="attachment-remove">
                ×
              </button>
            </div>
          ))}
        </div>
      )}
      <div className="chat-compose-row">
        <button type="button" className="chat-attach" onClick={() => input.current?.click()} disabled={attachments.length >= MAX_PHOTOS} aria-label={t("attach")} title={t("attach")} data-testid="attach">
          <PaperclipIcon />
        </button>
        <input
          ref={input}
          type="file"
          accept="image/jpeg,image/png"
          multiple
          hidden
          onChange={(e) => void pick(e.target.files)}
          data-testid="attach-input"
        />
        <textarea
          value={text}
          onChange={(e) => change(e.target.value)}
          onKeyDown={key}
          placeholder={t("placeholder")}
          aria-label={t("placeholder")}
          rows={1}
          data-testid="composer-input"
        />
        {extra}
        <button type="button" className="primary chat-send" onClick={send} disabled={!canSend} data-testid="send">
          {t("send")}
        </button>
      </div>
    </div>
  );
}
