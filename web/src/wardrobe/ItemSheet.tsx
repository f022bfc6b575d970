// One sheet for adding an item by hand and for editing one: what is typed stays in the form when
// the API refuses it, with the API's reason shown above the buttons.
import { useState, type FormEvent } from "react";
import { api, ApiError, SignedOut } from "../api";
import { useLocale, useT } from "../i18n";
import { Choice } from "./Choice";
import { Sheet } from "./Sheet";
import { WARDROBE_STRINGS } from "./strings";
import type { ItemFields, WardrobeItem } from "./types";
import { CATEGORIES, categoryName, COLOURS, colourName, SEASONS, seasonName, type Season } from "./vocab";

function fieldsOf(item: WardrobeItem | null): ItemFields {
  return {
    name: item?.name ?? "",
    category: item?.category ?? null,
    colour: item?.colour ?? null,
    seasons: item?.seasons ?? [],
    tags: item?.tags ?? [],
  };
}

function parseTags(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[,，、]/)) {
    const tag = part.trim();
    if (tag) seen.add(tag);
  }
  return [...seen];
}

interface Props {
  /** The item to edit, or null to add one by hand. */
  item: WardrobeItem | null;
  onClose: () => void;
  onSaved: (item: WardrobeItem) => void;
  onDeleted: (item: WardrobeItem) => void;
}

export function ItemSheet({ item, onClose, onSaved, onDeleted }: Props) {
  const t = useT(WARDROBE_STRINGS);
  const { locale } = useLocale();
  const [fields, setFields] = useState<ItemFields>(() => fieldsOf(item));
  const [tagText, setTagText] = useState(() => fieldsOf(item).tags.join(", "));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);

  const set = <K extends keyof ItemFields>(key: K, value: ItemFields[K]) => setFields((old) => ({ ...old, [key]: value }));
  const toggleSeason = (season: Season) =>
    set("seasons", fields.seasons.includes(season) ? fields.seasons.filter((s) => s !== season) : [...fields.seasons, season]);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      if (!(caught instanceof SignedOut)) setError(caught instanceof ApiError ? caught.detail : String(caught));
    } finally {
      setBusy(false);
    }
  }

  function save(event: FormEvent) {
    event.preventDefault();
    const body = { ...fields, name: fields.name.trim(), tags: parseTags(tagText) };
    void run(async () => {
      const saved = item
        ? await api<WardrobeItem>(`wardrobe/items/${item.id}`, { method: "PATCH", json: body })
        : await api<WardrobeItem>("wardrobe/items/manual", { json: body });
      onSaved(saved);
    });
  }

  function remove() {
    if (!item) return;
    void run(async () => {
      await api<void>(`wardrobe/items/${item.id}`, { method: "DELETE" });
      onDeleted(item);
    });
  }

  return (
    <Sheet title={item ? t("editTitle") : t("addTitle")} closeLabel={t("close")} onClose={onClose} testId="item-sheet">
      <form className="stack" onSubmit={save}>
        <label>
          {t("name")}
          <input value={fields.name} required maxLength={120} onChange={(e) => set("name", e.target.value)} data-testid="item-name" />
        </label>
        <div className="wr-two">
          <Choice
            label={t("category")}
            value={fields.category ?? ""}
            empty={t("none")}
            options={CATEGORIES.map((c) => [c, categoryName(c, locale)])}
            onChange={(v) => set("category", v || null)}
            testId="item-category"
          />
          <Choice
            label={t("colour")}
            value={fields.colour ?? ""}
            empty={t("none")}
            options={COLOURS.map((c) => [c, colourName(c, locale)])}
            onChange={(v) => set("colour", v || null)}
            testId="item-colour"
          />
        </div>
        <fieldset className="wr-seasons">
          <legend>{t("seasons")}</legend>
          {SEASONS.map((s) => (
            <label key={s} className="wr-check">
              <input type="checkbox" checked={fields.seasons.includes(s)} onChange={() => toggleSeason(s)} data-testid={`item-season-${s}`} />
              {seasonName(s, locale)}
            </label>
          ))}
        </fieldset>
        <label>
          {t("tags")}
          <input value={tagText} onChange={(e) => setTagText(e.target.value)} placeholder={t("tagsHint")} data-testid="item-tags" />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="item-error">
            {error}
          </p>
        )}
        {confirming && item ? (
          <div className="notice stack" data-testid="delete-confirm">
            <span>{t("deleteConfirm", { name: item.name })}</span>
            <div className="row">
              <button type="button" className="danger" disabled={busy} onClick={remove} data-testid="delete-yes">
                {t("deleteYes")}
              </button>
              <button type="button" disabled={busy} onClick={() => setConfirming(false)} data-testid="delete-no">
                {t("cancel")}
              </button>
            </div>
          </div>
        ) : (
          <div className="row wr-sheet-actions">
            <button type="submit" className="primary" disabled={busy} data-testid="item-save">
              {busy ? t("saving") : t("save")}
            </button>
            <button type="button" disabled={busy} onClick={onClose} data-testid="item-cancel">
              {t("cancel")}
            </button>
            {item && (
              <button type="button" className="danger wr-push" disabled={busy} onClick={() => setConfirming(true)} data-testid="item-delete">
                {t("delete")}
              </button>
            )}
          </div>
        )}
      </form>
    </Sheet>
  );
}
