import type { Me } from "../api";

export default function ProfilePage({ me }: { me: Me }) {
  return <div data-testid="profile-page">{me.email}</div>;
}
