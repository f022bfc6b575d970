// Shapes of tools/wardrobe/schemas.py as the API returns them.
import type { Season } from "./vocab";

export interface WardrobeItem {
  id: string;
  name: string;
  caption: string | null;
  category: string | null;
  kind: string | null;
  colour: string | null;
  colours: { name: string; name_zh: string; share: number }[];
  pattern: string | null;
  seasons: Season[];
  occasions: string[];
  tags: string[];
  source: "photo" | "manual" | "purchase";
  has_photo: boolean;
  price: number | null;
  currency: string | null;
  created_at: string;
  updated_at: string;
}

export interface AddedItem {
  item: WardrobeItem;
  timings_ms: Record<string, number>;
  segmentation: string;
  worn_by_person: boolean;
}

export interface ItemUsage {
  item_id: string;
  name: string;
  category: string | null;
  wears: number;
  last_worn: string | null;
  cost_per_wear: number | null;
  currency: string | null;
}

export interface Insights {
  items: number;
  worn_items: number;
  never_worn: ItemUsage[];
  idle: ItemUsage[];
  idle_months: number;
  most_worn: ItemUsage[];
  empty_slots: string[];
}

export interface WearEntry {
  item_id: string;
  worn_on: string;
  outfit_id: string | null;
  occasion: string | null;
  created: boolean;
}

/** What the edit and add-by-hand sheets send (ItemCreate / ItemUpdate). */
export interface ItemFields {
  name: string;
  category: string | null;
  colour: string | null;
  seasons: Season[];
  tags: string[];
}

export interface Filters {
  category: string;
  season: string;
  tag: string;
}
