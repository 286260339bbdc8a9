// The judged sets of the quality benchmark (benchmarks/quality.ts): documents, queries and the one
// relevant document of each query, from text nobody on this project wrote (fiori, the undici and
// pino docs) plus the small hand-written labelled set of the tests. READMEs of packages and the
// Brown corpus are kept out on purpose (the issue keeps them aside for an independent check).
// Every set is split the same way on every run: a query is held back from all tuning when a hash
// of its set and text falls in the lowest 30 %.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadFioriCases } from '../../scripts/eval-default-model.js';
import { DOCUMENTS, QUERIES } from '../../test/fixtures/labelled-set.js';
import { ROOT } from './util.js';

export interface JudgedQuery {
  text: string;
  /** Id of the one relevant document. */
  relevant: string;
  heldBack: boolean;
}

export interface JudgedSet {
  name: string;
  /** How the queries were judged, for the report. */
  judged: string;
  documents: { id: string; text: string }[];
  queries: JudgedQuery[];
}

export const HELD_BACK_SHARE = 0.3;

function heldBack(set: string, text: string): boolean {
  const h = crypto.createHash('sha256').update(`${set}\u0000${text}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < HELD_BACK_SHARE;
}

async function fiori(): Promise<JudgedSet> {
  const cases = await loadFioriCases();
  return {
    name: 'fiori',
    judged: '@sap-ux/fiori-docs-embeddings records: the **TITLE** line is the query, the record body (title removed) its one relevant document; untitled records are distractors',
    documents: cases.map((c, i) => ({ id: `d${i}`, text: c.body })),
    queries: cases.flatMap((c, i) => (c.title ? [{ text: c.title, relevant: `d${i}`, heldBack: heldBack('fiori', `${i}:${c.title}`) }] : [])),
  };
}

function labelled(): JudgedSet {
  return {
    name: 'labelled',
    judged: 'test/fixtures/labelled-set.ts: 12 hand-written documents, 6 paraphrase and 6 identifier queries (too small for intervals; a regression check)',
    documents: DOCUMENTS,
    queries: QUERIES.map(([text, relevant]) => ({ text, relevant, heldBack: heldBack('labelled', text) })),
  };
}

/** Markdown files split at `##`/`###`/`####` headings: the heading is the query, the section's text its document. */
function markdownSections(files: string[], source: string): { heading: string; body: string; id: string }[] {
  const out: { heading: string; body: string; id: string }[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    let heading: string | null = null;
    let body: string[] = [];
    let inCode = false;
    const flush = () => {
      if (heading !== null) out.push({ heading, body: body.join('\n').trim(), id: `${source}:${path.basename(file, '.md')}:${out.length}` });
    };
    for (const line of lines) {
      if (/^```/.test(line)) inCode = !inCode;
      const m = inCode ? null : /^#{2,4}\s+(.*)$/.exec(line);
      if (m) {
        flush();
        heading = m[1]!.replace(/[`*_]/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').trim();
        body = [];
      } else body.push(line);
    }
    flush();
  }
  return out;
}

function docs(): JudgedSet {
  const dir = (p: string) => path.join(ROOT, 'node_modules', p);
  const list = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith('.md')).sort().map((f) => path.join(d, f));
  const sections = [
    ...markdownSections([...list(dir('undici/docs/docs/api')), ...list(dir('undici/docs/docs/best-practices'))], 'undici'),
    ...markdownSections(list(dir('pino/docs')), 'pino'),
  ].filter((s) => s.body.length >= 80);
  // A heading that occurs twice ("Parameters", "Example") does not name one section: such sections
  // stay as distractors, without a query.
  const count = new Map<string, number>();
  for (const s of sections) count.set(s.heading.toLowerCase(), (count.get(s.heading.toLowerCase()) ?? 0) + 1);
  return {
    name: 'docs',
    judged: 'undici 7 and pino docs shipped in their npm packages (docs/*.md, READMEs excluded), split at ##–#### headings: a heading used once is the query, its section body (heading removed, ≥ 80 characters, code blocks kept) the relevant document; repeated headings are distractors',
    documents: sections.map((s) => ({ id: s.id, text: s.body.slice(0, 4000) })),
    queries: sections.filter((s) => count.get(s.heading.toLowerCase()) === 1 && s.heading.length >= 3).map((s) => ({ text: s.heading, relevant: s.id, heldBack: heldBack('docs', s.heading) })),
  };
}

export async function loadSets(names?: string[]): Promise<JudgedSet[]> {
  const all: Record<string, () => JudgedSet | Promise<JudgedSet>> = { fiori, docs, labelled };
  const chosen = names ?? Object.keys(all);
  const out: JudgedSet[] = [];
  for (const n of chosen) out.push(await all[n]!());
  return out;
}
