// Owns what every screen shares: navigation by the URL's hash (#/c/notes/search), the state of a
// screen in the hash's query (#/c/notes/search?q=cats&mode=hybrid: a reload or a shared link
// reopens the same view, back and forward step through it), the notice line for errors and
// results of actions (an ARIA live region), and the collection being looked at.
import { describe, needsKey } from './api.js';
import { h } from './dom.js';
import type { Child } from './dom.js';

export interface Route {
  screen: 'collections' | 'search' | 'map' | 'clusters' | 'load' | 'doc' | 'signin';
  collection?: string;
  id?: string;
  /** The screen's state: what was searched, how the map is drawn. */
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = (q < 0 ? raw : raw.slice(0, q)).split('/').map((p) => decodeURIComponent(p));
  if (parts[0] === 'c' && parts[1]) {
    const screen = parts[2] ?? 'search';
    if (screen === 'doc' && parts[3] !== undefined) return { screen: 'doc', collection: parts[1], id: parts.slice(3).join('/'), params };
    if (screen === 'search' || screen === 'map' || screen === 'clusters' || screen === 'load') return { screen, collection: parts[1], params };
    return { screen: 'search', collection: parts[1], params };
  }
  return { screen: 'collections', params };
}

/** The current screen's state from the URL. */
export function screenParams(): URLSearchParams {
  return parseHash(location.hash).params;
}

/**
 * Writes the current screen's state into the URL without drawing the screen again: `push` makes
 * a history entry (a new search: back returns to the last one), else the entry is replaced (a
 * colour chosen, a job finished). Empty values are dropped. Going back or forward changes the
 * hash, and the router draws the screen from it.
 */
export function saveParams(values: Record<string, string | undefined>, push = false): void {
  const hash = location.hash || '#/';
  const q = hash.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === '') params.delete(k);
    else params.set(k, v);
  }
  const query = params.toString();
  const next = `${q < 0 ? hash : hash.slice(0, q)}${query === '' ? '' : `?${query}`}`;
  if (next === location.hash) return;
  if (push) history.pushState(null, '', next);
  else history.replaceState(null, '', next);
}

export function link(collection: string, screen: Route['screen'], id?: string, params?: Record<string, string | undefined>): string {
  const query = new URLSearchParams(Object.entries(params ?? {}).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')).toString();
  return `#/c/${encodeURIComponent(collection)}/${screen}${id === undefined ? '' : `/${encodeURIComponent(id)}`}${query === '' ? '' : `?${query}`}`;
}

export function go(hash: string): void {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

let noticeEl: HTMLElement | undefined;

export function noticeRegion(): HTMLElement {
  noticeEl ??= h('div', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  return noticeEl;
}

export function notify(message: string, kind: 'info' | 'error' = 'info'): void {
  const el = noticeRegion();
  el.className = `notice ${kind}`;
  el.textContent = message;
  if (kind === 'info') {
    const shown = message;
    setTimeout(() => {
      if (el.textContent === shown) el.textContent = '';
    }, 6000);
  }
}

/** Reports an error; a missing or refused key sends the person to the sign-in screen. */
export function fail(err: unknown): void {
  if (needsKey(err)) {
    window.dispatchEvent(new CustomEvent('quiver:signin'));
    return;
  }
  notify(describe(err), 'error');
}

/** An empty state: what is missing and what to do next. */
export function empty(title: string, ...next: Child[]): HTMLElement {
  return h('div', { class: 'empty' }, h('h2', null, title), h('p', null, ...next));
}

/** Runs an async action from a button, disabling it meanwhile. */
export function busy(button: HTMLButtonElement, action: () => Promise<void>): void {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  action()
    .catch(fail)
    .finally(() => {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    });
}
