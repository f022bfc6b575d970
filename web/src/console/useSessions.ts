// The live conversation list, polled: a support console is left open for hours, and a poll
// recovers by itself from a restart or a dropped connection where a stream would need care.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, SignedOut } from "../api";
import { describe } from "./strings";
import type { ConsoleSession } from "./types";

const POLL_MS = 3_000;

export function useSessions(waitingOnly: boolean) {
  const [sessions, setSessions] = useState<ConsoleSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);

  const refresh = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const list = await api<ConsoleSession[]>(`support/sessions?handoff_only=${waitingOnly}`);
      if (mine !== generation.current) return;
      setSessions(list);
      setError(null);
    } catch (failure) {
      if (failure instanceof SignedOut || mine !== generation.current) return;
      setError(describe(failure));
    }
  }, [waitingOnly]);

  useEffect(() => {
    setSessions(null);
    void refresh();
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") void refresh();
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [refresh]);

  return { sessions, error, refresh };
}
