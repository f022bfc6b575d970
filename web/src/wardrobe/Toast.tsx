// A short-lived confirmation ("Saved") that screen readers announce; errors stay in place instead.
import { useEffect, useState } from "react";
import "./toast.css";

export interface ToastMessage {
  text: string;
  /** Changes on every message so the same text twice still shows (and restarts the timer). */
  id: number;
}

export function useToast(): [ToastMessage | null, (text: string) => void] {
  const [toast, setToast] = useState<ToastMessage | null>(null);
  useEffect(() => {
    if (!toast) return;
    const timer = window.setTimeout(() => setToast(null), 4000);
    return () => window.clearTimeout(timer);
  }, [toast]);
  return [toast, (text: string) => setToast({ text, id: Date.now() })];
}

export function Toast({ toast }: { toast: ToastMessage | null }) {
  if (!toast) return null;
  return (
    <div className="ik-toast" role="status" aria-live="polite" data-testid="toast" key={toast.id}>
      {toast.text}
    </div>
  );
}
