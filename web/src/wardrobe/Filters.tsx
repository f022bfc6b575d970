import { useLocale, useT } from "../i18n";
import { Choice } from "./Choice";
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
      <Choice
        label={t("filterCategory")}
        value={value.category}
        empty={t("all")}
        options={CATEGORIES.map((c) => [c, categoryName(c, locale)])}
        onChange={(v) => set("category", v)}
        testId="filter-category"
      />
      <Choice
        label={t("filterSeason")}
        value={value.season}
        empty={t("all")}
        options={SEASONS.map((s) => [s, seasonName(s, locale)])}
        onChange={(v) => set("season", v)}
        testId="filter-season"
      />
      <Choice
        label={t("filterTag")}
        value={value.tag}
        empty={t("all")}
        options={Object.entries(tags).map(([tag, n]) => [tag, `${tag} (${n})`])}
        onChange={(v) => set("tag", v)}
        testId="filter-tag"
      />
      {active && (
        <button type="button" className="link" onClick={() => onChange(NO_FILTERS)} data-testid="filter-clear">
          {t("clearFilters")}
        </button>
      )}
    </div>
  );
}
