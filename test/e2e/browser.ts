// Debian's Chromium driven by playwright-core, for the Studio's end-to-end tests, its screenshot
// script and the time-to-first-map bench. .ci/run installs the `chromium` package; a machine
// without it fails here with a message saying so (the tests never skip: CI has it).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { ROOT } from '../helpers/server.js';

export const CHROMIUM = process.env.QUIVER_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium, as .ci/run does) or set QUIVER_CHROMIUM`);
  }
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 120_000,
      // playwright gives each launch a fresh profile in a temporary folder (its own --user-data-dir).
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  } catch (err) {
    throw new Error(`Chromium at ${CHROMIUM} did not start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function newestMtime(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = path.join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }, 0);
}

/**
 * dist/studio as `npm ci` builds it; built here when missing (a checkout that skipped prepare) or
 * older than a file of src/studio or src/client (so a test never runs against a stale page).
 */
export function ensureStudioBuilt(): void {
  const index = path.join(ROOT, 'dist', 'studio', 'index.html');
  const sources = Math.max(newestMtime(path.join(ROOT, 'src', 'studio')), newestMtime(path.join(ROOT, 'src', 'client')));
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= sources) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-studio.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the Studio failed:\n${r.stdout}\n${r.stderr}`);
}

/** Page errors and failed requests, collected so a test can say what broke in the page. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A failed request is reported below with its URL.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.request().method()} ${r.url()}: ${r.status()}`);
  });
  return problems;
}

/** Distinct opaque colours among the canvas's pixels (quantised), counted in the page. */
export async function canvasColours(page: Page, selector: string): Promise<{ colours: number; painted: number }> {
  return page.$eval(selector, (el) => {
    const c = el as HTMLCanvasElement;
    const ctx = c.getContext('2d')!;
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    const seen = new Map<number, number>();
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! < 200) continue;
      painted++;
      const key = ((data[i]! >> 4) << 8) | ((data[i + 1]! >> 4) << 4) | (data[i + 2]! >> 4);
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    // A colour counts when it covers a few points' worth of pixels, not just anti-aliased edges.
    return { colours: [...seen.values()].filter((n) => n >= 20).length, painted };
  });
}
