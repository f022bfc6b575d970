// The profile form's state and its two translations: from the stored profile (cm/kg/EU, shown in
// the person's units) and to a partial ProfileUpdate (typed values with their unit, changed ones only).
import type { ProfileRead } from "../profileRead";
import { cmToInches, feetInches, kgToLb, tidy, type ShoeSystem, type System, euToShoe, CM_PER_INCH, KG_PER_LB } from "./units";

export const LENGTHS = ["chest", "waist", "hips", "inseam", "shoulder"] as const;
export type LengthName = (typeof LENGTHS)[number];
export type MeasureName = "height" | "weight" | LengthName | "shoe_size";

export const BODY_SHAPES = ["hourglass", "pear", "apple", "rectangle", "inverted_triangle"] as const;
export const FITS = ["slim", "regular", "loose"] as const;
export const DEPARTMENTS = ["women", "men", "unisex", "girls", "boys"] as const;
export const STYLES = [
  "casual", "smart_casual", "business", "formal", "sporty", "streetwear", "minimalist", "classic",
  "bohemian", "romantic", "vintage", "edgy", "preppy", "ethnic", "party",
] as const;
export const CURRENCIES = ["CNY", "USD", "EUR", "GBP", "JPY", "INR"] as const;
export const CONSENTS = ["store_photos", "use_measurements", "personalisation", "marketing"] as const;
export type ConsentName = (typeof CONSENTS)[number];
export type { ProfileRead };
export const MAX_STYLES = 8;

export interface ProfileForm {
  system: System;
  /** Metric height in cm; imperial height is `feet` + `inches`. */
  height: string;
  feet: string;
  inches: string;
  weight: string;
  lengths: Record<LengthName, string>;
  shoe: string;
  shoeSystem: ShoeSystem;
  /** Measurements the person touched: only these are sent, so unit round trips never drift stored values. */
  dirty: MeasureName[];
  body_shape: string;
  fit_preference: string;
  department: string;
  styles: string[];
  favourite: string;
  avoided: string;
  budgetMin: string;
  budgetMax: string;
  currency: string;
  home_city: string;
  consents: Record<ConsentName, boolean>;
}

const show = (value: number | null, convert: (v: number) => number = (v) => v) => (value == null ? "" : tidy(convert(value)));

export function defaultShoeSystem(system: System, department: string): ShoeSystem {
  if (system === "metric") return "EU";
  return department === "men" || department === "boys" ? "US_men" : "US_women";
}

/** The measurement fields of `profile` shown in `system` (everything else untouched). */
export function measurementsIn(profile: ProfileRead, system: System, shoeSystem: ShoeSystem) {
  const imperial = system === "imperial";
  const length = (cm: number | null) => show(cm, imperial ? cmToInches : undefined);
  const ft = profile.height_cm == null ? null : feetInches(cmToInches(profile.height_cm));
  return {
    height: show(profile.height_cm),
    feet: ft ? String(ft.ft) : "",
    inches: ft ? String(ft.inch) : "",
    weight: show(profile.weight_kg, imperial ? kgToLb : undefined),
    lengths: Object.fromEntries(LENGTHS.map((n) => [n, length(profile[`${n}_cm`])])) as Record<LengthName, string>,
    shoe: profile.shoe_size_eu == null ? "" : tidy(euToShoe(profile.shoe_size_eu, shoeSystem)),
  };
}

/** The form for a stored profile; `shoeSystem` keeps the one the person picked (the server stores only EU). */
export function formFrom(profile: ProfileRead, shoeSystem?: ShoeSystem): ProfileForm {
  const system: System = profile.preferred_units.length === "in" || profile.preferred_units.weight === "lb" ? "imperial" : "metric";
  shoeSystem ??= defaultShoeSystem(system, profile.department ?? "");
  return {
    system,
    ...measurementsIn(profile, system, shoeSystem),
    shoeSystem,
    dirty: [],
    body_shape: profile.body_shape ?? "",
    fit_preference: profile.fit_preference ?? "",
    department: profile.department ?? "",
    styles: profile.styles,
    favourite: profile.favourite_colours.join(", "),
    avoided: profile.avoided_colours.join(", "),
    budgetMin: profile.budget.min == null ? "" : String(profile.budget.min),
    budgetMax: profile.budget.max == null ? "" : String(profile.budget.max),
    currency: profile.budget.currency ?? "CNY",
    home_city: profile.home_city ?? "",
    consents: { ...profile.consents },
  };
}

/** Convert what is on screen to the other system, so typed values survive a units switch. */
export function switchSystem(form: ProfileForm, system: System): ProfileForm {
  if (system === form.system) return form;
  const toImperial = system === "imperial";
  const num = (text: string) => (text.trim() === "" ? null : Number(text));
  const convert = (text: string, factor: number) => {
    const value = num(text);
    return value == null || Number.isNaN(value) ? text : tidy(toImperial ? value / factor : value * factor);
  };
  let { height, feet, inches } = form;
  if (toImperial) {
    const cm = num(height);
    if (cm != null && !Number.isNaN(cm)) {
      const fi = feetInches(cm / CM_PER_INCH);
      feet = String(fi.ft);
      inches = String(fi.inch);
    } else if (cm == null) feet = inches = "";
  } else {
    const total = (num(feet) ?? 0) * 12 + (num(inches) ?? 0);
    height = feet.trim() === "" && inches.trim() === "" ? "" : Number.isNaN(total) ? height : tidy(total * CM_PER_INCH);
  }
  return {
    ...form,
    system,
    height,
    feet,
    inches,
    weight: convert(form.weight, KG_PER_LB),
    lengths: Object.fromEntries(LENGTHS.map((n) => [n, convert(form.lengths[n], CM_PER_INCH)])) as Record<LengthName, string>,
  };
}

function parseList(text: string): string[] {
  return [...new Set(text.split(/[,，、]/).map((s) => s.trim()).filter(Boolean))];
}

const numberOrNull = (text: string) => (text.trim() === "" ? null : Number(text));

/** The PATCH body: changed measurements with their unit, everything else as shown. */
export function toUpdate(form: ProfileForm, loaded: ProfileRead): Record<string, unknown> {
  const imperial = form.system === "imperial";
  const lengthUnit = imperial ? "in" : "cm";
  const measurements: Record<string, unknown> = {};
  for (const name of form.dirty) {
    if (name === "height") {
      if (imperial) {
        const blank = form.feet.trim() === "" && form.inches.trim() === "";
        measurements.height = blank ? null : { value: (numberOrNull(form.feet) ?? 0) * 12 + (numberOrNull(form.inches) ?? 0), unit: "in" };
      } else {
        const cm = numberOrNull(form.height);
        measurements.height = cm == null ? null : { value: cm, unit: "cm" };
      }
    } else if (name === "weight") {
      const w = numberOrNull(form.weight);
      measurements.weight = w == null ? null : { value: w, unit: imperial ? "lb" : "kg" };
    } else if (name === "shoe_size") {
      const s = numberOrNull(form.shoe);
      measurements.shoe_size = s == null ? null : { value: s, system: form.shoeSystem };
    } else {
      const v = numberOrNull(form.lengths[name]);
      measurements[name] = v == null ? null : { value: v, unit: lengthUnit };
    }
  }
  const body: Record<string, unknown> = {
    body_shape: form.body_shape || null,
    fit_preference: form.fit_preference || null,
    department: form.department || null,
    styles: form.styles,
    favourite_colours: parseList(form.favourite),
    avoided_colours: parseList(form.avoided),
    home_city: form.home_city.trim() || null,
    preferred_units: imperial ? { length: "in", weight: "lb" } : { length: "cm", weight: "kg" },
    consents: form.consents,
  };
  if (Object.keys(measurements).length) body.measurements = measurements;
  const min = numberOrNull(form.budgetMin);
  const max = numberOrNull(form.budgetMax);
  if (min != null || max != null) body.budget = { min, max, currency: form.currency };
  else if (loaded.budget.min != null || loaded.budget.max != null) body.budget = null;
  return body;
}
