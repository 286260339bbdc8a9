// Owns the Studio's small DOM vocabulary: h() builds elements from a tag, attributes and children
// (text is always set as text, never parsed as HTML, so nothing a document says can become markup),
// and a few helpers the screens share.
export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (e: Event) => void;
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    // Through the CSSOM: the CSP forbids style attributes, not styles set from a script.
    else if (k === 'style') el.style.cssText = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Query words, for highlighting: letters and digits of any script, two characters or more. */
export function queryTerms(q: string): string[] {
  return [...new Set((q.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) ?? []))];
}

/** Text with the query's words wrapped in <mark>, built from text nodes only. */
export function highlight(text: string, terms: string[]): Child[] {
  if (terms.length === 0) return [text];
  const escaped = terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(${escaped.join('|')})`, 'giu');
  return text.split(re).map((part, i) => (i % 2 === 1 ? h('mark', null, part) : part));
}

export function formatNumber(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** A metadata value as one line of text. */
export function showValue(v: unknown): string {
  return Array.isArray(v) ? v.map(String).join(', ') : String(v);
}

/** The first `n` characters of a text, cut at a word. */
export function snippet(text: string | null | undefined, n = 240): string {
  if (!text) return '';
  if (text.length <= n) return text;
  const cut = text.lastIndexOf(' ', n);
  return `${text.slice(0, cut > n / 2 ? cut : n)}…`;
}
