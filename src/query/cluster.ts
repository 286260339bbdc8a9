// Owns clustering of a collection (or a filtered, sampled part of it): k-means with k-means++
// seeding (kmeans.mjs, in a worker thread with a deadline: see analysis.ts), k chosen by
// silhouette when "auto" (the largest k within 10 % of the best: kmeans.mjs), and a description of each cluster:
// the documents nearest its centroid and its most distinctive terms (tokenised as the FTS
// index tokenises, so Chinese terms are words). Cosine collections are clustered on unit
// vectors, where euclidean k-means orders points as cosine would.
import type { Collection } from '../collection/index.js';
import type { AnalysisDocument, CompiledFilter } from '../storage/index.js';
import { isStopword, words } from '../text/segment.js';
import { seededRandom as rng } from '../util/random.mjs';
import { kmeansBest } from './analysis.js';
import type { Deadline } from './analysis.js';

export interface ClusterInput {
  k: number | 'auto';
  filter?: unknown;
  sample: number;
  seed: number;
  includeMembers: boolean;
}

export interface ClusterResult {
  clusters: ClusterOut[];
  k: number;
  silhouette: number | null;
  /** Documents clustered (the sample), of `total` that pass the filter. */
  documents: number;
  total: number;
}

export interface ClusterOut {
  id: number;
  size: number;
  centroidDocumentIds: string[];
  topTerms: string[];
  members?: string[];
}

/** Up to `limit` documents passing the filter, a seeded uniform sample when there are more. */
export function sampleDocuments(c: Collection, filter: CompiledFilter | undefined, limit: number, seed: number, maxText: number) {
  let pks = c.analysisPks(filter);
  const total = pks.length;
  if (pks.length > limit) {
    const r = rng(seed);
    for (let i = 0; i < limit; i++) {
      const j = i + Math.floor(r() * (pks.length - i));
      [pks[i], pks[j]] = [pks[j]!, pks[i]!];
    }
    pks = pks.slice(0, limit).sort((a, b) => a - b);
  }
  return { docs: c.analysisDocuments(pks, maxText), total };
}

function dist2(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** A word that can stand as a label: no stopword, no number, no lone Latin letter. */
function labelWord(w: string): boolean {
  return !isStopword(w) && !/^\d+$/.test(w) && (w.length > 1 || CJK.test(w));
}

/**
 * Labels by class-based TF-IDF (c-TF-IDF, as BERTopic): a cluster's documents are one document,
 * tf(t, c) / words(c) · ln(1 + A / tf(t)), A the average number of words per cluster and tf(t) the
 * word's count over all clusters. Stopwords (English and Chinese) never become labels; in a
 * cluster of 4 or more documents a word must occur in at least 2 of them.
 */
function topTerms(docs: AnalysisDocument[], labels: number[], k: number, n: number): string[][] {
  const docWords = docs.map((d) => words(d.text ?? '').filter(labelWord));
  const tfc = Array.from({ length: k }, () => new Map<string, number>());
  const dfc = Array.from({ length: k }, () => new Map<string, number>());
  const sizes = new Array<number>(k).fill(0);
  const wordsIn = new Array<number>(k).fill(0);
  const tf = new Map<string, number>();
  docWords.forEach((ws, i) => {
    const c = labels[i]!;
    sizes[c]!++;
    wordsIn[c]! += ws.length;
    for (const w of ws) {
      tfc[c]!.set(w, (tfc[c]!.get(w) ?? 0) + 1);
      tf.set(w, (tf.get(w) ?? 0) + 1);
    }
    for (const w of new Set(ws)) dfc[c]!.set(w, (dfc[c]!.get(w) ?? 0) + 1);
  });
  const avgWords = wordsIn.reduce((a, b) => a + b, 0) / Math.max(1, k);
  return tfc.map((counts, c) => {
    const minDocs = sizes[c]! >= 4 ? 2 : 1;
    return [...counts]
      .filter(([w]) => dfc[c]!.get(w)! >= minDocs)
      .map(([w, count]) => [w, (count / Math.max(1, wordsIn[c]!)) * Math.log(1 + avgWords / tf.get(w)!)] as const)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([w]) => w);
  });
}

export async function cluster(
  c: Collection,
  q: ClusterInput,
  deadline: Deadline,
): Promise<ClusterResult> {
  const { docs, total } = sampleDocuments(c, c.compileFilter(q.filter), q.sample, q.seed, 20_000);
  if (docs.length === 0) return { clusters: [], k: 0, silhouette: null, documents: 0, total };
  const data = docs.map((d) => {
    const v = Array.from(d.vector);
    if (c.info.metric !== 'cosine') return v;
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
    return v.map((x) => x / norm);
  });
  // k is at most the number of distinct points (duplicates cannot make more clusters), and
  // "auto" tries 2..10; every cluster that comes back is non-empty (kmeans.mjs).
  const result = await kmeansBest(data, q.k, q.seed, deadline);
  const k = result.k;
  const score = result.silhouette;
  const labels = result.labels;
  const termsPerCluster = topTerms(docs, labels, k, 8);
  const clusters: ClusterOut[] = [];
  for (let id = 0; id < k; id++) {
    const members = labels.flatMap((l, i) => (l === id ? [i] : []));
    const centroid = result.centroids[id]!;
    const nearest = [...members].sort((a, b) => dist2(data[a]!, centroid) - dist2(data[b]!, centroid)).slice(0, 3);
    const out: ClusterOut = { id, size: members.length, centroidDocumentIds: nearest.map((i) => docs[i]!.id), topTerms: termsPerCluster[id]! };
    if (q.includeMembers) out.members = members.map((i) => docs[i]!.id);
    clusters.push(out);
  }
  clusters.sort((a, b) => b.size - a.size || a.id - b.id);
  return { clusters, k, silhouette: score === null ? null : Math.round(score * 1e4) / 1e4, documents: docs.length, total };
}
