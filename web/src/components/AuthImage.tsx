// API images need the bearer token, which an <img src> cannot send: fetch the bytes and show a blob.
import { useEffect, useState } from "react";
import { apiResponse } from "../api";

export function AuthImage({ src, alt, className, testId }: { src: string; alt: string; className?: string; testId?: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let objectUrl: string | null = null;
    let live = true;
    setFailed(false);
    apiResponse(src)
      .then((response) => response.blob())
      .then((blob) => {
        if (!live) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      })
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [src]);
  if (failed) return <div className={`img-missing ${className ?? ""}`} role="img" aria-label={alt} data-testid={testId} />;
  if (!url) return <div className={`img-loading ${className ?? ""}`} aria-busy="true" data-testid={testId} />;
  return <img src={url} alt={alt} className={className} data-testid={testId} />;
}
