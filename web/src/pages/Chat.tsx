import type { Me } from "../api";

export function ChatPage({ me, sessionId }: { me: Me; sessionId: string | null }) {
  return <div data-testid="chat-page">{me.email} {sessionId}</div>;
}
