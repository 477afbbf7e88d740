// The console's one way to the server: same origin, the session cookie (HttpOnly: script never
// sees it) and the CSRF token on every change. Errors arrive as the server's `{error, message}`
// and leave as an ApiFailure a screen shows beside its field.
import { CSRF_HEADER } from "./bindings/constants";

export type Method = "GET" | "POST" | "PUT" | "DELETE";

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

let csrfToken = "";
let onSignedOut: (() => void) | null = null;

/** The CSRF token of the current session (from sign-in or `GET /v1/console/session`). */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when the server says the session has ended (401), so the shell shows sign-in. */
export function onSessionEnded(callback: (() => void) | null): void {
  onSignedOut = callback;
}

export interface RequestOptions {
  /** A bearer credential instead of the cookie (MFA enrolment only). */
  bearer?: string;
  /** Resolve with the raw response for these statuses instead of throwing (e.g. 202). */
  accept?: number[];
}

async function failureOf(response: Response): Promise<ApiFailure> {
  let kind = "http_" + response.status;
  let message = `the server answered ${response.status} ${response.statusText}`;
  let field: string | undefined;
  try {
    const body = await response.json();
    if (typeof body?.error === "string") kind = body.error;
    if (typeof body?.message === "string") message = body.message;
    if (typeof body?.field === "string") field = body.field;
  } catch {
    // Not JSON (a proxy's page): keep the status line.
  }
  return new ApiFailure(response.status, kind, message, field);
}

export async function send(method: Method, path: string, body?: unknown, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (options.bearer) headers.Authorization = `Bearer ${options.bearer}`;
  else if (method !== "GET" && csrfToken) headers[CSRF_HEADER] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiFailure(0, "offline", `cannot reach the server (${String(error)})`);
  }
  if (response.ok || options.accept?.includes(response.status)) return response;
  const failure = await failureOf(response);
  if (response.status === 401 && !options.bearer) onSignedOut?.();
  throw failure;
}

/** A JSON request; resolves with the parsed reply (undefined for 204). */
export async function request<T>(method: Method, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, body, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Downloads what `path` answers (an export) as a file, with the session's credentials. */
export async function download(path: string, fallbackName = "waypoint-export"): Promise<string> {
  const response = await send("GET", path);
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
  return name;
}

/** Builds `path?query` from the parameters that are set. */
export function withQuery(path: string, params: Record<string, string | number | boolean | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "" || value === false) continue;
    query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
