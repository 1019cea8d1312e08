// Herald's public API, as the console uses it. The console holds a console session's token
// (sessionStorage: this tab only, gone when it closes), never an API key: a key typed into the
// sign-in form is exchanged for a session at once and forgotten.

export const apiBase = location.pathname.replace(/\/console(\/.*)?$/, "");

const TOKEN = "herald.session";
const IDENTITY = "herald.identity";

export interface Identity {
  keyId: string;
  name: string;
  admin: boolean;
  projects: string[];
  project: string | null;
  expiresAt: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let token: string | null = sessionStorage.getItem(TOKEN);
let onSignedOut: (reason: string) => void = () => undefined;

export function whenSignedOut(listener: (reason: string) => void): void {
  onSignedOut = listener;
}

export function storedIdentity(): Identity | null {
  const raw = sessionStorage.getItem(IDENTITY);
  if (!token || !raw) return null;
  try {
    return JSON.parse(raw) as Identity;
  } catch {
    return null;
  }
}

function remember(session: Identity & { token: string }): Identity {
  const { token: t, ...identity } = session;
  token = t;
  sessionStorage.setItem(TOKEN, t);
  sessionStorage.setItem(IDENTITY, JSON.stringify(identity));
  return identity;
}

export function forget(): void {
  token = null;
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(IDENTITY);
}

async function send<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const all: Record<string, string> = { Accept: "application/json", ...headers };
  if (token && !headers["X-API-Key"]) all["Authorization"] = `Bearer ${token}`;
  if (body !== undefined) all["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(apiBase + path, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "Herald did not answer (is it running?)");
  }
  if (response.status === 204) return undefined as T;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    if (response.status === 401 && token && !headers["X-API-Key"] && !path.startsWith("/api/consoleSessions")) {
      forget();
      onSignedOut(String(error.message ?? "signed out"));
    }
    throw new ApiError(response.status, String(error.code ?? "error"), String(error.message ?? response.statusText), error.field ?? undefined);
  }
  return data as T;
}

export const api = {
  get: <T>(path: string) => send<T>("GET", path),
  post: <T>(path: string, body: unknown = {}) => send<T>("POST", path, body),
  patch: <T>(path: string, body: unknown) => send<T>("PATCH", path, body),
  del: (path: string) => send<void>("DELETE", path),
};

export async function signInWithKey(key: string): Promise<Identity> {
  const session = await send<Identity & { token: string }>("POST", "/api/consoleSessions", {}, { "X-API-Key": key });
  return remember(session);
}

export async function signInWithLink(link: string): Promise<Identity> {
  forget();
  const session = await send<Identity & { token: string }>("POST", "/api/consoleSessions", { link });
  return remember(session);
}

export async function signOut(): Promise<void> {
  try {
    if (token) await send("DELETE", "/api/consoleSessions/current");
  } finally {
    forget();
  }
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const enc = encodeURIComponent;

// --- types the API answers with -----------------------------------------------------------------
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export interface Channel {
  id: string;
  type: "HTTP" | "SQS" | "SNS" | "MAIL";
  address: string;
  awsRegion: string | null;
  enabled: boolean;
  timeoutSeconds: number | null;
  format: string | null;
  projects: string[];
  createdAt: string;
  previousSecretExpiresAt: string | null;
  rateLimitPerSecond: number | null;
  disabledReason: string | null;
  disabledAt: string | null;
  secret?: string;
}
export interface Health {
  state: "closed" | "open" | "half-open";
  failureRate: number;
  windowAttempts: number;
  consecutiveFailures: number;
  failingSince: string | null;
  lastError: string | null;
  nextProbeAt: string | null;
  pausedUntil: string | null;
  enabled: boolean;
  disabledReason: string | null;
}
export interface Subscription {
  id: string;
  projectId: string;
  eventCode: string;
  notificationChannelId: string;
  filterExpression: string | null;
  payloadVersion: string | null;
  format: string | null;
  enabled: boolean;
  custom: boolean;
  ordered: boolean;
  createdAt: string;
}
export interface Counts {
  pending: number;
  retryable: number;
  failed: number;
  complete: boolean;
  deletable: boolean;
}
export interface Attempt {
  at: string;
  durationMs: number;
  success: boolean;
  httpStatus?: number | null;
  error?: string | null;
  responseExcerpt?: string | null;
}
export interface Notification {
  id: string;
  eventId: string;
  subscriptionId: string;
  projectId: string;
  channelId: string;
  status: string;
  attempts: Attempt[];
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  cycle: number;
  previousCycles: { cycle: number; status: string; attempts: Attempt[]; lastError: string | null; endedAt: string }[];
}
export interface HeraldEvent {
  id: string;
  $uri: string;
  status: string;
  event_type: string;
  triggered_at: string;
  projectId: string;
  description: string;
  correlationId: string;
  payloadVersion: string | null;
  derivedFrom: string | null;
  payload: Record<string, unknown>;
  error: string | null;
  notifications: Notification[] | null;
}
export interface EventCode {
  code: string;
  description: string;
  details: string;
  payloadType: string;
  platform: string;
  examplePayload: Record<string, unknown>;
}
export interface Catalog {
  items: EventCode[];
  customCodes: string[];
}
export interface ApiKeyInfo {
  keyId: string;
  name: string;
  projects: string[];
  admin: boolean;
  createdAt: string;
  key?: string;
}
