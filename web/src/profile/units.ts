// The same conversions as tools/profile/units.py, so the page shows stored cm/kg/EU values in the
// person's units. What is sent is the typed value with its unit: the server converts, once.

export type System = "metric" | "imperial";
export type ShoeSystem = "EU" | "UK" | "US_men" | "US_women" | "CN";
export const SHOE_SYSTEMS: ShoeSystem[] = ["EU", "UK", "US_men", "US_women", "CN"];

export const CM_PER_INCH = 2.54;
export const KG_PER_LB = 0.45359237;
const LAST_ALLOWANCE_CM = 1.5;

/** One decimal, without a trailing ".0" (what a person would type). */
export function tidy(value: number): string {
  return String(Math.round(value * 10) / 10);
}

export function cmToInches(cm: number): number {
  return cm / CM_PER_INCH;
}

export function kgToLb(kg: number): number {
  return kg / KG_PER_LB;
}

/** Feet and inches for a height in inches; 5 ft 12 in becomes 6 ft 0 in after rounding. */
export function feetInches(inches: number): { ft: number; inch: number } {
  let ft = Math.floor(inches / 12);
  let inch = Math.round((inches - ft * 12) * 10) / 10;
  if (inch >= 12) {
    ft += 1;
    inch = 0;
  }
  return { ft, inch };
}

function euToLastCm(eu: number): number {
  return eu / 1.5;
}

function lastCmToEu(last: number): number {
  return 1.5 * last;
}

export function euToShoe(eu: number, system: ShoeSystem): number {
  if (system === "EU") return eu;
  const last = euToLastCm(eu);
  if (system === "CN") return (Math.round((last - LAST_ALLOWANCE_CM) * 2) / 2) * 10;
  const uk = (3 * last) / CM_PER_INCH - 25;
  const offset = { UK: 0, US_men: 1, US_women: 2 }[system];
  return Math.round((uk + offset) * 2) / 2;
}

export function shoeToEu(value: number, system: ShoeSystem): number {
  let eu: number;
  if (system === "EU") eu = value;
  else if (system === "CN") eu = lastCmToEu((value >= 50 ? value / 10 : value) + LAST_ALLOWANCE_CM);
  else {
    const uk = value - { UK: 0, US_men: 1, US_women: 2 }[system];
    eu = lastCmToEu(((uk + 25) / 3) * CM_PER_INCH);
  }
  return Math.round(eu * 2) / 2;
}
