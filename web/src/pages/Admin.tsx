import type { Me } from "../api";

export default function AdminPage({ me }: { me: Me }) {
  return <div data-testid="admin-page">{me.email}</div>;
}
