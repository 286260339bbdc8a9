// Owns what every screen shares: navigation by the URL's hash (#/c/notes/search), the notice line
// for errors and results of actions (an ARIA live region), and the collection being looked at.
import { describe, needsKey } from './api.js';
import { h } from './dom.js';
import type { Child } from './dom.js';

export interface Route {
  screen: 'collections' | 'search' | 'map' | 'clusters' | 'load' | 'doc' | 'signin';
  collection?: string;
  id?: string;
}

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map((p) => decodeURIComponent(p));
  if (parts[0] === 'c' && parts[1]) {
    const screen = parts[2] ?? 'search';
    if (screen === 'doc' && parts[3] !== undefined) return { screen: 'doc', collection: parts[1], id: parts.slice(3).join('/') };
    if (screen === 'search' || screen === 'map' || screen === 'clusters' || screen === 'load') return { screen, collection: parts[1] };
    return { screen: 'search', collection: parts[1] };
  }
  return { screen: 'collections' };
}

export function link(collection: string, screen: Route['screen'], id?: string): string {
  return `#/c/${encodeURIComponent(collection)}/${screen}${id === undefined ? '' : `/${encodeURIComponent(id)}`}`;
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
