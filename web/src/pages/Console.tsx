import type { Me } from "../api";

export default function ConsolePage({ me, sessionId }: { me: Me; sessionId: string | null }) {
  return <div data-testid="console-page">{me.email} {sessionId}</div>;
}
