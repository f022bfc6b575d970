// The wardrobe: the person's clothes as a grid (filtered by category, season or tag), added by
// photo or by hand, edited or deleted in a sheet, and logged as worn.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError, SignedOut, type Me } from "../api";
import { useT } from "../i18n";
import { AddPhoto } from "../wardrobe/AddPhoto";
import { Filters, NO_FILTERS } from "../wardrobe/Filters";
import { Insights } from "../wardrobe/Insights";
import { ItemCard } from "../wardrobe/ItemCard";
import { ItemSheet } from "../wardrobe/ItemSheet";
import { WARDROBE_STRINGS } from "../wardrobe/strings";
import { Toast, useToast } from "../wardrobe/Toast";
import type { Filters as FilterValues, Insights as InsightsData, WardrobeItem, WearEntry } from "../wardrobe/types";
import "../wardrobe/wardrobe.css";

type SheetState = { mode: "closed" } | { mode: "add" } | { mode: "edit"; item: WardrobeItem };

function query(filters: FilterValues): string {
  const params = new URLSearchParams({ limit: "500" });
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  return params.toString();
}

function describe(error: unknown): string {
  return error instanceof ApiError ? error.detail : String(error);
}

// `me` is part of the page contract (App passes it); the wardrobe API reads the user from the token.
export default function WardrobePage({ me }: { me: Me }) {
  const t = useT(WARDROBE_STRINGS);
  const [filters, setFilters] = useState<FilterValues>(NO_FILTERS);
  const [items, setItems] = useState<WardrobeItem[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [tags, setTags] = useState<Record<string, number>>({});
  const [insights, setInsights] = useState<InsightsData | null>(null);
  const [sheet, setSheet] = useState<SheetState>({ mode: "closed" });
  const [wearing, setWearing] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [toast, showToast] = useToast();

  const load = useCallback(async (wanted: FilterValues, signal?: AbortSignal) => {
    setLoadError(null);
    try {
      const [list, tagCounts, stats] = await Promise.all([
        api<WardrobeItem[]>(`wardrobe/items?${query(wanted)}`, { signal }),
        api<Record<string, number>>("wardrobe/tags", { signal }),
        api<InsightsData>("wardrobe/insights", { signal }),
      ]);
      setItems(list);
      setTags(tagCounts);
      setInsights(stats);
    } catch (error) {
      if (error instanceof SignedOut || signal?.aborted) return;
      setLoadError(describe(error));
    }
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    void load(filters, controller.signal);
    return () => controller.abort();
  }, [filters, load]);

  const reload = () => void load(filters);

  async function wear(item: WardrobeItem) {
    setWearing(item.id);
    setActionError(null);
    try {
      const [entry] = await api<WearEntry[]>("wardrobe/wear", { json: { item_ids: [item.id] } });
      showToast(t(entry?.created === false ? "wornAlready" : "wornLogged", { name: item.name }));
      setInsights(await api<InsightsData>("wardrobe/insights"));
    } catch (error) {
      if (!(error instanceof SignedOut)) setActionError(describe(error));
    } finally {
      setWearing(null);
    }
  }

  const filtered = filters.category || filters.season || filters.tag;
  const total = insights?.items ?? items?.length ?? 0;

  return (
    <div className="wr-page stack" data-testid="wardrobe-page" data-user={me.id}>
      <header className="wr-head">
        <div>
          <h1>{t("title")}</h1>
          {items && <span className="muted" data-testid="wardrobe-count">{t(total === 1 ? "countOne" : "count", { n: total })}</span>}
        </div>
        <div className="wr-head-actions">
          <AddPhoto
            onAdded={(item) => {
              setItems((old) => [item, ...(old ?? []).filter((i) => i.id !== item.id)]);
              reload();
            }}
          />
          <button type="button" onClick={() => setSheet({ mode: "add" })} data-testid="add-manual">
            {t("addManual")}
          </button>
        </div>
      </header>
      <p className="muted wr-small">{t("photoHint")}</p>
      <Filters value={filters} tags={tags} onChange={setFilters} />
      {actionError && (
        <p className="error" role="alert" data-testid="wardrobe-action-error">
          {actionError}
        </p>
      )}
      {loadError && (
        <div className="error row" role="alert" data-testid="wardrobe-load-error">
          {t("loadFailed", { detail: loadError })}
          <button type="button" onClick={reload}>
            {t("retry")}
          </button>
        </div>
      )}
      {!items && !loadError && <div className="centered">{t("loading")}</div>}
      {items && items.length === 0 && !filtered && (
        <div className="card wr-empty" data-testid="wardrobe-empty">
          <h2>{t("emptyTitle")}</h2>
          <p className="muted">{t("emptyHint")}</p>
        </div>
      )}
      {items && items.length === 0 && filtered && (
        <p className="muted" data-testid="wardrobe-no-match">
          {t("noMatch")}
        </p>
      )}
      {items && items.length > 0 && (
        <div className="wr-grid" data-testid="wardrobe-grid">
          {items.map((item) => (
            <ItemCard
              key={item.id}
              item={item}
              wearing={wearing === item.id}
              onEdit={() => setSheet({ mode: "edit", item })}
              onWorn={() => void wear(item)}
            />
          ))}
        </div>
      )}
      {insights && <Insights data={insights} />}
      {sheet.mode !== "closed" && (
        <ItemSheet
          item={sheet.mode === "edit" ? sheet.item : null}
          onClose={() => setSheet({ mode: "closed" })}
          onSaved={(saved) => {
            setSheet({ mode: "closed" });
            setItems((old) => (sheet.mode === "edit" ? (old ?? []).map((i) => (i.id === saved.id ? saved : i)) : [saved, ...(old ?? [])]));
            showToast(t("saved", { name: saved.name }));
            reload();
          }}
          onDeleted={(gone) => {
            setSheet({ mode: "closed" });
            setItems((old) => (old ?? []).filter((i) => i.id !== gone.id));
            showToast(t("deleted", { name: gone.name }));
            reload();
          }}
        />
      )}
      <Toast toast={toast} />
    </div>
  );
}
