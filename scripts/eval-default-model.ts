// Owns the quality/speed check of local embedding models, so the figures in the model notes can
// be rerun: paraphrase vs unrelated cosine, sentences/s (1,000 short sentences, batch 32), and
// title → body retrieval on the texts of @sap-ux/fiori-docs-embeddings (recall@1, @10, MRR@10,
// brute-force cosine). Loads models exactly as the server does: transformers.js, offline.
//
//   npx tsx scripts/eval-default-model.ts [--model <id>]... [--models-dir <dir>] [--dtype fp32|fp16]
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { env, pipeline } from '@huggingface/transformers';
import { getEmbeddingsPath } from '@sap-ux/fiori-docs-embeddings';
import { DEFAULT_MODEL_ID, DEFAULT_MODELS_DIR } from './build-default-model.js';

/** (anchor, paraphrase, unrelated): written for this check, short and everyday. */
export const PARAPHRASE_TRIPLES: readonly [string, string, string][] = [
  ['How do I reset my password?', 'I forgot my password and need to change it.', 'The train to Berlin leaves at noon.'],
  ['The cat is sleeping on the sofa.', 'A kitten naps on the couch.', 'Interest rates rose again this quarter.'],
  ['The company reported higher profits this year.', 'Annual earnings of the firm increased.', 'She planted tomatoes in the garden.'],
  ['Deploy the application to the cloud.', 'Publish the app on a cloud platform.', 'The soup needs more salt.'],
  ['The weather will be rainy tomorrow.', 'Expect showers and wet conditions tomorrow.', 'He scored two goals in the final.'],
  ['The database stores customer orders.', 'Customer purchases are saved in the database.', 'The orchestra played a symphony by Brahms.'],
];

export interface EvalResult {
  modelId: string;
  dtype: 'fp32' | 'fp16';
  loadMs: number;
  paraphraseCos: number;
  unrelatedCos: number;
  sentencesPerSecond: number;
  queries: number;
  documents: number;
  recallAt1: number;
  recallAt10: number;
  mrrAt10: number;
  /** Texts whose vector came back NaN/zero (only unknown words): the static-model trap. */
  unusableVectors: number;
}

interface FioriCase {
  /** The record's **TITLE** line, or null when it has none (then it is only a distractor). */
  title: string | null;
  body: string;
}

const TITLE_LINE = /^\*\*TITLE\*\*:[ \t]*(.*)$/m;

export async function loadFioriCases(): Promise<FioriCase[]> {
  const text = await readFile(path.join(getEmbeddingsPath(), 'records.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const { content } = JSON.parse(line) as { content: string };
      const m = TITLE_LINE.exec(content);
      const title = m?.[1]?.trim() || null;
      const body = (m ? content.replace(TITLE_LINE, '') : content).trim().slice(0, 2000);
      return { title, body };
    });
}

/** Deterministic short real sentences (5–25 words) taken from the Fiori bodies. */
function shortSentences(cases: readonly FioriCase[], count: number): string[] {
  const out: string[] = [];
  for (const c of cases) {
    for (const s of c.body.split(/(?<=[.!?])\s+|\n+/)) {
      const words = s.trim().split(/\s+/).length;
      if (words >= 5 && words <= 25) out.push(s.trim());
      if (out.length === count) return out;
    }
  }
  if (out.length === 0) throw new Error('no sentences found in the Fiori texts');
  while (out.length < count) out.push(out[out.length % out.length]!); // repeat to reach the count
  return out;
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s = 0;
  for (let i = 0; i < dim; i++) s += a[ao + i]! * b[bo + i]!;
  return s;
}

/** Replaces NaN rows by zeros (so they rank last, not first) and counts them. */
function sanitize(data: Float32Array, dim: number): number {
  let bad = 0;
  for (let o = 0; o < data.length; o += dim) {
    let ok = false;
    for (let i = 0; i < dim; i++) {
      if (!Number.isFinite(data[o + i]!)) {
        ok = false;
        break;
      }
      if (data[o + i] !== 0) ok = true;
    }
    if (!ok) {
      bad++;
      data.fill(0, o, o + dim);
    }
  }
  return bad;
}

export interface EvalOptions {
  modelsDir?: string;
  modelId?: string;
  dtype?: 'fp32' | 'fp16';
  batchSize?: number;
}

export async function evaluateModel(options: EvalOptions = {}): Promise<EvalResult> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const modelId = options.modelId ?? DEFAULT_MODEL_ID;
  const dtype = options.dtype ?? 'fp32';
  const batchSize = options.batchSize ?? 32;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = modelsDir;

  const loadStart = performance.now();
  const extractor = await pipeline('feature-extraction', modelId, { dtype });
  const loadMs = performance.now() - loadStart;

  let dim = 0;
  const embed = async (texts: readonly string[]): Promise<Float32Array> => {
    const parts: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += batchSize) {
      const t = await extractor(texts.slice(i, i + batchSize), { pooling: 'mean', normalize: true });
      dim = t.dims[t.dims.length - 1]!;
      parts.push(Float32Array.from(t.data as Float32Array));
    }
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };

  let unusable = 0;
  const triples = await embed(PARAPHRASE_TRIPLES.flat());
  unusable += sanitize(triples, dim);
  let para = 0;
  let unrel = 0;
  for (let k = 0; k < PARAPHRASE_TRIPLES.length; k++) {
    const base = k * 3 * dim;
    para += dot(triples, base, triples, base + dim, dim);
    unrel += dot(triples, base, triples, base + 2 * dim, dim);
  }

  const cases = await loadFioriCases();
  const sentences = shortSentences(cases, 1000);
  await embed(sentences.slice(0, batchSize)); // warm-up: first run pays for allocation
  // One pass takes ~0.1 s, so a GC pause swings it by 2x: report the median of five.
  const rates: number[] = [];
  for (let run = 0; run < 5; run++) {
    const speedStart = performance.now();
    await embed(sentences);
    rates.push(sentences.length / ((performance.now() - speedStart) / 1000));
  }
  const sentencesPerSecond = rates.sort((x, y) => x - y)[2]!;

  const docs = await embed(cases.map((c) => c.body));
  unusable += sanitize(docs, dim);
  const queryIdx = cases.map((c, i) => (c.title === null ? -1 : i)).filter((i) => i >= 0);
  const queries = await embed(queryIdx.map((i) => cases[i]!.title!));
  unusable += sanitize(queries, dim);

  let hit1 = 0;
  let hit10 = 0;
  let mrr = 0;
  queryIdx.forEach((gold, q) => {
    const goldScore = dot(queries, q * dim, docs, gold * dim, dim);
    // Ties count against the gold document, so a zero query vector cannot score a hit.
    let rank = 1;
    for (let d = 0; d < cases.length; d++) {
      if (d === gold) continue;
      if (dot(queries, q * dim, docs, d * dim, dim) >= goldScore) rank++;
    }
    if (rank === 1) hit1++;
    if (rank <= 10) {
      hit10++;
      mrr += 1 / rank;
    }
  });

  await extractor.dispose();
  const n = queryIdx.length;
  return {
    modelId,
    dtype,
    loadMs,
    paraphraseCos: para / PARAPHRASE_TRIPLES.length,
    unrelatedCos: unrel / PARAPHRASE_TRIPLES.length,
    sentencesPerSecond,
    queries: n,
    documents: cases.length,
    recallAt1: hit1 / n,
    recallAt10: hit10 / n,
    mrrAt10: mrr / n,
    unusableVectors: unusable,
  };
}

export function formatResults(results: readonly EvalResult[]): string {
  const header = ['model', 'dtype', 'para/unrel cos', 'R@1', 'R@10', 'MRR@10', 'sent/s', 'load ms', 'NaN/zero'];
  const rows = results.map((r) => [
    r.modelId,
    r.dtype,
    `${r.paraphraseCos.toFixed(2)} / ${r.unrelatedCos.toFixed(2)}`,
    r.recallAt1.toFixed(3),
    r.recallAt10.toFixed(3),
    r.mrrAt10.toFixed(3),
    Math.round(r.sentencesPerSecond).toString(),
    Math.round(r.loadMs).toString(),
    r.unusableVectors.toString(),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const first = results[0];
  const note = first ? `\n${first.queries} title queries → ${first.documents} bodies (title line removed, first 2,000 chars); speed: 1,000 sentences, batch 32, median of 5 passes.` : '';
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + note;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', multiple: true },
      'models-dir': { type: 'string' },
      dtype: { type: 'string' },
    },
  });
  const dtype = values.dtype ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'fp16') throw new Error(`--dtype must be fp32 or fp16, got ${dtype}`);
  const modelsDir = path.resolve(values['models-dir'] ?? DEFAULT_MODELS_DIR);
  const results: EvalResult[] = [];
  for (const modelId of values.model ?? [DEFAULT_MODEL_ID]) results.push(await evaluateModel({ modelsDir, modelId, dtype }));
  console.log(formatResults(results));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
