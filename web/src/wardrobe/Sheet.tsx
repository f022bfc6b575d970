// A modal sheet: full width from the bottom on a phone, a centred dialog on wider screens.
// Escape and the backdrop close it, as people expect of dialogs.
import { useEffect, type ReactNode } from "react";

interface Props {
  title: string;
  closeLabel: string;
  onClose: () => void;
  testId: string;
  children: ReactNode;
}

export function Sheet({ title, closeLabel, onClose, testId, children }: Props) {
  useEffect(() => {
    const key = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", key);
    return () => window.removeEventListener("keydown", key);
  }, [onClose]);
  return (
    <div className="wr-backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <section className="wr-sheet card" role="dialog" aria-modal="true" aria-label={title} data-testid={testId}>
        <header className="wr-sheet-head">
          <h2>{title}</h2>
          <button type="button" className="link" onClick={onClose} aria-label={closeLabel} data-testid={`${testId}-close`}>
            ✕
          </button>
        </header>
        {children}
      </section>
    </div>
  );
}
