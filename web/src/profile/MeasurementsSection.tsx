// Measurements in the person's units: metric cm/kg or imperial ft+in/in/lb, and a shoe size in the
// system they know. Values stay as typed; switching units converts what is on screen.
import type { ReactNode } from "react";
import { useT } from "../i18n";
import { LENGTHS, type MeasureName, type ProfileForm } from "./form";
import { PROFILE_STRINGS, type ProfileKey } from "./strings";
import { euToShoe, SHOE_SYSTEMS, shoeToEu, tidy, type ShoeSystem, type System } from "./units";

interface Props {
  form: ProfileForm;
  update: (change: (form: ProfileForm) => ProfileForm) => void;
  onSystem: (system: System) => void;
  errorFor: (name: MeasureName) => string | null;
}

const touch = (form: ProfileForm, name: MeasureName): MeasureName[] => (form.dirty.includes(name) ? form.dirty : [...form.dirty, name]);

function NumberInput({ value, onChange, unit, testId, label }: { value: string; onChange: (v: string) => void; unit: string; testId: string; label: string }) {
  return (
    <span className="pf-number">
      <input type="number" inputMode="decimal" step="any" min="0" value={value} onChange={(e) => onChange(e.target.value)} aria-label={label} data-testid={testId} />
      <span className="pf-unit">{unit}</span>
    </span>
  );
}

export function MeasurementsSection({ form, update, onSystem, errorFor }: Props) {
  const t = useT(PROFILE_STRINGS);
  const imperial = form.system === "imperial";
  const lengthUnit = imperial ? t("in") : t("cm");
  const set = (name: MeasureName, change: Partial<ProfileForm>) => update((f) => ({ ...f, ...change, dirty: touch(f, name) }));

  const field = (name: MeasureName, label: string, input: ReactNode) => {
    const error = errorFor(name);
    return (
      <div className={`pf-field pf-${name} ${error ? "pf-invalid" : ""}`} key={name}>
        <span className="pf-label">{label}</span>
        {input}
        {error && (
          <span className="error pf-field-error" data-testid={`error-${name}`}>
            {error}
          </span>
        )}
      </div>
    );
  };

  function changeShoeSystem(next: ShoeSystem) {
    // Keep the same shoe: convert what is shown (through EU, as the server does) rather than relabel it.
    update((f) => {
      const value = Number(f.shoe);
      const shoe = f.shoe.trim() === "" || Number.isNaN(value) ? f.shoe : tidy(euToShoe(shoeToEu(value, f.shoeSystem), next));
      return { ...f, shoe, shoeSystem: next };
    });
  }

  return (
    <section className="card stack" data-testid="profile-measurements">
      <div className="pf-section-head">
        <h2>{t("measurements")}</h2>
        <div className="pf-switch" role="radiogroup" aria-label={t("units")} data-testid="units-switch">
          {(["metric", "imperial"] as const).map((system) => (
            <button
              key={system}
              type="button"
              role="radio"
              aria-checked={form.system === system}
              className={form.system === system ? "active" : ""}
              onClick={() => onSystem(system)}
              data-testid={`units-${system}`}
            >
              {t(system)}
            </button>
          ))}
        </div>
      </div>
      <p className="muted pf-small">{t("measurementsHint")}</p>
      <div className="pf-grid">
        {field(
          "height",
          t("height"),
          imperial ? (
            <span className="pf-feet">
              <NumberInput value={form.feet} onChange={(v) => set("height", { feet: v })} unit={t("ft")} label={`${t("height")} (${t("ft")})`} testId="height-ft" />
              <NumberInput value={form.inches} onChange={(v) => set("height", { inches: v })} unit={t("in")} label={`${t("height")} (${t("in")})`} testId="height-in" />
            </span>
          ) : (
            <NumberInput value={form.height} onChange={(v) => set("height", { height: v })} unit={t("cm")} label={t("height")} testId="height" />
          ),
        )}
        {field(
          "weight",
          t("weight"),
          <NumberInput value={form.weight} onChange={(v) => set("weight", { weight: v })} unit={imperial ? t("lb") : t("kg")} label={t("weight")} testId="weight" />,
        )}
        {LENGTHS.map((name) =>
          field(
            name,
            t(name),
            <NumberInput
              value={form.lengths[name]}
              onChange={(v) => update((f) => ({ ...f, lengths: { ...f.lengths, [name]: v }, dirty: touch(f, name) }))}
              unit={lengthUnit}
              label={t(name)}
              testId={name}
            />,
          ),
        )}
        {field(
          "shoe_size",
          t("shoe_size"),
          <span className="pf-feet">
            <input
              type="number"
              inputMode="decimal"
              step="any"
              min="0"
              value={form.shoe}
              onChange={(e) => set("shoe_size", { shoe: e.target.value })}
              aria-label={t("shoe_size")}
              data-testid="shoe_size"
            />
            <select value={form.shoeSystem} onChange={(e) => changeShoeSystem(e.target.value as ShoeSystem)} aria-label={t("shoeSystem")} data-testid="shoe-system">
              {SHOE_SYSTEMS.map((s) => (
                <option key={s} value={s}>
                  {t(s as ProfileKey)}
                </option>
              ))}
            </select>
          </span>,
        )}
      </div>
    </section>
  );
}
