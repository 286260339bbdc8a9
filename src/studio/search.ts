// The search screen: one box, the mode (vector / keyword / hybrid, the server's default for this
// collection preselected), a filter builder over the metadata keys the collection has, results
// with scores, the matched chunk with the query's words marked, and metadata; the timing and plan
// on demand, and the same request as a curl command. Results can be marked as positive or negative
// examples and the search re-run as a recommendation. The search is kept in the URL
// (?q=…&mode=…&f=[[key, op, value], …]), so a reload or a shared link runs it again.
import type { Collection, Hit, QueryInput, QueryResult } from '../client/index.js';
import { client, curl } from './api.js';
import { h, fill, highlight, queryTerms, showValue } from './dom.js';
import { metadataFields, toFilter } from './meta.js';
import type { Condition, FieldInfo, Op } from './meta.js';
import { busy, empty, link, saveParams, screenParams } from './ui.js';

type Mode = 'vector' | 'keyword' | 'hybrid';

type Search = { text: string; mode: Mode; conditions: Condition[]; filter?: Record<string, unknown> };

/** What the last search on this page was, for the map to show ("the current query on the map"). */
export const lastSearch = new Map<string, Search>();

const OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte']);

/** The search written in the URL, if any; a malformed part is left out rather than failing. */
function searchFromUrl(defaultMode: Mode): Omit<Search, 'filter'> | undefined {
  const p = screenParams();
  const text = p.get('q');
  if (text === null || text.trim() === '') return undefined;
  const m = p.get('mode');
  let conditions: Condition[] = [];
  try {
    const f: unknown = JSON.parse(p.get('f') ?? '[]');
    if (Array.isArray(f)) conditions = f.filter((c): c is [string, Op, string] => Array.isArray(c) && c.length === 3 && typeof c[0] === 'string' && OPS.has(c[1] as string) && typeof c[2] === 'string').map(([key, op, value]) => ({ key, op, value }));
  } catch {
    // A hand-edited link with a broken filter: search without it.
  }
  return { text, mode: m === 'vector' || m === 'keyword' || (m === 'hybrid' && defaultMode === 'hybrid') ? m : defaultMode, conditions };
}

export async function searchScreen(main: HTMLElement, collection: Collection): Promise<void> {
  const name = collection.name;
  const hasModel = (collection.embedder as { provider?: string }).provider !== 'none';
  const defaultMode: Mode = hasModel ? 'hybrid' : 'vector';
  const fields = await metadataFields(name).catch((): FieldInfo[] => []);
  const fromUrl = searchFromUrl(defaultMode);
  const previous = fromUrl ?? lastSearch.get(name);
  // A search run by hand makes a history entry; the one run on opening only restates the URL.
  let opening = previous !== undefined;

  const box = h('input', { type: 'search', id: 'q', name: 'q', placeholder: 'Search by meaning or by words…', autocomplete: 'off', value: previous?.text ?? '', 'aria-label': 'Search text' });
  const modes = h(
    'fieldset',
    { class: 'modes' },
    h('legend', null, 'Mode'),
    (['vector', 'keyword', 'hybrid'] as const).map((m) =>
      h('label', { class: 'mode' }, h('input', { type: 'radio', name: 'mode', value: m, checked: (previous?.mode ?? defaultMode) === m, disabled: !hasModel && m !== 'vector' && m !== 'keyword' ? true : undefined }), m, m === defaultMode ? h('small', null, ' (default)') : null),
    ),
  );
  const conditions: Condition[] = previous?.conditions.map((c) => ({ ...c })) ?? [];
  const filterRows = h('div', { class: 'filter-rows' });
  const addCondition = h('button', { type: 'button', class: 'small', disabled: fields.length === 0 }, '+ Filter');
  const renderFilters = () => {
    fill(
      filterRows,
      conditions.map((c, i) => {
        const key = h('select', { 'aria-label': 'Metadata field', 'data-testid': 'filter-key' }, fields.map((f) => h('option', { value: f.key, selected: f.key === c.key }, f.key)));
        const op = h('select', { 'aria-label': 'Operator' }, (['$eq', '$ne', '$gt', '$gte', '$lt', '$lte'] as const).map((o) => h('option', { value: o, selected: o === c.op }, { $eq: '=', $ne: '≠', $gt: '>', $gte: '≥', $lt: '<', $lte: '≤' }[o])));
        const listId = `values-${i}`;
        const value = h('input', { 'aria-label': 'Value', list: listId, value: c.value, 'data-testid': 'filter-value' });
        const values = h('datalist', { id: listId }, (fields.find((f) => f.key === c.key)?.values ?? []).map((v) => h('option', { value: v })));
        const remove = h('button', { type: 'button', class: 'small', 'aria-label': `Remove filter on ${c.key}` }, '×');
        key.addEventListener('change', () => {
          c.key = key.value;
          renderFilters();
        });
        op.addEventListener('change', () => (c.op = op.value as Op));
        value.addEventListener('input', () => (c.value = value.value));
        remove.addEventListener('click', () => {
          conditions.splice(i, 1);
          renderFilters();
        });
        return h('div', { class: 'filter-row' }, key, op, value, values, remove);
      }),
    );
  };
  addCondition.addEventListener('click', () => {
    conditions.push({ key: fields[0]?.key ?? '', op: '$eq', value: '' });
    renderFilters();
  });
  const go = h('button', { type: 'submit', class: 'primary' }, 'Search');
  const form = h('form', { class: 'search', role: 'search' }, h('div', { class: 'row' }, box, go), h('div', { class: 'row wrap' }, modes, h('div', { class: 'filters' }, filterRows, addCondition)));
  const status = h('div', { class: 'result-status', 'aria-live': 'polite' });
  const results = h('ol', { class: 'hits', 'aria-label': 'Results' });
  const details = h('div', { class: 'details' });
  const marks = new Map<string, 'positive' | 'negative'>();
  const recommendBtn = h('button', { type: 'button', disabled: true }, 'Recommend from marked');

  // An answer to an older request than the last one sent is dropped, not shown over the newer.
  let sent = 0;
  const show = (r: QueryResult, terms: string[], request: { method: string; path: string; body: unknown }, ticket: number, asked: string) => {
    if (ticket !== sent) return;
    results.dataset.query = asked;
    status.textContent = `${r.hits.length} result${r.hits.length === 1 ? '' : 's'} · ${r.mode} · ${r.took_ms.toFixed(1)} ms${r.warning ? ` · ${r.warning}` : ''}`;
    fill(results, r.hits.length === 0 ? h('li', { class: 'none' }, 'Nothing found. Try other words, another mode, or fewer filters.') : r.hits.map((hit) => hitItem(hit, terms)));
    const cmd = curl(request.method, request.path, request.body);
    const copy = h('button', { type: 'button', class: 'small' }, 'Copy curl');
    copy.addEventListener('click', () => {
      void navigator.clipboard?.writeText(cmd).then(() => (copy.textContent = 'Copied'));
    });
    fill(
      details,
      h('details', null, h('summary', null, 'Timing and plan'), h('pre', { class: 'plan' }, JSON.stringify({ mode: r.mode, took_ms: r.took_ms, plan: r.plan }, null, 2))),
      h('details', null, h('summary', null, 'curl'), h('pre', { class: 'curl', 'data-testid': 'curl' }, cmd), copy),
    );
  };

  const hitItem = (hit: Hit, terms: string[]) => {
    const id = hit.document_id;
    const mark = (kind: 'positive' | 'negative', label: string) => {
      const b = h('button', { type: 'button', class: `small mark ${kind}`, 'aria-pressed': marks.get(id) === kind ? 'true' : 'false', 'aria-label': `Mark ${id} as ${kind}` }, label);
      b.addEventListener('click', () => {
        if (marks.get(id) === kind) marks.delete(id);
        else marks.set(id, kind);
        for (const other of b.parentElement!.querySelectorAll('button.mark')) other.setAttribute('aria-pressed', String(marks.get(id) === (other.classList.contains('positive') ? 'positive' : 'negative')));
        recommendBtn.disabled = ![...marks.values()].includes('positive');
        recommendBtn.textContent = `Recommend from marked (${marks.size})`;
      });
      return b;
    };
    const meta = Object.entries(hit.metadata ?? {});
    return h(
      'li',
      { class: 'hit' },
      h('div', { class: 'hit-head' }, h('a', { href: link(name, 'doc', id), class: 'hit-id' }, id), h('span', { class: 'score', title: 'score (higher is better)' }, hit.score.toFixed(4)), hit.chunk_index > 0 ? h('span', { class: 'chunk' }, `chunk ${hit.chunk_index}`) : null, h('span', { class: 'marks' }, mark('positive', '+'), mark('negative', '−'))),
      h('p', { class: 'text' }, highlight(hit.text ?? '', terms)),
      meta.length > 0 ? h('dl', { class: 'meta' }, meta.map(([k, v]) => [h('dt', null, k), h('dd', null, showValue(v))])) : null,
    );
  };

  const mode = () => (modes.querySelector<HTMLInputElement>('input[name=mode]:checked')?.value ?? defaultMode) as Mode;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = box.value.trim();
    if (text === '') {
      box.focus();
      return;
    }
    busy(go, async () => {
      const filter = toFilter(conditions, fields);
      const body: QueryInput = { text, k: 20, mode: mode(), include: ['text', 'metadata'], ...(filter ? { filter } : {}) };
      lastSearch.set(name, { text, mode: mode(), conditions: conditions.map((c) => ({ ...c })), ...(filter ? { filter } : {}) });
      const kept = conditions.filter((c) => c.key !== '' && c.value !== '');
      saveParams({ q: text, mode: mode(), f: kept.length === 0 ? undefined : JSON.stringify(kept.map((c) => [c.key, c.op, c.value])) }, !opening);
      opening = false;
      const ticket = ++sent;
      const r = await client().collection(name).query(body);
      show(r, queryTerms(text), { method: 'POST', path: `/v1/collections/${encodeURIComponent(name)}/query`, body }, ticket, text);
    });
  });
  recommendBtn.addEventListener('click', () => {
    busy(recommendBtn, async () => {
      const positive = [...marks].filter(([, k]) => k === 'positive').map(([id]) => id);
      const negative = [...marks].filter(([, k]) => k === 'negative').map(([id]) => id);
      const filter = toFilter(conditions, fields);
      const body = { positive, negative, k: 20, ...(filter ? { filter } : {}) };
      const ticket = ++sent;
      const r = await client().collection(name).recommend(body);
      show(r, [], { method: 'POST', path: `/v1/collections/${encodeURIComponent(name)}/recommend`, body }, ticket, `recommend:${positive.join(',')}`);
      if (ticket === sent) status.textContent = `Recommended from ${positive.length} positive and ${negative.length} negative · ${status.textContent}`;
    });
  });

  main.replaceChildren(
    h('h1', null, `Search ${name}`),
    ...(collection.document_count === 0 ? [empty('This collection is empty', 'Load data first: ', h('a', { href: link(name, 'load') }, 'drop files here'), '.')] : []),
    form,
    h('div', { class: 'row between' }, status, h('span', { class: 'row' }, h('a', { href: link(name, 'map'), class: 'button' }, 'Show on the map'), recommendBtn)),
    results,
    details,
  );
  renderFilters();
  box.focus();
  if (previous) form.requestSubmit();
}
