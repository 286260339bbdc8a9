// The document view: its text with the chunks it was split into, its metadata, and "more like
// this" (GET .../documents/{id}/similar).
import { client } from './api.js';
import { h, showValue, snippet } from './dom.js';
import { link } from './ui.js';

export async function documentScreen(main: HTMLElement, collection: string, id: string): Promise<void> {
  const handle = client().collection(collection);
  const [doc, similar] = await Promise.all([handle.get(id, { include: ['chunks'] }), handle.similar(id, { k: 10 }).catch(() => undefined)]);
  const chunks = doc.chunks ?? [];
  const meta = Object.entries(doc.metadata);
  main.replaceChildren(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: link(collection, 'search') }, collection), ' / ', h('span', null, id)),
    h('h1', { class: 'doc-title' }, id),
    h(
      'div',
      { class: 'doc' },
      h(
        'section',
        { class: 'doc-text', 'aria-label': 'Text and chunks' },
        h('h2', null, chunks.length > 1 ? `Text in ${chunks.length} chunks` : 'Text'),
        chunks.length > 1
          ? h('ol', { class: 'chunks' }, chunks.map((c) => h('li', { class: c.embedded ? 'chunk' : 'chunk not-embedded', title: c.embedded ? `chunk ${c.index}, characters ${c.start}–${c.end}` : 'not embedded (no known words)' }, c.text ?? doc.text?.slice(c.start, c.end) ?? '')))
          : h('p', { class: 'text' }, doc.text ?? '(no text: a vector only)'),
      ),
      h(
        'aside',
        null,
        h('h2', null, 'Metadata'),
        meta.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('dl', { class: 'meta' }, meta.map(([k, v]) => [h('dt', null, k), h('dd', null, showValue(v))])),
        h('p', { class: 'muted small' }, `Updated ${new Date(doc.updated_at).toLocaleString()}`),
        h('h2', null, 'More like this'),
        !similar || similar.hits.length === 0
          ? h('p', { class: 'muted' }, 'No similar documents (it may have no vector).')
          : h(
              'ol',
              { class: 'similar' },
              similar.hits.map((hit) => h('li', null, h('a', { href: link(collection, 'doc', hit.document_id) }, hit.document_id), h('span', { class: 'score' }, hit.score.toFixed(3)), h('p', { class: 'small' }, snippet(hit.text, 140)))),
            ),
      ),
    ),
  );
}
