// The one way the page talks to the API: bearer tokens kept in localStorage (shared by every tab),
// refreshed once on a 401 and, when that fails too, a sign-out that the app turns into the sign-in
// page. Pages never read tokens themselves; they call `api()` or `accessToken()` (for sockets).

export const API = "/api/v1";

export type Role = "user" | "support" | "admin" | "evaluator";

export interface Me {
  id: string;
  email: string;
  role: Role;
  full_name: string | null;
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  /** Milliseconds since the epoch when the access token stops working. */
  expires_at: number;
}

const TOKENS_KEY = "ik.tokens";
export const SIGNED_OUT_EVENT = "ik:signed-out";

/** The API said no for a reason worth showing (`detail` is its message). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** No valid sign-in: the app shows the sign-in page (the caller keeps whatever the person typed). */
export class SignedOut extends Error {
  constructor() {
    super("signed out");
  }
}

export function readTokens(): Tokens | null {
  try {
    const raw = localStorage.getItem(TOKENS_KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

function saveTokens(body: { access_token: string; refresh_token: string; expires_in: number }): void {
  const tokens: Tokens = {
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    expires_at: Date.now() + body.expires_in * 1000,
  };
  localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
}

export function signedOut(): void {
  localStorage.removeItem(TOKENS_KEY);
  window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
}

async function detailOf(response: Response): Promise<string> {
  try {
    const body = await response.json();
    const detail = body?.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).slice(1).join(".")}: ${d.msg}`).join("; ");
    }
    return response.statusText || `HTTP ${response.status}`;
  } catch {
    return response.statusText || `HTTP ${response.status}`;
  }
}

let refreshing: Promise<boolean> | null = null;

/** Swap the refresh token for a new pair; one request at a time, whichever tab or caller asks. */
async function refresh(): Promise<boolean> {
  if (refreshing) return refreshing;
  const before = readTokens();
  if (!before) return false;
  refreshing = (async () => {
    try {
      const response = await fetch(`${API}/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: before.refresh_token }),
      });
      if (response.ok) {
        saveTokens(await response.json());
        return true;
      }
      // Another tab may have rotated it a moment ago: its new pair is then already stored.
      const now = readTokens();
      return !!now && now.refresh_token !== before.refresh_token;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** A usable access token (refreshed when it is about to expire), or SignedOut. */
export async function accessToken(): Promise<string> {
  let tokens = readTokens();
  if (!tokens) throw new SignedOut();
  if (tokens.expires_at - Date.now() < 30_000) {
    if (!(await refresh())) {
      signedOut();
      throw new SignedOut();
    }
    tokens = readTokens();
    if (!tokens) throw new SignedOut();
  }
  return tokens.access_token;
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  form?: FormData;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** The raw response of an authenticated request (for streams and images); throws ApiError / SignedOut. */
export async function apiResponse(path: string, options: RequestOptions = {}): Promise<Response> {
  const send = async (token: string): Promise<Response> => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, ...options.headers };
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form) {
      body = options.form;
    }
    return fetch(path.startsWith("/") ? path : `${API}/${path}`, {
      method: options.method ?? (body ? "POST" : "GET"),
      headers,
      body,
      signal: options.signal,
    });
  };
  let response = await send(await accessToken());
  if (response.status === 401) {
    if (!(await refresh())) {
      signedOut();
      throw new SignedOut();
    }
    response = await send((readTokens() as Tokens).access_token);
    if (response.status === 401) {
      signedOut();
      throw new SignedOut();
    }
  }
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  return response;
}

/** JSON from an authenticated request; `path` is relative to /api/v1 unless it starts with "/". */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await apiResponse(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export async function signIn(email: string, password: string): Promise<void> {
  const form = new URLSearchParams({ username: email, password });
  const response = await fetch(`${API}/auth/token`, { method: "POST", body: form });
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  saveTokens(await response.json());
}

export async function signUp(email: string, password: string, locale: "zh" | "en"): Promise<void> {
  const response = await fetch(`${API}/auth/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password, locale }),
  });
  if (!response.ok) throw new ApiError(response.status, await detailOf(response));
  await signIn(email, password);
}

export async function signOut(): Promise<void> {
  const tokens = readTokens();
  if (tokens) {
    try {
      await api("auth/logout", { json: { refresh_token: tokens.refresh_token } });
    } catch {
      // Signing out of this device goes ahead even when the server cannot be told.
    }
  }
  signedOut();
}

/** The WebSocket URL of an API path on this page's host. */
export function socketUrl(path: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${API}/${path}`;
}
