// Quiver Studio (issue 15): the page's frame — header, navigation between the screens of a
// collection, light and dark themes, the sign-in screen when the server wants a key — and the
// router that draws one screen at a time into <main>. Every datum comes through the typed client.
import './style.css';
import { apiKey, client, describe, needsKey, setApiKey } from './api.js';
import { clustersScreen } from './clusters.js';
import { collectionsScreen } from './collections.js';
import { documentScreen } from './doc.js';
import { h } from './dom.js';
import { loadScreen } from './load.js';
import { mapScreen } from './map.js';
import { searchScreen } from './search.js';
import { link, noticeRegion, parseHash } from './ui.js';
import type { Route } from './ui.js';

const THEME = 'quiver.studio.theme';

function isDark(): boolean {
  const t = document.documentElement.dataset.theme;
  return t === 'dark' || (t === undefined && matchMedia('(prefers-color-scheme: dark)').matches);
}

function applyTheme(theme: string | null): void {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  themeBtn.textContent = isDark() ? 'Light theme' : 'Dark theme';
}

const main = h('main', { id: 'main', tabindex: -1 });
const nav = h('nav', { class: 'tabs', 'aria-label': 'Collection' });
const collectionName = h('span', { class: 'current' });
const themeBtn = h('button', { type: 'button', class: 'small' });
const signOut = h('button', { type: 'button', class: 'small', hidden: true }, 'Sign out');
let signingIn = false;

function frame(): void {
  applyTheme(localStorage.getItem(THEME));
  themeBtn.addEventListener('click', () => {
    const next = isDark() ? 'light' : 'dark';
    localStorage.setItem(THEME, next);
    applyTheme(next);
  });
  signOut.addEventListener('click', () => {
    setApiKey(undefined);
    void render();
  });
  document.body.replaceChildren(
    h('a', { href: '#main', class: 'skip' }, 'Skip to content'),
    h('header', { class: 'top' }, h('a', { href: '#/', class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '◆'), 'Quiver Studio'), collectionName, nav, h('span', { class: 'spacer' }), signOut, themeBtn),
    noticeRegion(),
    main,
  );
}

function tabs(route: Route): void {
  const name = route.collection;
  collectionName.textContent = name === undefined ? '' : `/ ${name}`;
  nav.replaceChildren(
    ...(name === undefined
      ? []
      : (['search', 'map', 'clusters', 'load'] as const).map((s) =>
          h('a', { href: link(name, s), 'aria-current': route.screen === s ? 'page' : undefined }, { search: 'Search', map: 'Map', clusters: 'Clusters', load: 'Load data' }[s]),
        )),
  );
}

function signIn(message?: string): void {
  signingIn = true;
  tabs({ screen: 'signin', params: new URLSearchParams() });
  const key = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    { class: 'signin' },
    h('h1', null, 'Sign in'),
    h('p', null, 'This server asks for an API key. It is kept in this tab only (sessionStorage) and sent with each request.'),
    h('label', { for: 'api-key' }, 'API key'),
    key,
    error,
    submit,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setApiKey(key.value);
    signingIn = false;
    void render();
  });
  main.replaceChildren(form);
  key.focus();
}

let rendering = 0;

async function render(): Promise<void> {
  const ticket = ++rendering;
  const route = parseHash(location.hash);
  signOut.hidden = apiKey() === undefined;
  tabs(route);
  main.replaceChildren(h('p', { class: 'muted loading' }, 'Loading…'));
  try {
    if (route.screen === 'collections' || route.collection === undefined) {
      document.title = 'Collections · Quiver Studio';
      await collectionsScreen(main);
      return;
    }
    const name = route.collection;
    const info = await client().collections.get(name);
    if (ticket !== rendering) return;
    const titles = { search: 'Search', map: 'Map', clusters: 'Clusters', load: 'Load data', doc: 'Document', signin: 'Sign in', collections: 'Collections' };
    document.title = `${titles[route.screen]} · ${name} · Quiver Studio`;
    if (route.screen === 'search') await searchScreen(main, info);
    else if (route.screen === 'map') await mapScreen(main, name, info.document_count);
    else if (route.screen === 'clusters') await clustersScreen(main, name, info.document_count);
    else if (route.screen === 'load') loadScreen(main, name);
    else if (route.screen === 'doc' && route.id !== undefined) await documentScreen(main, name, route.id);
  } catch (err) {
    if (ticket !== rendering) return;
    if (needsKey(err)) {
      signIn(apiKey() === undefined ? undefined : `That key was refused: ${describe(err)}`);
      return;
    }
    main.replaceChildren(h('h1', null, 'Something went wrong'), h('p', { class: 'error', role: 'alert' }, describe(err)), h('p', null, h('a', { href: '#/' }, 'Back to the collections')));
  }
}

frame();
window.addEventListener('hashchange', () => void render());
window.addEventListener('quiver:signin', () => {
  if (!signingIn) signIn(apiKey() === undefined ? undefined : 'That key may not do this; sign in with another.');
});
// Keyboard: "/" focuses the search box of the screen, as in most tools.
window.addEventListener('keydown', (e) => {
  const target = e.target as HTMLElement | null;
  if (e.key === '/' && target && !['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) {
    const box = document.querySelector<HTMLInputElement>('input[type=search]');
    if (box) {
      e.preventDefault();
      box.focus();
    }
  }
});
void render();
