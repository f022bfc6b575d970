// Who support is talking to: account, profile with units, and the newest wardrobe items, so they
// can answer without asking the person again.
import { useEffect, useState } from "react";
import { api, SignedOut } from "../api";
import { AuthImage } from "../components/AuthImage";
import { useT } from "../i18n";
import { describe, STRINGS } from "./strings";
import type { Person } from "./types";

const CM_PER_INCH = 2.54;
const KG_PER_LB = 0.45359237;

function length(cm: number | null, unit: string | undefined): string | null {
  if (cm === null) return null;
  const metric = `${Math.round(cm * 10) / 10} cm`;
  return unit === "in" ? `${metric} (${Math.round((cm / CM_PER_INCH) * 10) / 10} in)` : metric;
}

function weight(kg: number | null, unit: string | undefined): string | null {
  if (kg === null) return null;
  const metric = `${Math.round(kg * 10) / 10} kg`;
  return unit === "lb" ? `${metric} (${Math.round(kg / KG_PER_LB)} lb)` : metric;
}


export function PersonPanel({ sessionId }: { sessionId: string }) {
  const t = useT(STRINGS);
  const [person, setPerson] = useState<Person | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setPerson(null);
    setError(null);
    api<Person>(`support/sessions/${encodeURIComponent(sessionId)}/person`)
      .then((p) => live && setPerson(p))
      .catch((failure) => live && !(failure instanceof SignedOut) && setError(describe(failure)));
    return () => {
      live = false;
    };
  }, [sessionId]);

  if (error) return <section className="card" data-testid="person"><p className="error" role="alert">{t("personError", { detail: error })}</p></section>;
  if (!person) return <section className="card muted" data-testid="person">{t("loading")}</section>;

  const p = person.profile;
  const units = { length: p.preferred_units?.length ?? undefined, weight: p.preferred_units?.weight ?? undefined };
  const budget = p.budget.min !== null || p.budget.max !== null ? `${p.budget.min ?? "…"}–${p.budget.max ?? "…"} ${p.budget.currency ?? ""}`.trim() : null;
  const facts: [string, string | null][] = [
    [t("height"), length(p.height_cm, units.length)],
    [t("weight"), weight(p.weight_kg, units.weight)],
    [t("chest"), length(p.chest_cm, units.length)],
    [t("waist"), length(p.waist_cm, units.length)],
    [t("hips"), length(p.hips_cm, units.length)],
    [t("inseam"), length(p.inseam_cm, units.length)],
    [t("shoulder"), length(p.shoulder_cm, units.length)],
    [t("shoe"), p.shoe_size_eu !== null ? `EU ${p.shoe_size_eu}` : null],
    [t("bodyShape"), p.body_shape],
    [t("fit"), p.fit_preference],
    [t("department"), p.department],
    [t("styles"), p.styles.join(", ") || null],
    [t("favourite"), p.favourite_colours.join(", ") || null],
    [t("avoided"), p.avoided_colours.join(", ") || null],
    [t("budget"), budget],
    [t("city"), p.home_city],
  ];
  const given = facts.filter((f): f is [string, string] => f[1] !== null);
  const missing = facts.filter(([, value]) => value === null).map(([label]) => label);
  return (
    <section className="card stack console-person" data-testid="person">
      <div>
        <h2 data-testid="person-name">{person.user.full_name || person.user.email}</h2>
        <div className="muted console-person-meta" data-testid="person-email">
          {person.user.email} · {t("accountRole", { role: person.user.role })} · {p.locale}
        </div>
      </div>
      <div>
        <h3>{t("profile")}</h3>
        {given.length === 0 ? (
          <p className="muted" data-testid="profile-empty">{t("nothingGiven")}</p>
        ) : (
          <dl className="console-facts-list" data-testid="profile-facts">
            {given.map(([label, value]) => (
              <div key={label} className="console-fact">
                <dt className="muted">{label}</dt>
                <dd data-testid="profile-value">{value}</dd>
              </div>
            ))}
          </dl>
        )}
        {given.length > 0 && missing.length > 0 && (
          <p className="muted console-hint">{t("notGiven", { list: missing.join(", ") })}</p>
        )}
      </div>
      <div>
        <h3>{t("wardrobe", { n: person.wardrobe.length })}</h3>
        {person.wardrobe.length === 0 && <p className="muted" data-testid="wardrobe-empty">{t("noWardrobe")}</p>}
        <ul className="console-wardrobe">
          {person.wardrobe.map((item) => (
            <li key={item.id} className="console-item" data-testid="wardrobe-item" title={item.name}>
              {item.has_photo ? (
                <AuthImage
                  src={`/api/v1/support/sessions/${encodeURIComponent(sessionId)}/wardrobe/${encodeURIComponent(item.id)}/photo?variant=cutout`}
                  alt={item.name}
                  className="console-thumb"
                  testId="wardrobe-thumb"
                />
              ) : (
                <div className="console-thumb img-missing" aria-hidden="true" />
              )}
              <span className="console-item-name">{item.name}</span>
              {item.category && <span className="muted console-item-cat">{item.category}</span>}
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}
