// Quiver Studio end to end (issue 15): a real Quiver (TestServer, the built-in model) and Debian's
// Chromium driven by playwright-core. A person's flows: create a collection, drop files and watch
// the ingest job finish, search in each mode and open a hit, filter, recommend, open the map and
// click a point, switch its colouring and its projection (PCA, UMAP as a job), select points by
// box, lasso or keyboard to recommend from and export, reopen views from the URL, see the
// clusters, and sign in with a key when auth is on.
// Each main screen is saved under test-output/studio/ and checked with axe-core (no serious or
// critical violations); the map's canvas is checked to draw points in several colours by reading
// its pixels. The page runs under the server's own CSP: a script or style it refuses is an error.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canvasColours, ensureStudioBuilt, launchChromium, watchPage } from './browser.js';
import { studioDocs } from '../fixtures/studio-docs.js';
import { ROOT, TestServer } from '../helpers/server.js';

const OUT = path.join(ROOT, 'test-output', 'studio');
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** The longest any one thing on the page may take on a busy 2-core machine. */
const WAIT = Number(process.env.QUIVER_E2E_WAIT_MS ?? 120_000);

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];

async function shot(name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: false });
}

/** axe-core over the page as it is now: serious and critical violations, described. */
async function accessibility(screen: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${screen}: accessibility violations`).toEqual([]);
}

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  ensureStudioBuilt();
  server = await TestServer.start();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
  page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  problems = watchPage(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('Quiver Studio', () => {
  it('is served at /studio with its assets, under a CSP, from the server alone', async () => {
    const r = await fetch(`${server.url}/studio/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await r.text();
    const asset = /src="(\/studio\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    expect(html).not.toMatch(/https?:\/\//);
    const js = await fetch(`${server.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${server.url}/studio/assets/..%2Findex.html`)).status).toBe(404);
    const bare = await fetch(`${server.url}/studio`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
  });

  it('creates a collection from the empty state', async () => {
    await page.goto(`${server.url}/studio/`);
    await page.getByText('No collections yet').waitFor();
    await accessibility('collections (empty)');
    await page.getByLabel('Name').fill('notes');
    await page.getByRole('button', { name: 'Create collection' }).click();
    await page.getByRole('heading', { name: 'Load data into notes' }).waitFor();
    const r = await server.request('GET', '/v1/collections/notes');
    expect(r.status).toBe(200);
  });

  it('loads dropped files through an ingest job with a live progress bar', async () => {
    await accessibility('load');
    const docs = studioDocs(15);
    const files = [
      { name: 'docs.jsonl', text: docs.slice(0, 40).map((d) => JSON.stringify(d)).join('\n') },
      { name: 'more.json', text: JSON.stringify({ documents: docs.slice(40) }) },
      { name: 'readme.md', text: '# Quiver\nA semantic retrieval server: search documents by meaning.' },
      { name: 'note.txt', text: 'The cat sat on the mat and purred at the dog.' },
    ];
    await page.evaluate((fs) => {
      const dt = new DataTransfer();
      for (const f of fs) dt.items.add(new File([f.text], f.name, { type: 'text/plain' }));
      document.querySelector('[data-testid=dropzone]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, files);
    await page.getByRole('heading', { name: '4 files, 62 documents' }).waitFor();
    await page.getByTestId('job-status').filter({ hasText: /^Done/ }).waitFor();
    expect(await page.getByTestId('job-status').textContent()).toContain('62 written');
    expect(await page.locator('progress').evaluate((p) => (p as HTMLProgressElement).value)).toBe(62);
    await shot('load');
    const r = await server.request('GET', '/v1/collections/notes');
    expect(r.body.collection.document_count).toBe(62);
  });

  it('lists the collection with its counts, model, dimension and metric', async () => {
    await page.goto(`${server.url}/studio/#/`);
    const row = page.getByRole('row', { name: /notes/ });
    await row.waitFor();
    const text = await row.textContent();
    expect(text).toContain('62');
    expect(text).toContain('cosine');
    // The index's memory, as the server reports it (index_memory_bytes).
    expect(text).toMatch(/\d+(\.\d)? (KB|MB)/);
    await shot('collections');
  });

  it('searches in each mode, marks the query terms, shows the curl command, and opens a hit', async () => {
    await page.goto(`${server.url}/studio/#/c/notes/search`);
    // The collection has a model: hybrid is the server's default and is preselected.
    expect(await page.getByRole('radio', { name: /hybrid/ }).isChecked()).toBe(true);
    await page.getByLabel('Search text').fill('rocket launched to mars');
    for (const mode of ['vector', 'keyword', 'hybrid']) {
      await page.getByRole('radio', { name: new RegExp(mode) }).check();
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.locator('.result-status', { hasText: new RegExp(`· ${mode} ·`) }).waitFor();
      const first = page.locator('.hit').first();
      expect(await first.locator('.hit-id').textContent()).toMatch(/^space-/);
      expect(await first.locator('mark').count()).toBeGreaterThan(0);
    }
    await page.getByText('curl', { exact: true }).click();
    expect(await page.getByTestId('curl').textContent()).toContain('/v1/collections/notes/query');
    await accessibility('search');
    await shot('search');
    const id = (await page.locator('.hit-id').first().textContent())!;
    await page.locator('.hit-id').first().click();
    await page.getByRole('heading', { name: id, exact: true }).waitFor();
    await page.getByRole('heading', { name: 'More like this' }).waitFor();
    expect(await page.locator('ol.similar li').count()).toBeGreaterThan(0);
    expect(await page.locator('dl.meta').textContent()).toContain('space');
    await accessibility('document');
    await shot('document');
  });

  it('filters on a metadata key the collection has', async () => {
    await page.goto(`${server.url}/studio/#/c/notes/search`);
    await page.getByLabel('Search text').fill('something nice');
    await page.getByRole('button', { name: '+ Filter' }).click();
    await page.getByTestId('filter-key').selectOption('topic');
    await page.getByTestId('filter-value').fill('cooking');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('ol.hits[data-query="something nice"] .hit').first().waitFor();
    const ids = await page.locator('.hit-id').allTextContents();
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((i) => i.startsWith('cooking-'))).toBe(true);
  });

  it('recommends from results marked positive and negative', async () => {
    await page.goto(`${server.url}/studio/#/c/notes/search`);
    // The screen re-runs the page's previous search (and its filter) when it opens: start clean,
    // once the screen is drawn (before that there is no filter row to remove).
    await page.getByLabel('Search text').waitFor();
    const removes = page.getByRole('button', { name: /^Remove filter/ });
    while ((await removes.count()) > 0) await removes.first().click();
    await page.getByLabel('Search text').fill('the striker scored');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const first = page.locator('.hit').first();
    await first.locator('.hit-id', { hasText: /^football-/ }).waitFor();
    const id = (await first.locator('.hit-id').textContent())!;
    await first.getByRole('button', { name: `Mark ${id} as positive` }).click();
    await page.getByRole('button', { name: /Recommend from marked/ }).click();
    await page.locator('.result-status', { hasText: 'Recommended from 1 positive' }).waitFor();
    const ids = await page.locator('.hit-id').allTextContents();
    expect(ids.filter((i) => i.startsWith('football-')).length).toBeGreaterThan(ids.length / 2);
  });

  it('draws the map with points in several colours, recolours by metadata, and opens a clicked point', async () => {
    await page.goto(`${server.url}/studio/#/c/notes/map`);
    const canvas = page.locator('canvas.map');
    await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>('canvas.map')?.dataset.drawn ?? 0) >= 62);
    // Clusters arrive after the first frame; then the points take their clusters' colours.
    await page.locator('.legend li .swatch').first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.legend li').length >= 2);
    const { colours, painted } = await canvasColours(page, 'canvas.map');
    expect(painted).toBeGreaterThan(62 * 4);
    expect(colours).toBeGreaterThanOrEqual(3);
    await accessibility('map');
    await shot('map');

    await page.locator('#colour-by option[value="field:topic"]').waitFor({ state: 'attached' });
    await page.getByLabel('Colour by').selectOption('field:topic');
    await page.waitForFunction(() => [...document.querySelectorAll('.legend li')].some((li) => li.textContent === 'cooking'));
    expect(await page.locator('.legend li').allTextContents()).toEqual(expect.arrayContaining(['pets', 'cooking', 'space', 'football']));

    // A search shown on the map rings its hits and colours by score.
    await page.getByLabel('Search to show on the map').fill('bake bread in the oven');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForFunction(() => (document.querySelector('#colour-by') as HTMLSelectElement).value === 'scores');

    // From the keyboard: focus the map, pan, and Enter opens the point nearest the centre.
    await canvas.focus();
    await page.keyboard.press('ArrowLeft');
    await page.locator('.tip:not([hidden]) strong').waitFor();
    const nearest = (await page.locator('.tip strong').textContent())!;
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: nearest, exact: true }).waitFor();
    await page.goBack();
    await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>('canvas.map')?.dataset.drawn ?? 0) >= 62);

    // Hover then click the first point as the page places it.
    const box = (await canvas.boundingBox())!;
    const p = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('canvas.map')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const dpr = window.devicePixelRatio || 1;
      for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) if (d[(y * c.width + x) * 4 + 3]! > 200) return { x: x / dpr + 1, y: y / dpr + 1 };
      return null;
    });
    expect(p).not.toBeNull();
    await page.mouse.move(box.x + p!.x, box.y + p!.y);
    await page.locator('.tip:not([hidden]) strong').waitFor();
    const hovered = (await page.locator('.tip strong').textContent())!;
    await page.mouse.click(box.x + p!.x, box.y + p!.y);
    await page.getByRole('heading', { name: hovered, exact: true }).waitFor();
  });

  it('switches the map to UMAP: a project job runs, its points replace the PCA ones, and a reload reuses it', async () => {
    await page.goto(`${server.url}/studio/#/c/notes/map`);
    const mapIs = (projection: string) =>
      page.waitForFunction((p) => {
        const c = document.querySelector<HTMLCanvasElement>('canvas.map');
        return c?.dataset.projection === p && Number(c.dataset.drawn ?? 0) >= 62;
      }, projection);
    await mapIs('pca');
    const pcaPixels = await page.locator('canvas.map').screenshot();
    await page.getByLabel('Projection').selectOption('umap');
    await mapIs('umap');
    // The points moved: the canvas differs from the PCA one, and it still draws points in colours.
    expect((await page.locator('canvas.map').screenshot()).equals(pcaPixels)).toBe(false);
    const { colours, painted } = await canvasColours(page, 'canvas.map');
    expect(painted).toBeGreaterThan(62 * 4);
    expect(colours).toBeGreaterThanOrEqual(3);
    expect(await page.locator('p[aria-live]', { hasText: 'UMAP of all 62' }).count()).toBe(1);
    await accessibility('map (UMAP)');
    const url = new URL(page.url());
    expect(url.hash).toMatch(/proj=umap/);
    const job = /job=([^&]+)/.exec(url.hash)?.[1];
    expect(job).toBeDefined();
    const jobs = await server.request('GET', '/v1/jobs?kind=project&collection=notes');
    expect(jobs.body.jobs.map((j: { id: string; status: string }) => [j.id, j.status])).toEqual([[job, 'done']]);
    // A reload draws the same UMAP map from the finished job: no second job.
    await page.reload();
    await mapIs('umap');
    expect(await page.getByLabel('Projection').inputValue()).toBe('umap');
    expect((await server.request('GET', '/v1/jobs?kind=project&collection=notes')).body.jobs).toHaveLength(1);
    await page.getByLabel('Projection').selectOption('pca');
    await mapIs('pca');
  });

  it('selects points with a box, a lasso or the keyboard; recommends from them and exports them', async () => {
    // Tall enough for the whole map to be on screen: the pointer cannot drag below the viewport.
    await page.setViewportSize({ width: 1280, height: 1100 });
    await page.goto(`${server.url}/studio/#/c/notes/map`);
    await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>('canvas.map')?.dataset.drawn ?? 0) >= 62);
    const canvas = page.locator('canvas.map');
    const box = (await canvas.boundingBox())!;
    const selected = async () => Number(/^([\d,]+) selected$/.exec((await page.locator('.selection h2').textContent()) ?? '')?.[1]?.replace(/,/g, '') ?? NaN);

    // A box over the left half of the map.
    await page.getByRole('radio', { name: 'select a box' }).check();
    await page.mouse.move(box.x + 2, box.y + 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(box.x + box.width / 2, box.y + box.height - 2, { steps: 5 });
    await page.mouse.up();
    await page.locator('.selection h2').waitFor();
    const inBox = await selected();
    expect(inBox).toBeGreaterThan(0);
    expect(inBox).toBeLessThan(62);

    // A lasso: a triangle over the whole map holds fewer points than the whole and more than none.
    await page.getByRole('radio', { name: 'lasso' }).check();
    await page.mouse.move(box.x + 2, box.y + 2);
    await page.mouse.down();
    for (const [fx, fy] of [[0.99, 0.01], [0.01, 0.99], [0.01, 0.02]]) await page.mouse.move(box.x + box.width * fx!, box.y + box.height * fy!, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction((n) => document.querySelector('.selection h2')?.textContent !== `${n} selected`, inBox);
    const inLasso = await selected();
    expect(inLasso).toBeGreaterThan(0);
    expect(inLasso).toBeLessThan(62);

    // From the keyboard: S selects every point in view (all of them, the map being fitted).
    await page.getByRole('radio', { name: 'pan' }).check();
    await canvas.focus();
    await page.keyboard.press('s');
    await page.locator('.selection h2', { hasText: '62 selected' }).waitFor();
    await accessibility('map (selection)');

    // Export: a JSONL file of the selected ids with their metadata.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
    expect(download.suggestedFilename()).toBe('notes-selection.jsonl');
    const lines = fs.readFileSync((await download.path()), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; metadata: { topic?: string } });
    expect(lines).toHaveLength(62);
    expect(new Set(lines.map((l) => l.id)).size).toBe(62);
    const all = (await server.request('GET', '/v1/collections/notes/documents?limit=100')).body.documents.map((d: { id: string }) => d.id);
    expect(lines.map((l) => l.id).sort()).toEqual([...all].sort());
    expect(lines.filter((l) => l.metadata.topic !== undefined).length).toBeGreaterThanOrEqual(60);

    // The keyboard again, on a part: zoom in, then S selects only what is in view.
    await canvas.focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('+');
    await page.keyboard.press('s');
    await page.waitForFunction(() => document.querySelector('.selection h2')?.textContent !== '62 selected');
    const zoomed = await selected();
    expect(zoomed).toBeLessThan(62);
    if (zoomed === 0) {
      // The centre of the map can be empty: fit again and select everything to recommend from.
      await page.keyboard.press('0');
      await page.keyboard.press('s');
    }
    await page.getByRole('button', { name: 'Recommend from these' }).click();
    await page.locator('.selection ol.similar li').first().waitFor();
    expect(await page.locator('.selection ol.similar li').count()).toBe(20);
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('keeps the search and the map in the URL: a reload or a shared link reopens them, back and forward step through', async () => {
    await page.goto(`${server.url}/studio/#/c/notes/search?q=rocket%20launch&mode=keyword`);
    await page.locator('ol.hits[data-query="rocket launch"] .hit').first().waitFor();
    expect(await page.getByRole('radio', { name: /keyword/ }).isChecked()).toBe(true);
    expect(await page.locator('.result-status').textContent()).toMatch(/· keyword ·/);
    // A second search made by hand is a new history entry, with a filter written into the URL.
    await page.getByLabel('Search text').fill('pasta sauce');
    await page.getByRole('radio', { name: /vector/ }).check();
    const removes = page.getByRole('button', { name: /^Remove filter/ });
    while ((await removes.count()) > 0) await removes.first().click();
    await page.getByRole('button', { name: '+ Filter' }).click();
    await page.getByTestId('filter-key').selectOption('topic');
    await page.getByTestId('filter-value').fill('cooking');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('ol.hits[data-query="pasta sauce"] .hit').first().waitFor();
    const saved = new URLSearchParams(new URL(page.url()).hash.split('?')[1]);
    expect(saved.get('q')).toBe('pasta sauce');
    expect(saved.get('mode')).toBe('vector');
    expect(JSON.parse(saved.get('f')!)).toEqual([['topic', '$eq', 'cooking']]);
    // A fresh tab given the link shows the same search, filter included.
    const shared = await context.newPage();
    shared.setDefaultTimeout(WAIT);
    await shared.goto(page.url());
    await shared.locator('ol.hits[data-query="pasta sauce"] .hit').first().waitFor();
    expect(await shared.getByRole('radio', { name: /vector/ }).isChecked()).toBe(true);
    expect(await shared.getByTestId('filter-value').inputValue()).toBe('cooking');
    expect((await shared.locator('.hit-id').allTextContents()).every((id) => id.startsWith('cooking-'))).toBe(true);
    await shared.close();
    // Back: the first search; forward: the second.
    await page.goBack();
    await page.locator('ol.hits[data-query="rocket launch"] .hit').first().waitFor();
    expect(await page.getByLabel('Search text').inputValue()).toBe('rocket launch');
    await page.goForward();
    await page.locator('ol.hits[data-query="pasta sauce"] .hit').first().waitFor();

    // The map's colouring and query survive a reload.
    await page.goto(`${server.url}/studio/#/c/notes/map`);
    await page.locator('#colour-by option[value="field:topic"]').waitFor({ state: 'attached' });
    await page.getByLabel('Colour by').selectOption('field:topic');
    expect(new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('colour')).toBe('field:topic');
    await page.reload();
    await page.waitForFunction(() => [...document.querySelectorAll('.legend li')].some((li) => li.textContent === 'cooking'));
    expect(await page.getByLabel('Colour by').inputValue()).toBe('field:topic');
  });

  it('lists clusters with their labels, sizes and members, and re-runs with another k', async () => {
    await page.goto(`${server.url}/studio/#/c/notes/clusters`);
    await page.locator('article.cluster').first().waitFor();
    await page.getByLabel('Clusters (k)').fill('4');
    await page.getByRole('button', { name: 'Re-run' }).click();
    await page.getByText(/^k = 4 ·/).waitFor();
    expect(await page.locator('article.cluster').count()).toBe(4);
    await accessibility('clusters');
    await shot('clusters');
  });

  it('is usable in the dark theme', async () => {
    await page.goto(`${server.url}/studio/#/c/notes/search`);
    await page.getByRole('button', { name: /theme/ }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await accessibility('search (dark)');
    await page.getByRole('button', { name: /theme/ }).click();
  });

  it('deletes a collection only once its name is typed', async () => {
    await page.goto(`${server.url}/studio/#/`);
    await page.getByRole('button', { name: 'Delete notes' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete notes?' });
    await dialog.getByLabel('Collection name').fill('note');
    await dialog.getByRole('button', { name: 'Delete for good' }).click();
    expect(await dialog.isVisible()).toBe(true);
    expect((await server.request('GET', '/v1/collections/notes')).status).toBe(200);
    await accessibility('delete dialog');
    await dialog.getByLabel('Collection name').fill('notes');
    await dialog.getByRole('button', { name: 'Delete for good' }).click();
    await page.getByText('No collections yet').waitFor();
    expect((await server.request('GET', '/v1/collections/notes')).status).toBe(404);
  });

  it('ran without page errors, refused requests or CSP violations', () => {
    expect(problems).toEqual([]);
  });

  it('asks for a key when auth is on and keeps it in the session only', async () => {
    const key = 'studio-test-key-0123456789';
    const secured = await TestServer.start({ env: { QUIVER_API_KEYS: `${key}:admin`, QUIVER_EMBEDDER: 'none' } });
    const p = await context.newPage();
    p.setDefaultTimeout(WAIT);
    try {
      await p.goto(`${secured.url}/studio/`);
      await p.getByRole('heading', { name: 'Sign in' }).waitFor();
      page = p;
      await accessibility('sign in');
      await shot('signin');
      await p.getByLabel('API key').fill('wrong-key-but-long-enough');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByText('That key was refused').waitFor();
      await p.getByLabel('API key').fill(key);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByText('No collections yet').waitFor();
      const stored = await p.evaluate(() => ({ session: sessionStorage.getItem('quiver.studio.key'), local: JSON.stringify(localStorage), cookie: document.cookie }));
      expect(stored.session).toBe(key);
      expect(stored.local).not.toContain(key);
      expect(stored.cookie).toBe('');
    } finally {
      await p.close();
      await secured.stop();
    }
  });
});
