// Most worn, never worn and idle clothes: the cheap part of the insights API, shown under the grid.
import { useLocale, useT } from "../i18n";
import { WARDROBE_STRINGS } from "./strings";
import type { Insights as InsightsData, ItemUsage } from "./types";

const SLOT_ZH: Record<string, string> = {
  top: "上装",
  bottom: "下装",
  one_piece: "连衣裙/套装",
  outerwear: "外套",
  shoes: "鞋",
  bag: "包",
  accessory: "配饰",
};

function UsageList({ title, items, testId }: { title: string; items: ItemUsage[]; testId: string }) {
  const t = useT(WARDROBE_STRINGS);
  if (items.length === 0) return null;
  return (
    <div data-testid={testId}>
      <h3>{title}</h3>
      <ul className="wr-usage">
        {items.slice(0, 5).map((u) => (
          <li key={u.item_id}>
            <span>{u.name}</span>
            <span className="muted">
              {t("wears", { n: u.wears })}
              {u.last_worn ? ` · ${t("lastWorn", { date: u.last_worn })}` : ""}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Insights({ data }: { data: InsightsData }) {
  const t = useT(WARDROBE_STRINGS);
  const { locale } = useLocale();
  if (data.items === 0) return null;
  const slots = data.empty_slots.map((s) => (locale === "zh" ? (SLOT_ZH[s] ?? s) : s.replace("_", " "))).join(locale === "zh" ? "、" : ", ");
  return (
    <section className="card wr-insights" data-testid="wardrobe-insights">
      <h2>{t("insights")}</h2>
      <div className="wr-insight-cols">
        <UsageList title={t("mostWorn")} items={data.most_worn} testId="insights-most-worn" />
        <UsageList title={t("neverWorn")} items={data.never_worn} testId="insights-never-worn" />
        <UsageList title={t("idle", { n: data.idle_months })} items={data.idle} testId="insights-idle" />
      </div>
      {slots && <p className="muted">{t("emptySlots", { slots })}</p>}
    </section>
  );
}
