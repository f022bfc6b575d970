import { useLocale, useT } from "../i18n";
import { WARDROBE_STRINGS } from "./strings";
import type { Filters as FilterValues } from "./types";
import { CATEGORIES, categoryName, SEASONS, seasonName } from "./vocab";

interface Props {
  value: FilterValues;
  tags: Record<string, number>;
  onChange: (next: FilterValues) => void;
}

export const NO_FILTERS: FilterValues = { category: "", season: "", tag: "" };

export function Filters({ value, tags, onChange }: Props) {
  const t = useT(WARDROBE_STRINGS);
  const { locale } = useLocale();
  const set = (key: keyof FilterValues, v: string) => onChange({ ...value, [key]: v });
  const active = value.category || value.season || value.tag;
  return (
    <div className="wr-filters" data-testid="wardrobe-filters">
      <label>
        {t("filterCategory")}
        <select value={value.category} onChange={(e) => set("category", e.target.value)} data-testid="filter-category">
          <option value="">{t("all")}</option>
          {CATEGORIES.map((c) => (
            <option key={c} value={c}>
              {categoryName(c, locale)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("filterSeason")}
        <select value={value.season} onChange={(e) => set("season", e.target.value)} data-testid="filter-season">
          <option value="">{t("all")}</option>
          {SEASONS.map((s) => (
            <option key={s} value={s}>
              {seasonName(s, locale)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("filterTag")}
        <select value={value.tag} onChange={(e) => set("tag", e.target.value)} data-testid="filter-tag">
          <option value="">{t("all")}</option>
          {Object.entries(tags).map(([tag, n]) => (
            <option key={tag} value={tag}>
              {tag} ({n})
            </option>
          ))}
        </select>
      </label>
      {active && (
        <button type="button" className="link" onClick={() => onChange(NO_FILTERS)} data-testid="filter-clear">
          {t("clearFilters")}
        </button>
      )}
    </div>
  );
}
