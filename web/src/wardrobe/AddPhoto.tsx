// Add by photo: pick a file, watch it upload and get recognised, and read the API's reason when
// it is refused (not a photo, too large, no garment in it, already in the wardrobe).
import { useRef, useState } from "react";
import { ApiError, SignedOut } from "../api";
import { useT } from "../i18n";
import { WARDROBE_STRINGS } from "./strings";
import type { WardrobeItem } from "./types";
import { uploadPhoto } from "./upload";

type State =
  | { step: "idle" }
  | { step: "uploading"; pct: number }
  | { step: "classifying" }
  | { step: "failed"; detail: string; duplicateOf?: File }
  | { step: "done"; name: string };

const ACCEPT = "image/jpeg,image/png,image/webp";

export function AddPhoto({ onAdded }: { onAdded: (item: WardrobeItem) => void }) {
  const t = useT(WARDROBE_STRINGS);
  const input = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<State>({ step: "idle" });
  const [caption, setCaption] = useState("");
  const busy = state.step === "uploading" || state.step === "classifying";

  async function send(file: File, allowDuplicate = false) {
    setState({ step: "uploading", pct: 0 });
    try {
      const added = await uploadPhoto(file, caption, allowDuplicate, (pct) =>
        setState(pct >= 100 ? { step: "classifying" } : { step: "uploading", pct }),
      );
      setState({ step: "done", name: added.item.name });
      setCaption("");
      onAdded(added.item);
    } catch (error) {
      if (error instanceof SignedOut) return;
      // Status 0: the request never got an answer (offline, connection dropped mid-upload).
      const detail = error instanceof ApiError ? (error.status === 0 ? t("network") : error.detail) : String(error);
      const duplicate = error instanceof ApiError && error.status === 409;
      setState({ step: "failed", detail, duplicateOf: duplicate ? file : undefined });
    }
  }

  function picked(files: FileList | null) {
    const file = files?.[0];
    if (input.current) input.current.value = ""; // picking the same file again must fire again
    // The API decides what is a photo (it reads the bytes, not the name): send whatever was picked.
    if (file) void send(file);
  }

  return (
    <div className="wr-add stack">
      <div className="wr-add-row">
        <input
          className="wr-caption"
          value={caption}
          maxLength={300}
          disabled={busy}
          onChange={(event) => setCaption(event.target.value)}
          placeholder={t("captionHint")}
          aria-label={t("captionHint")}
          data-testid="add-photo-caption"
        />
        <label className="wr-upload-button" data-testid="add-photo">
          <span className="button-like primary">{t("addPhoto")}</span>
          <input
            ref={input}
            type="file"
            accept={ACCEPT}
            disabled={busy}
            onChange={(event) => picked(event.target.files)}
            data-testid="add-photo-input"
          />
        </label>
      </div>
      {state.step === "uploading" && (
        <div className="wr-progress" role="status" data-testid="upload-progress">
          <progress max={100} value={state.pct} />
          <span>{t("uploading", { pct: state.pct })}</span>
        </div>
      )}
      {state.step === "classifying" && (
        <div className="wr-progress" role="status" data-testid="upload-progress">
          <progress />
          <span>{t("classifying")}</span>
        </div>
      )}
      {state.step === "failed" && (
        <div className="error" role="alert" data-testid="upload-error">
          {t("uploadFailed", { detail: state.detail })}
          {state.duplicateOf && (
            <button type="button" className="link" onClick={() => void send(state.duplicateOf as File, true)} data-testid="upload-anyway">
              {t("addAnyway")}
            </button>
          )}
        </div>
      )}
      {state.step === "done" && (
        <div className="ok" role="status" data-testid="upload-done">
          {t("added", { name: state.name })}
        </div>
      )}
    </div>
  );
}
