// Quiver Studio's time to first map (issue 15): a real server (`node --import tsx src/main.ts`)
// holding N documents (default 20,000: 64-dimensional vectors in 12 gaussian clusters, a short text
// and a metadata field each), and Debian's Chromium (playwright-core, headless) opening
// /studio/#/c/bench/map in a fresh page per repetition. Figures per repetition:
//   first_map_ms   navigation start → the first frame with every point drawn (the page loaded, the
//                  collection read, POST .../project answered with N points, the canvas drawn);
//   project_ms     the POST .../project request alone, as the page's resource timing saw it;
//   in_page_ms     from the map screen's start to its first frame (first_map_ms less the page load);
//   clusters_ms    navigation start → the cluster colours in the legend (k-means, sample N).
// Once per run:
//   payload        bytes the map needs for N points: before (the points, then every document page
//                  for tooltips and metadata colours, as the map loaded them until this change) and
//                  after (the points alone; their metadata in a second answer only when a colour
//                  or an export needs it; text fetched on hover);
//   umap           a UMAP project job over the Studio's sample (5,000 of the N): wall time from the
//                  POST to the finished job, as the Studio's switch waits for it;
//   separation     on a labelled set (englishLabelledDocuments: 12 everyday topics, embedded by the
//                  default local model), how well each 2-D map keeps topics apart: the share of
//                  each point's 10 nearest neighbours on the map that have its topic (chance: the
//                  sum of squared topic shares), for PCA and for UMAP.
//   node --import tsx benchmarks/studio.ts --out file.json [--quick] [--n N] [--reps R]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '../test/e2e/browser.js';
import { startServer } from './lib/server.js';
import { englishLabelledDocuments } from './lib/text.js';
import { gaussian, log, median, rng } from './lib/util.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, n: { type: 'string' }, reps: { type: 'string' }, out: { type: 'string' } },
});
const N = Number(args.n ?? 20_000);
const REPS = Number(args.reps ?? (args.quick ? 2 : 5));
const UMAP_N = Math.min(N, args.quick ? 1000 : 5000);
const LABELLED_N = args.quick ? 600 : 2000;
const DIM = 64;
const CLUSTERS = 12;
const WORDS = ['river', 'planet', 'recipe', 'engine', 'garden', 'market', 'violin', 'glacier', 'harbor', 'orbit', 'pasta', 'goal'];

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-bench-studio-'));
  const server = await startServer(dataDir);
  const browser = await launchChromium();
  try {
    const post = async (method: string, p: string, body: unknown) => {
      const r = await fetch(`${server.url}${p}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
    };
    await post('POST', '/v1/collections', { name: 'bench', embedder: { provider: 'none' }, dimension: DIM });
    const rand = rng(11);
    const g = gaussian(rand);
    const centres = Array.from({ length: CLUSTERS }, () => Array.from({ length: DIM }, () => g() * 3));
    const loadStarted = performance.now();
    for (let start = 0; start < N; start += 1000) {
      const documents = Array.from({ length: Math.min(1000, N - start) }, (_, j) => {
        const i = start + j;
        const c = i % CLUSTERS;
        return { id: `doc-${i}`, text: `${WORDS[c]} ${WORDS[(c + 1) % CLUSTERS]} note ${i}`, vector: centres[c]!.map((x) => x + g()), metadata: { group: `g${c}` } };
      });
      await post('PUT', '/v1/collections/bench/documents', { documents });
    }
    log(`studio: ${N} documents loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
    const runs: { first_map_ms: number; in_page_ms: number; project_ms: number; clusters_ms: number; drawn: number }[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      page.setDefaultTimeout(300_000);
      await page.goto(`${server.url}/studio/#/c/bench/map`);
      await page.waitForFunction((n) => Number(document.querySelector<HTMLCanvasElement>('canvas.map')?.dataset.points ?? 0) >= n, Math.min(N, 20_000));
      const first = await page.$eval('canvas.map', (c) => ({ at: Number((c as HTMLCanvasElement).dataset.firstMapAt), inPage: Number((c as HTMLCanvasElement).dataset.firstMapMs), drawn: Number((c as HTMLCanvasElement).dataset.drawn) }));
      await page.waitForFunction(() => document.querySelectorAll('.legend li .swatch').length >= 2);
      const clustersAt = await page.evaluate(() => performance.now());
      const projectMs = await page.evaluate(() => {
        const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/project')) as PerformanceResourceTiming | undefined;
        return e ? e.responseEnd - e.startTime : NaN;
      });
      runs.push({ first_map_ms: first.at, in_page_ms: first.inPage, project_ms: Math.round(projectMs), clusters_ms: Math.round(clustersAt), drawn: first.drawn });
      log(`studio: rep ${rep + 1}: first map ${first.at} ms (project ${Math.round(projectMs)} ms, ${first.drawn} points drawn), clusters at ${Math.round(clustersAt)} ms`);
      await context.close();
    }
    const payload = await mapPayload(server.url, N);
    log(`studio: map payload for ${N} points: ${payload.before_bytes} bytes before, ${payload.after_bytes} after`);
    const umap = await umapJob(server.url, 'bench', UMAP_N);
    log(`studio: UMAP job over ${UMAP_N} of ${N} documents: ${umap.ms} ms`);
    const separation = await separationOfTopics(server.url);
    log(`studio: topic separation (10-NN agreement on the map, ${LABELLED_N} labelled documents): PCA ${separation.pca}, UMAP ${separation.umap}, chance ${separation.chance}`);
    const result = {
      payload,
      umap: { n: umap.n, ms: umap.ms },
      separation,
      n: N,
      dim: DIM,
      reps: REPS,
      runs,
      first_map_ms: median(runs.map((r) => r.first_map_ms)),
      project_ms: median(runs.map((r) => r.project_ms)),
      clusters_ms: median(runs.map((r) => r.clusters_ms)),
    };
    log(`studio: time to first map for ${N} points: median ${result.first_map_ms} ms (project ${result.project_ms} ms); clusters coloured at ${result.clusters_ms} ms`);
    if (args.out) fs.writeFileSync(args.out, JSON.stringify(result, null, 2));
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${text.slice(0, 300)}`);
  return { status: r.status, text };
}

async function mapPayload(url: string, n: number): Promise<{ before_bytes: number; after_bytes: number; metadata_bytes: number }> {
  const points = await call(`${url}/v1/collections/bench/project`, 'POST', { limit: n });
  let before = Buffer.byteLength(points.text);
  let cursor: string | null = null;
  do {
    const page = await call(`${url}/v1/collections/bench/documents?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, 'GET');
    before += Buffer.byteLength(page.text);
    cursor = (JSON.parse(page.text) as { next_cursor: string | null }).next_cursor;
  } while (cursor);
  const withMetadata = await call(`${url}/v1/collections/bench/project`, 'POST', { limit: n, include: ['metadata'] });
  return { before_bytes: before, after_bytes: Buffer.byteLength(points.text), metadata_bytes: Buffer.byteLength(withMetadata.text) };
}

interface Point {
  id: string;
  x: number;
  y: number;
  metadata?: Record<string, unknown>;
}

/** Submits a UMAP project job and waits for it; wall time from the POST to the finished job. */
async function umapJob(url: string, collection: string, limit: number): Promise<{ n: number; ms: number; points: Point[] }> {
  const started = performance.now();
  const queued = await call(`${url}/v1/collections/${collection}/project`, 'POST', { method: 'umap', async: true, limit, include: ['metadata'] });
  const id = (JSON.parse(queued.text) as { job: { id: string } }).job.id;
  for (;;) {
    const { job } = JSON.parse((await call(`${url}/v1/jobs/${id}`, 'GET')).text) as { job: { status: string; error: string | null; result: { points: Point[] } | null } };
    if (job.status === 'done') return { n: limit, ms: Math.round(performance.now() - started), points: job.result!.points };
    if (job.status !== 'queued' && job.status !== 'running') throw new Error(`UMAP job ${id} ${job.status}: ${job.error}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Mean share of each point's k nearest map neighbours that carry its label. */
function neighbourAgreement(points: Point[], k: number): number {
  const label = points.map((p) => String(p.metadata?.topic));
  let sum = 0;
  points.forEach((p, i) => {
    const near = points
      .map((q, j) => ({ j, d: (p.x - q.x) ** 2 + (p.y - q.y) ** 2 }))
      .filter((e) => e.j !== i)
      .sort((a, b) => a.d - b.d)
      .slice(0, k);
    sum += near.filter((e) => label[e.j] === label[i]).length / k;
  });
  return Math.round((sum / points.length) * 1000) / 1000;
}

async function separationOfTopics(url: string): Promise<{ n: number; k: number; pca: number; umap: number; chance: number; umap_ms: number }> {
  await call(`${url}/v1/collections`, 'POST', { name: 'labelled', embedder: { provider: 'local' } });
  const docs = englishLabelledDocuments(LABELLED_N, 23);
  for (let i = 0; i < docs.length; i += 500) {
    const documents = docs.slice(i, i + 500).map((d, j) => ({ id: `d${i + j}`, text: d.text, metadata: { topic: d.topic } }));
    await call(`${url}/v1/collections/labelled/documents`, 'PUT', { documents });
  }
  const pca = JSON.parse((await call(`${url}/v1/collections/labelled/project`, 'POST', { limit: LABELLED_N, include: ['metadata'] })).text) as { points: Point[] };
  const umap = await umapJob(url, 'labelled', LABELLED_N);
  const shares = new Map<number, number>();
  for (const d of docs) shares.set(d.topic, (shares.get(d.topic) ?? 0) + 1 / docs.length);
  const chance = Math.round([...shares.values()].reduce((s, p) => s + p * p, 0) * 1000) / 1000;
  return { n: LABELLED_N, k: 10, pca: neighbourAgreement(pca.points, 10), umap: neighbourAgreement(umap.points, 10), chance, umap_ms: umap.ms };
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
