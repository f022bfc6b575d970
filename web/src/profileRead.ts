// A stored profile as `GET /users/me/profile` (and the console's person panel) returns it:
// measurements normalised to cm / kg / EU shoe size. One definition for every page that reads it.
export interface ProfileRead {
  user_id: string;
  height_cm: number | null;
  weight_kg: number | null;
  chest_cm: number | null;
  waist_cm: number | null;
  hips_cm: number | null;
  inseam_cm: number | null;
  shoulder_cm: number | null;
  shoe_size_eu: number | null;
  body_shape: string | null;
  fit_preference: string | null;
  department: string | null;
  styles: string[];
  favourite_colours: string[];
  avoided_colours: string[];
  budget: { min: number | null; max: number | null; currency: string | null };
  home_city: string | null;
  locale: "zh" | "en";
  preferred_units: { length: "cm" | "in" | null; weight: "kg" | "lb" | null };
  consents: Record<"store_photos" | "use_measurements" | "personalisation" | "marketing", boolean>;
  updated_at: string;
}
