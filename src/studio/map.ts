// The map: every document (up to 20,000, sampled beyond) as a point in 2-D, by the server's PCA
// (POST .../project, answered at once) or UMAP (a project job: neighbours stay neighbours, so
// topics come apart; the PCA map is shown meanwhile, with the job's progress, and the points are
// swapped when it is done). Coloured by k-means cluster with each cluster's label terms, by a
// metadata field, or by a search's scores; hover shows a snippet (fetched then: the map's own
// request carries only ids and coordinates; metadata comes when a colour or an export needs it), a
// click opens the document; a box or a
// lasso (or S, for the points in view) selects a set to recommend from or export; a search typed
// here is drawn on the map with its hits ringed. Projection, colouring and query are kept in the
// URL (?proj=umap&job=…&colour=…&q=…), so a reload reopens the same map without a new UMAP run.
import { clusterResultOf, projectResultOf } from '../client/index.js';
import type { ClusterResult, Job, ProjectResult } from '../client/index.js';
import { client } from './api.js';
import { formatNumber, h, fill, showValue, snippet } from './dom.js';
import { metadataFields } from './meta.js';
import { PALETTE, RAMP } from './palette.js';
import { Scatter } from './scatter.js';
import type { DragTool } from './scatter.js';
import { lastSearch } from './search.js';
import { busy, empty, fail, go, link, notify, saveParams, screenParams } from './ui.js';

export const MAP_LIMIT = 20_000;
/** Documents laid out by UMAP: a seeded sample beyond (it takes ~40 s for 5,000 on 2 busy cores). */
export const UMAP_SAMPLE = 5_000;
/** Documents clustered in the request itself; more are clustered as a job. */
const CLUSTER_INLINE = 5_000;
const MUTED = '#9aa3ad';
type Point = ProjectResult['points'][number];

export async function mapScreen(main: HTMLElement, collection: string, documents: number): Promise<void> {
  const t0 = performance.now();
  if (documents === 0) {
    main.replaceChildren(h('h1', null, `Map of ${collection}`), empty('Nothing to draw yet', 'The map shows every document as a point. ', h('a', { href: link(collection, 'load') }, 'Load data'), ' first.'));
    return;
  }
  const params = screenParams();
  const canvas = h('canvas', { class: 'map', tabindex: 0, role: 'img', 'aria-label': `Map of ${collection}: each document is a point; similar documents lie close together. Arrow keys pan, + and − zoom, 0 fits; Enter opens the document nearest the centre; S selects the points in view.` });
  const tip = h('div', { class: 'tip', role: 'tooltip', hidden: true });
  const legend = h('ul', { class: 'legend', 'aria-label': 'Legend' });
  const projection = h('select', { id: 'projection', 'aria-label': 'Projection' }, h('option', { value: 'pca' }, 'PCA'), h('option', { value: 'umap' }, 'UMAP'));
  const colourBy = h('select', { id: 'colour-by', 'aria-label': 'Colour by' }, h('option', { value: 'cluster' }, 'Cluster'), h('option', { value: 'scores' }, 'Search scores'));
  const tools = h(
    'fieldset',
    { class: 'modes tools' },
    h('legend', null, 'Drag to'),
    (['pan', 'box', 'lasso'] as const).map((t) => h('label', { class: 'mode' }, h('input', { type: 'radio', name: 'drag-tool', value: t, checked: t === 'pan' }), { pan: 'pan', box: 'select a box', lasso: 'lasso' }[t])),
  );
  const inView = h('button', { type: 'button', class: 'small', id: 'select-in-view' }, 'Select points in view');
  const query = h('input', { type: 'search', id: 'map-q', placeholder: 'Show a search on the map…', 'aria-label': 'Search to show on the map', value: params.get('q') ?? lastSearch.get(collection)?.text ?? '' });
  const queryBtn = h('button', { type: 'submit' }, 'Show');
  const info = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Projecting…');
  const progress = h('p', { class: 'job-progress', role: 'status', hidden: true });
  const selection = h('div', { class: 'selection', 'aria-live': 'polite' });
  const queryForm = h('form', { class: 'row', role: 'search' }, query, queryBtn);
  main.replaceChildren(
    h('h1', null, `Map of ${collection}`),
    h('div', { class: 'row wrap map-controls' }, h('label', { for: 'projection' }, 'Projection'), projection, h('label', { for: 'colour-by' }, 'Colour by'), colourBy, queryForm),
    h('div', { class: 'row wrap map-controls' }, tools, inView),
    info,
    progress,
    h('div', { class: 'map-wrap' }, canvas, tip, h('aside', { class: 'map-side' }, h('h2', null, 'Legend'), legend, selection)),
  );

  const handle = client().collection(collection);
  const limit = Math.min(MAP_LIMIT, Math.max(1, documents));
  // Only ids and coordinates for the first map: reading every document's metadata made the
  // request half as slow again (20,000 points: 4.0-4.3 s against 6.3-6.5 s on the busy test box).
  const pca = await handle.project({ limit });
  let shown: ProjectResult = pca;
  let ids: string[] = [];
  let index = new Map<string, number>();
  const texts = new Map<string, string | null>();
  const metadata = new Map<string, Record<string, unknown>>();
  let clusters: ClusterResult | undefined;
  /** The last search's or recommendation's scores, by document id (so they survive a change of projection). */
  let scores = new Map<string, number>();

  const scatter = new Scatter(canvas, {
    hover: (i, x, y) => {
      if (i === null) {
        tip.hidden = true;
        return;
      }
      const id = ids[i]!;
      const rect = canvas.parentElement!.getBoundingClientRect();
      tip.style.left = `${Math.min(x - rect.left + 12, rect.width - 260)}px`;
      tip.style.top = `${y - rect.top + 12}px`;
      const text = texts.get(id);
      fill(tip, h('strong', null, id), text !== undefined ? h('p', null, snippet(text, 200)) : h('p', { class: 'muted' }, 'loading…'));
      tip.hidden = false;
      if (text === undefined) {
        void handle
          .get(id)
          .then((doc) => {
            texts.set(id, doc.text);
            if (!tip.hidden && tip.querySelector('strong')?.textContent === id) fill(tip, h('strong', null, id), h('p', null, snippet(doc.text, 200)));
          })
          .catch(() => undefined);
      }
    },
    click: (i) => go(link(collection, 'doc', ids[i])),
    select: (indices) => showSelection(indices),
  });

  const describe = (r: ProjectResult) =>
    r.method === 'umap'
      ? `UMAP of ${r.points.length < r.total ? `a sample of ${formatNumber(r.points.length)} (seed ${r.seed})` : `all ${formatNumber(r.points.length)}`}`
      : `PCA (${r.explained_variance.map((v) => `${(v * 100).toFixed(0)}%`).join(' + ')} of the variance)`;
  const show = (r: ProjectResult) => {
    shown = r;
    ids = r.points.map((p) => p.id);
    index = new Map(ids.map((id, i) => [id, i]));
    for (const p of r.points) if (p.metadata) metadata.set(p.id, p.metadata);
    scatter.setPoints(Float32Array.from(r.points, (p: Point) => p.x), Float32Array.from(r.points, (p: Point) => p.y));
    canvas.dataset.points = String(r.points.length);
    canvas.dataset.projection = r.method;
    selection.replaceChildren();
    recolour();
    scatter.setHighlighted(indicesOf(scores.keys()));
  };
  // The same sample with its metadata (same seed and limit), asked for once, when a metadata
  // colour or an export first needs it. Text is fetched on hover.
  let metadataLoad: Promise<void> | undefined;
  const loadMetadata = (): Promise<void> => {
    metadataLoad ??= handle.project({ limit, include: ['metadata'] }).then((r) => {
      for (const p of r.points) if (p.metadata) metadata.set(p.id, p.metadata);
    });
    metadataLoad.catch(() => (metadataLoad = undefined));
    return metadataLoad;
  };
  const indicesOf = (keys: Iterable<string>) => [...keys].flatMap((id) => (index.has(id) ? [index.get(id)!] : []));
  const summary = (extra: string) => `${formatNumber(shown.points.length)} of ${formatNumber(shown.total)} documents · ${describe(shown)}${extra} · drag to pan, wheel to zoom, shift + drag or the tools to select`;

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
      for (const [id, s] of scores) {
        const i = index.get(id);
        if (i !== undefined) colours[i] = Math.round(((s - lo) / (hi - lo || 1)) * (RAMP.length - 1));
      }
      fill(legend, values.length === 0 ? h('li', { class: 'muted' }, 'Search above to colour by scores.') : [h('li', null, h('span', { class: 'swatch', style: `--c:${RAMP[RAMP.length - 1]}`, 'aria-hidden': 'true' }), `best ${hi.toFixed(3)}`), h('li', null, h('span', { class: 'swatch', style: `--c:${RAMP[0]}`, 'aria-hidden': 'true' }), `lowest shown ${lo.toFixed(3)}`)]);
      scatter.setColors(colours, RAMP, MUTED);
    } else {
      const key = mode.slice('field:'.length);
      const values = new Map<string, number>();
      ids.forEach((id, i) => {
        const v = metadata.get(id)?.[key];
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
  const colourByMetadata = () => {
    if (!colourBy.value.startsWith('field:')) return;
    fill(legend, h('li', { class: 'muted' }, 'Reading metadata…'));
    loadMetadata()
      .then(() => {
        if (colourBy.value.startsWith('field:')) recolour();
      })
      .catch(fail);
  };
  colourBy.addEventListener('change', () => {
    saveParams({ colour: colourBy.value === 'cluster' ? undefined : colourBy.value });
    recolour();
    colourByMetadata();
  });

  const wanted = params.get('colour');
  if (wanted === 'scores') colourBy.value = wanted;
  show(pca);
  // The first frame is the "time to first map" the bench measures (benchmarks/studio.ts).
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const firstMap = performance.now() - t0;
  canvas.dataset.firstMapMs = firstMap.toFixed(0);
  // Since the page's navigation began: loading the page itself included.
  canvas.dataset.firstMapAt = performance.now().toFixed(0);
  info.textContent = summary(` · drawn in ${firstMap.toFixed(0)} ms`);

  // UMAP: a job, followed to the end; its id goes into the URL so a reload reuses the result.
  let umap: Promise<ProjectResult> | undefined;
  let umapJob = params.get('job') ?? undefined;
  const followUmap = async (job: Job): Promise<ProjectResult> => {
    const started = Date.now();
    const say = (j: Job) => {
      const secs = Math.round((Date.now() - started) / 1000);
      progress.textContent = j.status === 'queued' ? 'UMAP: waiting for the job runner…' : `UMAP of ${formatNumber(Math.min(UMAP_SAMPLE, documents))} documents: running (${secs} s)…`;
    };
    progress.hidden = false;
    say(job);
    const ticker = setInterval(() => say(job), 1000);
    try {
      const done = await client().jobs.wait(job.id, { maxPollMs: 1000, onProgress: (j) => (job = j) });
      const result = projectResultOf(done);
      if (!result) throw new Error(`the UMAP job ${done.status}${done.error ? `: ${done.error}` : ''}`);
      return result;
    } finally {
      clearInterval(ticker);
      progress.hidden = true;
    }
  };
  const runUmap = (): Promise<ProjectResult> => {
    umap ??= (async () => {
      if (umapJob) {
        // A finished job from this URL is reused; one that is gone or failed is run again.
        const job = await client()
          .jobs.get(umapJob)
          .catch(() => undefined);
        if (job && job.kind === 'project' && job.collection === collection && job.status !== 'failed' && job.status !== 'cancelled') return followUmap(job);
      }
      const job = await handle.projectJob({ method: 'umap', limit: Math.min(UMAP_SAMPLE, documents), include: ['metadata'] });
      umapJob = job.id;
      saveParams({ job: job.id });
      return followUmap(job);
    })();
    umap.catch(() => (umap = undefined));
    return umap;
  };
  const choose = async (method: string) => {
    saveParams({ proj: method === 'umap' ? 'umap' : undefined });
    if (method !== 'umap') {
      show(pca);
      info.textContent = summary('');
      return;
    }
    try {
      const r = await runUmap();
      if (projection.value !== 'umap' || !canvas.isConnected) return;
      show(r);
      info.textContent = summary('');
      notify(`UMAP map of ${formatNumber(r.points.length)} documents drawn.`);
    } catch (err) {
      projection.value = 'pca';
      fail(err);
    }
  };
  projection.addEventListener('change', () => void choose(projection.value));
  tools.addEventListener('change', () => {
    scatter.tool = (tools.querySelector<HTMLInputElement>('input[name=drag-tool]:checked')?.value ?? 'pan') as DragTool;
    canvas.classList.toggle('selecting', scatter.tool !== 'pan');
  });
  inView.addEventListener('click', () => scatter.selectInView());

  const showSelection = (indices: number[]) => {
    if (indices.length === 0) {
      selection.replaceChildren();
      return;
    }
    const chosen = indices.map((i) => ids[i]!);
    const rec = h('button', { type: 'button', class: 'primary small' }, 'Recommend from these');
    const format = h('select', { 'aria-label': 'Export format' }, h('option', { value: 'jsonl' }, 'JSONL'), h('option', { value: 'json' }, 'JSON'));
    const exp = h('button', { type: 'button', class: 'small' }, 'Export');
    const clear = h('button', { type: 'button', class: 'small' }, 'Clear');
    const out = h('ol', { class: 'similar' });
    rec.addEventListener('click', () =>
      busy(rec, async () => {
        // The server takes up to 100 examples: the first 100 selected.
        const r = await handle.recommend({ positive: chosen.slice(0, 100), k: 20 });
        scores = new Map(r.hits.map((hit) => [hit.document_id, hit.score]));
        scatter.setHighlighted(indicesOf(scores.keys()));
        fill(out, r.hits.map((hit) => h('li', null, h('a', { href: link(collection, 'doc', hit.document_id) }, hit.document_id), h('span', { class: 'score' }, hit.score.toFixed(3)))));
        notify(`Recommended ${r.hits.length} documents from ${Math.min(100, chosen.length)} selected; they are ringed on the map.`);
      }),
    );
    exp.addEventListener('click', () =>
      busy(exp, async () => {
        await loadMetadata();
        const rows = chosen.map((id) => ({ id, metadata: metadata.get(id) ?? {} }));
        const jsonl = format.value === 'jsonl';
        const text = jsonl ? rows.map((r) => JSON.stringify(r)).join('\n') + '\n' : JSON.stringify(rows, null, 2);
        const url = URL.createObjectURL(new Blob([text], { type: jsonl ? 'application/x-ndjson' : 'application/json' }));
        const a = h('a', { href: url, download: `${collection}-selection.${format.value}` });
        a.click();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      }),
    );
    clear.addEventListener('click', () => {
      scatter.clearSelection();
      selection.replaceChildren();
    });
    fill(selection, h('h2', null, `${formatNumber(chosen.length)} selected`), h('div', { class: 'row wrap' }, rec, format, exp, clear), out);
  };

  // The hits ringed on the map: the best few, so that they stand out of a small collection too.
  const MAP_HITS = 20;
  let explicit = true;
  queryForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const chosen = explicit;
    explicit = true;
    const text = query.value.trim();
    saveParams({ q: text, colour: chosen && text !== '' ? 'scores' : colourBy.value === 'cluster' ? undefined : colourBy.value }, chosen);
    if (text === '') {
      scores = new Map();
      scatter.setHighlighted([]);
      recolour();
      return;
    }
    busy(queryBtn, async () => {
      const prev = lastSearch.get(collection);
      const r = await handle.query({ text, k: MAP_HITS, include: [], ...(prev?.text === text && prev.filter ? { filter: prev.filter } : {}) });
      scores = new Map(r.hits.map((hit) => [hit.document_id, hit.score]));
      const onMap = indicesOf(scores.keys());
      scatter.setHighlighted(onMap);
      // The search carried over from the search screen rings its hits; one typed here also colours by score.
      if (chosen) colourBy.value = 'scores';
      recolour();
      info.dataset.hits = String(onMap.length);
      notify(`"${text}": the best ${r.hits.length} hits, ${onMap.length} of them on the map, are ringed.`);
    });
  });
  if (query.value !== '') {
    explicit = false;
    queryForm.requestSubmit();
  }

  // In the background: clusters for the colours, and the metadata keys for the colour menu.
  // Past a few thousand documents k-means (with k chosen by silhouette) can outlast a request's
  // time limit on a busy server (13-16 s for 20,000 on the 2-core test machine): it runs as a job.
  const clusterInput = { sample: Math.min(MAP_LIMIT, Math.max(2, documents)), include_members: true };
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
  void metadataFields(collection)
    .then((fields) => {
      colourBy.append(...fields.map((f) => h('option', { value: `field:${f.key}` }, `metadata: ${f.key}`)));
      if (wanted && [...colourBy.options].some((o) => o.value === wanted) && colourBy.value !== wanted) {
        colourBy.value = wanted;
        recolour();
        colourByMetadata();
      }
    })
    .catch(fail);
  if (params.get('proj') === 'umap') {
    projection.value = 'umap';
    void choose('umap');
  }
}
