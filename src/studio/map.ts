// The map: every document (up to 20,000, sampled beyond) as a point in 2-D from the server's PCA
// (POST .../project, computed in a worker thread there), coloured by k-means cluster with each
// cluster's label terms, by a metadata field, or by a search's scores; hover shows a snippet, a
// click opens the document, shift + drag selects a box of points to recommend from or export, and
// a search typed here is drawn on the map with its hits ringed.
import { clusterResultOf } from '../client/index.js';
import type { ClusterResult } from '../client/index.js';
import { client } from './api.js';
import { formatNumber, h, fill, showValue, snippet } from './dom.js';
import { metadataFields } from './meta.js';
import { PALETTE, RAMP } from './palette.js';
import { Scatter } from './scatter.js';
import { lastSearch } from './search.js';
import { busy, empty, fail, go, link, notify } from './ui.js';

export const MAP_LIMIT = 20_000;
/** Documents clustered in the request itself; more are clustered as a job. */
const CLUSTER_INLINE = 5_000;
const MUTED = '#9aa3ad';

interface DocInfo {
  text: string | null;
  metadata: Record<string, unknown>;
}

export async function mapScreen(main: HTMLElement, collection: string, documents: number): Promise<void> {
  const t0 = performance.now();
  if (documents === 0) {
    main.replaceChildren(h('h1', null, `Map of ${collection}`), empty('Nothing to draw yet', 'The map shows every document as a point. ', h('a', { href: link(collection, 'load') }, 'Load data'), ' first.'));
    return;
  }
  const canvas = h('canvas', { class: 'map', tabindex: 0, role: 'img', 'aria-label': `Map of ${collection}: each document is a point; similar documents lie close together. Arrow keys pan, + and − zoom, 0 fits; Enter opens the document nearest the centre.` });
  const tip = h('div', { class: 'tip', role: 'tooltip', hidden: true });
  const legend = h('ul', { class: 'legend', 'aria-label': 'Legend' });
  const colourBy = h('select', { id: 'colour-by', 'aria-label': 'Colour by' }, h('option', { value: 'cluster' }, 'Cluster'), h('option', { value: 'scores' }, 'Search scores'));
  const query = h('input', { type: 'search', id: 'map-q', placeholder: 'Show a search on the map…', 'aria-label': 'Search to show on the map', value: lastSearch.get(collection)?.text ?? '' });
  const queryBtn = h('button', { type: 'submit' }, 'Show');
  const info = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Projecting…');
  const selection = h('div', { class: 'selection', 'aria-live': 'polite' });
  const queryForm = h('form', { class: 'row', role: 'search' }, query, queryBtn);
  main.replaceChildren(
    h('h1', null, `Map of ${collection}`),
    h('div', { class: 'row wrap map-controls' }, h('label', { for: 'colour-by' }, 'Colour by'), colourBy, queryForm),
    info,
    h('div', { class: 'map-wrap' }, canvas, tip, h('aside', { class: 'map-side' }, h('h2', null, 'Legend'), legend, selection)),
  );

  const projected = await client().collection(collection).project({ limit: Math.min(MAP_LIMIT, Math.max(1, documents)) });
  const pts = projected.points;
  const ids = pts.map((p) => p.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const docs = new Map<string, DocInfo>();
  let clusters: ClusterResult | undefined;
  let scores = new Map<number, number>();

  const scatter = new Scatter(canvas, {
    hover: (i, x, y) => {
      if (i === null) {
        tip.hidden = true;
        return;
      }
      const id = ids[i]!;
      const d = docs.get(id);
      const rect = canvas.parentElement!.getBoundingClientRect();
      tip.style.left = `${Math.min(x - rect.left + 12, rect.width - 260)}px`;
      tip.style.top = `${y - rect.top + 12}px`;
      fill(tip, h('strong', null, id), d ? h('p', null, snippet(d.text, 200)) : h('p', { class: 'muted' }, 'loading…'));
      tip.hidden = false;
      if (!d) {
        void client()
          .collection(collection)
          .get(id)
          .then((doc) => {
            docs.set(id, { text: doc.text, metadata: doc.metadata });
          })
          .catch(() => undefined);
      }
    },
    click: (i) => go(link(collection, 'doc', ids[i])),
    select: (indices) => showSelection(indices),
  });
  scatter.setPoints(Float32Array.from(pts, (p) => p.x), Float32Array.from(pts, (p) => p.y));
  // The first frame is the "time to first map" the bench measures (benchmarks/studio.ts).
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const firstMap = performance.now() - t0;
  canvas.dataset.firstMapMs = firstMap.toFixed(0);
  // Since the page's navigation began: loading the page itself included.
  canvas.dataset.firstMapAt = performance.now().toFixed(0);
  canvas.dataset.points = String(pts.length);
  info.textContent = `${formatNumber(pts.length)} of ${formatNumber(projected.total)} documents · PCA (${projected.explained_variance.map((v) => `${(v * 100).toFixed(0)}%`).join(' + ')} of the variance) · drawn in ${firstMap.toFixed(0)} ms · drag to pan, wheel to zoom, shift + drag to select`;

  const recolour = () => {
    const mode = colourBy.value;
    const colours = new Uint16Array(ids.length).fill(0xffff);
    if (mode === 'cluster') {
      if (!clusters) {
        fill(legend, h('li', { class: 'muted' }, 'Clustering…'));
      } else {
        clusters.clusters.forEach((c, ci) => {
          for (const id of c.members ?? []) {
            const i = index.get(id);
            if (i !== undefined) colours[i] = ci % PALETTE.length;
          }
        });
        fill(legend, clusters.clusters.map((c, ci) => h('li', null, h('span', { class: 'swatch', style: `--c:${PALETTE[ci % PALETTE.length]}`, 'aria-hidden': 'true' }), `${c.top_terms.slice(0, 3).join(' · ') || `cluster ${c.id}`} (${formatNumber(c.size)})`)));
      }
      scatter.setColors(colours, PALETTE, MUTED);
    } else if (mode === 'scores') {
      const values = [...scores.values()];
      const lo = Math.min(...values);
      const hi = Math.max(...values);
      for (const [i, s] of scores) colours[i] = Math.round(((s - lo) / (hi - lo || 1)) * (RAMP.length - 1));
      fill(legend, values.length === 0 ? h('li', { class: 'muted' }, 'Search above to colour by scores.') : [h('li', null, h('span', { class: 'swatch', style: `--c:${RAMP[RAMP.length - 1]}`, 'aria-hidden': 'true' }), `best ${hi.toFixed(3)}`), h('li', null, h('span', { class: 'swatch', style: `--c:${RAMP[0]}`, 'aria-hidden': 'true' }), `lowest shown ${lo.toFixed(3)}`)]);
      scatter.setColors(colours, RAMP, MUTED);
    } else {
      const key = mode.slice('field:'.length);
      const values = new Map<string, number>();
      ids.forEach((id, i) => {
        const v = docs.get(id)?.metadata[key];
        if (v === undefined) return;
        const s = showValue(v);
        let c = values.get(s);
        if (c === undefined) {
          c = values.size < PALETTE.length - 1 ? values.size : PALETTE.length - 1;
          values.set(s, c);
        }
        colours[i] = c;
      });
      fill(legend, [...values].slice(0, PALETTE.length).map(([v, c]) => h('li', null, h('span', { class: 'swatch', style: `--c:${PALETTE[c]}`, 'aria-hidden': 'true' }), c === PALETTE.length - 1 ? 'other values' : v)), values.size === 0 ? h('li', { class: 'muted' }, `No document shown has "${key}".`) : null);
      scatter.setColors(colours, PALETTE, MUTED);
    }
  };
  colourBy.addEventListener('change', recolour);
  recolour();

  const showSelection = (indices: number[]) => {
    if (indices.length === 0) {
      selection.replaceChildren();
      return;
    }
    const chosen = indices.map((i) => ids[i]!);
    const rec = h('button', { type: 'button', class: 'primary small' }, 'Recommend from these');
    const exp = h('button', { type: 'button', class: 'small' }, 'Export ids');
    const clear = h('button', { type: 'button', class: 'small' }, 'Clear');
    const out = h('ol', { class: 'similar' });
    rec.addEventListener('click', () =>
      busy(rec, async () => {
        const r = await client().collection(collection).recommend({ positive: chosen.slice(0, 100), k: 20 });
        scores = new Map(r.hits.map((hit) => [index.get(hit.document_id) ?? -1, hit.score] as const).filter(([i]) => i >= 0));
        scatter.setHighlighted(scores.keys());
        fill(out, r.hits.map((hit) => h('li', null, h('a', { href: link(collection, 'doc', hit.document_id) }, hit.document_id), h('span', { class: 'score' }, hit.score.toFixed(3)))));
      }),
    );
    exp.addEventListener('click', () => {
      const url = URL.createObjectURL(new Blob([JSON.stringify(chosen, null, 2)], { type: 'application/json' }));
      const a = h('a', { href: url, download: `${collection}-selection.json` });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
    clear.addEventListener('click', () => {
      scatter.clearSelection();
      selection.replaceChildren();
    });
    fill(selection, h('h2', null, `${formatNumber(chosen.length)} selected`), h('div', { class: 'row wrap' }, rec, exp, clear), out);
  };

  // The hits ringed on the map: the best few, so that they stand out of a small collection too.
  const MAP_HITS = 20;
  let explicit = true;
  queryForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const chosen = explicit;
    explicit = true;
    const text = query.value.trim();
    if (text === '') {
      scores = new Map();
      scatter.setHighlighted([]);
      recolour();
      return;
    }
    busy(queryBtn, async () => {
      const prev = lastSearch.get(collection);
      const r = await client().collection(collection).query({ text, k: MAP_HITS, include: [], ...(prev?.text === text && prev.filter ? { filter: prev.filter } : {}) });
      scores = new Map(r.hits.map((hit) => [index.get(hit.document_id) ?? -1, hit.score] as const).filter(([i]) => i >= 0));
      scatter.setHighlighted(scores.keys());
      // The search carried over from the search screen rings its hits; one typed here also colours by score.
      if (chosen) colourBy.value = 'scores';
      recolour();
      info.dataset.hits = String(scores.size);
      notify(`"${text}": the best ${r.hits.length} hits, ${scores.size} of them on the map, are ringed.`);
    });
  });
  if (query.value !== '') {
    explicit = false;
    queryForm.requestSubmit();
  }

  // In the background: clusters for the colours, then the documents' text and metadata for the
  // tooltips and the metadata colours. The map is usable meanwhile.
  // Past a few thousand documents k-means (with k chosen by silhouette) can outlast a request's
  // time limit on a busy server (13-16 s for 20,000 on the 2-core test machine): it runs as a job.
  const clusterInput = { sample: Math.min(MAP_LIMIT, Math.max(2, documents)), include_members: true };
  const handle = client().collection(collection);
  const clustering: Promise<ClusterResult> =
    documents <= CLUSTER_INLINE
      ? handle.cluster(clusterInput)
      : handle
          .clusterJob(clusterInput)
          .then((job) => client().jobs.wait(job.id))
          .then((job) => {
            const result = clusterResultOf(job);
            if (!result) throw new Error(`clustering failed: ${job.error ?? job.status}`);
            return result;
          });
  clustering
    .then((r) => {
      clusters = r;
      if (colourBy.value === 'cluster') recolour();
    })
    .catch((err: unknown) => {
      fill(legend, h('li', { class: 'muted' }, 'No clusters (too few documents?)'));
      if (documents > 2) fail(err);
    });
  void (async () => {
    try {
      const fields = await metadataFields(collection);
      colourBy.append(...fields.map((f) => h('option', { value: `field:${f.key}` }, `metadata: ${f.key}`)));
      for await (const d of client().collection(collection).iterate({ limit: 1000 })) {
        docs.set(d.id, { text: d.text, metadata: d.metadata });
        // Stop when the map is left (another screen replaced it) or holds enough.
        if (!canvas.isConnected || docs.size >= MAP_LIMIT * 2) break;
      }
      if (colourBy.value.startsWith('field:')) recolour();
    } catch (err) {
      fail(err);
    }
  })();
}
