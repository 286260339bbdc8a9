// Owns clustering of a collection (or a filtered, sampled part of it): k-means with k-means++
// seeding (kmeans.mjs, in a worker thread with a deadline: see analysis.ts), k chosen by
// silhouette when "auto", and a description of each cluster:
// the documents nearest its centroid and its most distinctive terms (tokenised as the FTS
// index tokenises, so Chinese terms are words). Cosine collections are clustered on unit
// vectors, where euclidean k-means orders points as cosine would.
import type { Collection } from '../collection/index.js';
import type { AnalysisDocument, CompiledFilter } from '../storage/index.js';
import { terms } from '../text/segment.js';
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

function topTerms(docs: AnalysisDocument[], labels: number[], k: number, n: number): string[][] {
  const docTerms = docs.map((d) => new Set(terms(d.text ?? '').filter((t) => t.length > 1 && !/^\d+$/.test(t))));
  const df = new Map<string, number>();
  for (const ts of docTerms) for (const t of ts) df.set(t, (df.get(t) ?? 0) + 1);
  const out: string[][] = [];
  for (let c = 0; c < k; c++) {
    const members = docTerms.filter((_, i) => labels[i] === c);
    const cdf = new Map<string, number>();
    for (const ts of members) for (const t of ts) cdf.set(t, (cdf.get(t) ?? 0) + 1);
    const minCount = members.length >= 4 ? 2 : 1;
    // Distinctiveness: p(t|cluster)·log(p(t|cluster)/p(t)), the term's share of the KL divergence.
    const scored = [...cdf]
      .filter(([, count]) => count >= minCount)
      .map(([t, count]) => {
        const pc = count / members.length;
        const p = df.get(t)! / docs.length;
        return [t, pc * Math.log(pc / p)] as const;
      })
      .filter(([, s]) => s > 0)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    out.push(scored.slice(0, n).map(([t]) => t));
  }
  return out;
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
