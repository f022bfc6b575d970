// API images need the bearer token, which an <img src> cannot send: fetch the bytes and show a blob.
import { useEffect, useState, type ReactNode } from "react";
import { apiResponse } from "../api";

/** `placeholder`: shown instead when the API answers with its stand-in picture (`X-Placeholder`),
 * e.g. a catalogue product with no photo, so a card need not spend a square on an empty image. */
export function AuthImage({
  src,
  alt,
  className,
  testId,
  placeholder,
}: {
  src: string;
  alt: string;
  className?: string;
  testId?: string;
  placeholder?: ReactNode;
}) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const [standIn, setStandIn] = useState(false);
  useEffect(() => {
    let objectUrl: string | null = null;
    let live = true;
    setFailed(false);
    setStandIn(false);
    apiResponse(src)
      .then((response) => {
        if (placeholder !== undefined && response.headers.get("X-Placeholder") === "true") {
          if (live) setStandIn(true);
          return null;
        }
        return response.blob();
      })
      .then((blob) => {
        if (!live || blob === null) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      })
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [src]);
  if (standIn) return <>{placeholder}</>;
  if (failed) return <div className={`img-missing ${className ?? ""}`} role="img" aria-label={alt} data-testid={testId} />;
  if (!url) return <div className={`img-loading ${className ?? ""}`} aria-busy="true" data-testid={testId} />;
  return <img src={url} alt={alt} className={className} data-testid={testId} />;
}
