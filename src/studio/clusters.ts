// The clusters screen: k-means topics of the collection (POST .../cluster) with their label terms,
// sizes and sample members; re-run with another k. The same colours as the map.
import type { ClusterResult } from '../client/index.js';
import { client } from './api.js';
import { formatNumber, h, fill } from './dom.js';
import { PALETTE } from './palette.js';
import { busy, empty, link } from './ui.js';

export async function clustersScreen(main: HTMLElement, collection: string, documents: number): Promise<void> {
  if (documents < 2) {
    main.replaceChildren(h('h1', null, `Clusters of ${collection}`), empty('Too few documents to cluster', h('a', { href: link(collection, 'load') }, 'Load data'), ' first.'));
    return;
  }
  const k = h('input', { id: 'k', type: 'number', min: 2, max: 50, placeholder: 'auto', 'aria-describedby': 'k-help' });
  const run = h('button', { type: 'submit', class: 'primary' }, 'Re-run');
  const out = h('div', { class: 'clusters' });
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const render = (r: ClusterResult) => {
    summary.textContent = `k = ${r.k} · ${formatNumber(r.documents)} of ${formatNumber(r.total)} documents · silhouette ${r.silhouette === null ? '—' : r.silhouette.toFixed(3)}`;
    fill(
      out,
      r.clusters.map((c, i) =>
        h(
          'article',
          { class: 'cluster' },
          h('h2', null, h('span', { class: 'swatch', style: `--c:${PALETTE[i % PALETTE.length]}`, 'aria-hidden': 'true' }), c.top_terms.slice(0, 4).join(' · ') || `cluster ${c.id}`),
          h('p', { class: 'muted' }, `${formatNumber(c.size)} documents`),
          h('ul', null, (c.members ?? c.centroid_document_ids).slice(0, 5).map((id) => h('li', null, h('a', { href: link(collection, 'doc', id) }, id)))),
        ),
      ),
    );
  };
  const load = async () => render(await client().collection(collection).cluster({ ...(k.value === '' ? {} : { k: Number(k.value) }), sample: Math.min(documents, 5000) }));
  const form = h('form', { class: 'row' }, h('label', { for: 'k' }, 'Clusters (k)'), k, h('small', { id: 'k-help' }, 'empty: chosen by silhouette'), run);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(run, load);
  });
  main.replaceChildren(h('h1', null, `Clusters of ${collection}`), form, summary, out);
  await load();
}
