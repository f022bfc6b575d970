import type { Me } from "../api";

export default function WardrobePage({ me }: { me: Me }) {
  return <div data-testid="wardrobe-page">{me.email}</div>;
}
