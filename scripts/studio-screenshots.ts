// Regenerates the README's Studio screenshots (docs/studio/*.png) from the real page: a Quiver in
// this process with the built-in model, the seeded documents of test/fixtures/studio-docs.ts, and
// Debian's Chromium (as the end-to-end tests drive it). Run after changing the Studio:
//   npx tsx scripts/studio-screenshots.ts
import fs from 'node:fs';
import path from 'node:path';
import { canvasColours, ensureStudioBuilt, launchChromium } from '../test/e2e/browser.js';
import { studioDocs } from '../test/fixtures/studio-docs.js';
import { ROOT, TestServer } from '../test/helpers/server.js';

const OUT = path.join(ROOT, 'docs', 'studio');

async function main(): Promise<void> {
  ensureStudioBuilt();
  fs.mkdirSync(OUT, { recursive: true });
  const server = await TestServer.start();
  const browser = await launchChromium();
  try {
    await server.request('POST', '/v1/collections', { name: 'notes' });
    const r = await server.request('PUT', '/v1/collections/notes/documents', { documents: studioDocs(60) });
    if (r.status !== 200) throw new Error(`loading the documents: ${r.status} ${JSON.stringify(r.body)}`);
    const context = await browser.newContext({ viewport: { width: 1200, height: 720 }, colorScheme: 'light' });
    const page = await context.newPage();
    page.setDefaultTimeout(120_000);
    const shot = async (name: string) => {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(OUT, `${name}.png`) });
      process.stdout.write(`docs/studio/${name}.png\n`);
    };

    await page.goto(`${server.url}/studio/#/`);
    await page.getByRole('row', { name: /notes/ }).waitFor();
    await shot('collections');

    await page.goto(`${server.url}/studio/#/c/notes/search`);
    await page.getByLabel('Search text').fill('bake bread with butter');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('.hit mark').first().waitFor();
    await shot('search');

    await page.goto(`${server.url}/studio/#/c/notes/map`);
    await page.waitForFunction(() => document.querySelectorAll('.legend li .swatch').length >= 2);
    if ((await canvasColours(page, 'canvas.map')).colours < 3) throw new Error('the map drew fewer than 3 colours');
    await shot('map');

    // UMAP (a project job), coloured by topic, with a box of points selected.
    await page.goto(`${server.url}/studio/#/c/notes/map?proj=umap&colour=field%3Atopic`);
    await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('canvas.map')?.dataset.projection === 'umap');
    await page.waitForFunction(() => [...document.querySelectorAll('.legend li')].some((li) => li.textContent === 'space'));
    const box = (await page.locator('canvas.map').boundingBox())!;
    await page.keyboard.down('Shift');
    // The left half of the part of the map on screen.
    const visible = Math.min(box.height, 720 - box.y - 4);
    await page.mouse.move(box.x + 4, box.y + 4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + visible, { steps: 8 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    await page.locator('.selection h2').waitFor();
    await shot('map-umap');

    await page.goto(`${server.url}/studio/#/c/notes/doc/${encodeURIComponent('space-003')}`);
    await page.getByRole('heading', { name: 'More like this' }).waitFor();
    await shot('document');

    // The dark theme, on the map.
    await context.close();
    const dark = await browser.newContext({ viewport: { width: 1200, height: 720 }, colorScheme: 'dark' });
    const p2 = await dark.newPage();
    p2.setDefaultTimeout(120_000);
    await p2.goto(`${server.url}/studio/#/c/notes/clusters`);
    await p2.locator('article.cluster').first().waitFor();
    await p2.screenshot({ path: path.join(OUT, 'clusters-dark.png') });
    process.stdout.write('docs/studio/clusters-dark.png\n');
    await dark.close();
  } finally {
    await browser.close();
    await server.stop();
  }
  const total = fs.readdirSync(OUT).reduce((n, f) => n + fs.statSync(path.join(OUT, f)).size, 0);
  process.stdout.write(`${Math.round(total / 1024)} KB in docs/studio\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
