// Quiver Studio's time to first map (issue 15): a real server (`node --import tsx src/main.ts`)
// holding N documents (default 20,000: 64-dimensional vectors in 12 gaussian clusters, a short text
// and a metadata field each), and Debian's Chromium (playwright-core, headless) opening
// /studio/#/c/bench/map in a fresh page per repetition. Figures per repetition:
//   first_map_ms   navigation start → the first frame with every point drawn (the page loaded, the
//                  collection read, POST .../project answered with N points, the canvas drawn);
//   project_ms     the POST .../project request alone, as the page's resource timing saw it;
//   in_page_ms     from the map screen's start to its first frame (first_map_ms less the page load);
//   clusters_ms    navigation start → the cluster colours in the legend (k-means, sample N).
//   node --import tsx benchmarks/studio.ts --out file.json [--quick] [--n N] [--reps R]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '../test/e2e/browser.js';
import { startServer } from './lib/server.js';
import { gaussian, log, median, rng } from './lib/util.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, n: { type: 'string' }, reps: { type: 'string' }, out: { type: 'string' } },
});
const N = Number(args.n ?? 20_000);
const REPS = Number(args.reps ?? (args.quick ? 2 : 5));
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
    const result = {
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

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
