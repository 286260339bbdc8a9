// Owns how the Studio reaches the server: the typed client (src/client, "one client, not three",
// issue 19) on this page's own origin, with the API key kept in sessionStorage only (gone when the
// tab closes; never in localStorage, a cookie or the URL).
import { QuiverApiError, QuiverClient } from '../client/index.js';

const KEY = 'quiver.studio.key';

export function apiKey(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function setApiKey(key: string | undefined): void {
  if (key === undefined) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
  current = undefined;
}

let current: QuiverClient | undefined;

export function client(): QuiverClient {
  if (current === undefined) {
    const key = apiKey();
    current = new QuiverClient({ url: location.origin, ...(key === undefined ? {} : { apiKey: key }) });
  }
  return current;
}

/** Whether an error means the server wants a (better) key. */
export function needsKey(err: unknown): boolean {
  return err instanceof QuiverApiError && (err.status === 401 || err.code === 'UNAUTHORIZED');
}

/** An error as one sentence for a person. */
export function describe(err: unknown): string {
  if (err instanceof QuiverApiError) return `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The curl command that sends the same request, with the key left as a variable. */
export function curl(method: string, path: string, body?: unknown): string {
  const parts = [`curl -s -X${method} '${location.origin}${path}'`];
  if (apiKey() !== undefined) parts.push(`-H "authorization: Bearer $QUIVER_API_KEY"`);
  if (body !== undefined) {
    parts.push(`-H 'content-type: application/json'`);
    parts.push(`-d '${JSON.stringify(body).replace(/'/g, "'\\''")}'`);
  }
  return parts.join(' \\\n  ');
}
