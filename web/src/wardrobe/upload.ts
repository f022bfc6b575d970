// Photo upload with progress. fetch() cannot report upload progress, so this one request uses
// XMLHttpRequest; it shares api.ts's tokens and error shapes (ApiError with the API's detail).
import { accessToken, API, ApiError, api } from "../api";
import type { AddedItem } from "./types";

function detailOf(xhr: XMLHttpRequest): string {
  try {
    const detail = (JSON.parse(xhr.responseText) as { detail?: unknown }).detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map((d: { msg?: string }) => d.msg ?? "").join("; ");
  } catch {
    // Not JSON (a proxy's error page): fall back to the status line.
  }
  return xhr.statusText || `HTTP ${xhr.status}`;
}

function form(file: File, caption: string, allowDuplicate: boolean): FormData {
  const body = new FormData();
  body.append("photo", file, file.name);
  if (caption.trim()) body.append("caption", caption.trim().slice(0, 300));
  if (allowDuplicate) body.append("allow_duplicate", "true");
  return body;
}

/** Upload one photo (with the person's words for it, which help recognition); `onProgress` gets 0–100 while the bytes go up, then the server classifies it. */
export async function uploadPhoto(
  file: File,
  caption: string,
  allowDuplicate: boolean,
  onProgress: (pct: number) => void): Promise<AddedItem> {
  const token = await accessToken();
  const result = await new Promise<{ status: number; body: string; detail: string }>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API}/wardrobe/items`);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
    };
    xhr.upload.onload = () => onProgress(100);
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText, detail: detailOf(xhr) });
    xhr.onerror = () => reject(new ApiError(0, "network error"));
    xhr.send(form(file, caption, allowDuplicate));
  });
  // An expired token (e.g. the tab slept): api() refreshes it or signs out; progress is not worth a second path.
  if (result.status === 401) return api<AddedItem>("wardrobe/items", { form: form(file, caption, allowDuplicate) });
  if (result.status < 200 || result.status >= 300) throw new ApiError(result.status, result.detail);
  return JSON.parse(result.body) as AddedItem;
}
