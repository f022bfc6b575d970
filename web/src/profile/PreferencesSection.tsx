// Style, fit, colours, budget and city: the preferences the advisor filters and ranks by.
import { useT } from "../i18n";
import { BODY_SHAPES, CURRENCIES, DEPARTMENTS, FITS, MAX_STYLES, STYLES, type ProfileForm } from "./form";
import { PROFILE_STRINGS, type ProfileKey } from "./strings";

interface Props {
  form: ProfileForm;
  update: (change: (form: ProfileForm) => ProfileForm) => void;
}

type TextKey = "body_shape" | "fit_preference" | "department" | "favourite" | "avoided" | "budgetMin" | "budgetMax" | "currency" | "home_city";

export function PreferencesSection({ form, update }: Props) {
  const t = useT(PROFILE_STRINGS);
  const set = (key: TextKey, value: string) => update((f) => ({ ...f, [key]: value }));
  const toggleStyle = (style: string) =>
    update((f) => ({ ...f, styles: f.styles.includes(style) ? f.styles.filter((s) => s !== style) : [...f.styles, style] }));

  const choice = (key: "body_shape" | "fit_preference" | "department", options: readonly string[]) => (
    <label>
      {t(key)}
      <select value={form[key]} onChange={(e) => set(key, e.target.value)} data-testid={key}>
        <option value="">{t("notSet")}</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {t(o as ProfileKey)}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <section className="card stack" data-testid="profile-preferences">
      <h2>{t("style")}</h2>
      <div className="pf-grid">
        {choice("fit_preference", FITS)}
        {choice("body_shape", BODY_SHAPES)}
        {choice("department", DEPARTMENTS)}
      </div>
      <fieldset className="pf-chips">
        <legend>
          {t("styles")} <span className="muted pf-small">{t("stylesHint", { n: MAX_STYLES })}</span>
        </legend>
        {STYLES.map((style) => {
          const on = form.styles.includes(style);
          return (
            <label key={style} className={`pf-chip ${on ? "on" : ""}`}>
              <input type="checkbox" checked={on} disabled={!on && form.styles.length >= MAX_STYLES} onChange={() => toggleStyle(style)} data-testid={`style-${style}`} />
              {t(style as ProfileKey)}
            </label>
          );
        })}
      </fieldset>
      <div className="pf-grid pf-grid-2">
        <label>
          {t("favourite")}
          <input value={form.favourite} onChange={(e) => set("favourite", e.target.value)} placeholder={t("coloursHint")} data-testid="favourite-colours" />
        </label>
        <label>
          {t("avoided")}
          <input value={form.avoided} onChange={(e) => set("avoided", e.target.value)} placeholder={t("coloursHint")} data-testid="avoided-colours" />
        </label>
      </div>
      <fieldset className="pf-budget">
        <legend>{t("budget")}</legend>
        <label>
          {t("budgetMin")}
          <input type="number" inputMode="decimal" min="0" step="any" value={form.budgetMin} onChange={(e) => set("budgetMin", e.target.value)} data-testid="budget-min" />
        </label>
        <label>
          {t("budgetMax")}
          <input type="number" inputMode="decimal" min="0" step="any" value={form.budgetMax} onChange={(e) => set("budgetMax", e.target.value)} data-testid="budget-max" />
        </label>
        <label>
          {t("currency")}
          <select value={form.currency} onChange={(e) => set("currency", e.target.value)} data-testid="budget-currency">
            {CURRENCIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
      <label>
        {t("home_city")}
        <input value={form.home_city} maxLength={80} onChange={(e) => set("home_city", e.target.value)} data-testid="home-city" />
      </label>
    </section>
  );
}
