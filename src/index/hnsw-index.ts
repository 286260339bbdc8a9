// An HNSW index (hnswlib-node) for one collection: labels are chunk ids, deletes are marked and
// their slots reused, capacity grows by doubling. Persistence is a snapshot of three files:
//   <base>.hnsw    hnswlib's own format
//   <base>.labels  the live labels (float64), since hnswlib keeps deleted labels in its lookup
//   <base>.json    the manifest, written last: seq, counts, parameters and the sha256 of both files
// A snapshot is only trusted when the manifest's checksums match, because hnswlib reads a
// truncated or foreign file without checks and can crash the process.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import hnswlib from 'hnswlib-node';
import type { HnswParams, Metric, Neighbor } from '../domain/types.js';
import type { IndexCore, SearchOptions } from './vector-index.js';
import { hnswDistanceToScore, labelTest } from './vector-index.js';

const FORMAT = 1;
const MIN_CAPACITY = 1024;

export interface SnapshotManifest {
  format: number;
  seq: number;
  dimension: number;
  metric: Metric;
  m: number;
  efConstruction: number;
  live: number;
  hnswSha256: string;
  labelsSha256: string;
}

export class HnswIndex implements IndexCore {
  private readonly index: hnswlib.HierarchicalNSW;
  private readonly live = new Set<number>();

  private constructor(
    readonly dimension: number,
    readonly metric: Metric,
    readonly params: HnswParams,
  ) {
    this.index = new hnswlib.HierarchicalNSW(metric, dimension);
  }

  static create(dimension: number, metric: Metric, params: HnswParams, capacity = MIN_CAPACITY): HnswIndex {
    const idx = new HnswIndex(dimension, metric, params);
    idx.index.initIndex({
      maxElements: Math.max(MIN_CAPACITY, capacity),
      m: params.m,
      efConstruction: params.efConstruction,
      randomSeed: 100,
      allowReplaceDeleted: true,
    });
    return idx;
  }

  get size(): number {
    return this.live.size;
  }

  get capacity(): number {
    return this.index.getMaxElements();
  }

  has(label: number): boolean {
    return this.live.has(label);
  }

  labels(): Iterable<number> {
    return this.live.keys();
  }

  add(label: number, vector: Float32Array): void {
    if (vector.length !== this.dimension) throw new RangeError(`expected ${this.dimension} dimensions, got ${vector.length}`);
    // Filling a deleted node's slot costs hnswlib a repair of its neighbours' links: 6.8 ms
    // against 1.5 ms for a fresh slot (384-d, 20k nodes, M 16, efConstruction 200). So an add
    // takes a fresh slot, growing the graph, until it holds as many deleted nodes as live ones;
    // only then are deleted slots reused, which bounds memory at about twice the live vectors.
    const count = this.index.getCurrentCount();
    const deleted = count - this.live.size;
    const reuse = deleted > 0 && deleted >= this.live.size;
    if (!reuse && !this.live.has(label) && count >= this.index.getMaxElements()) {
      this.index.resizeIndex(Math.max(MIN_CAPACITY, this.index.getMaxElements() * 2));
    }
    const point = Array.from(vector);
    try {
      this.index.addPoint(point, label, reuse);
    } catch (err) {
      // hnswlib refuses a fresh add under a label it holds as deleted (labels are never reused
      // by Quiver, but a core may be handed one): that add must go through the deleted slot.
      if (reuse) throw err;
      this.index.addPoint(point, label, true);
    }
    this.live.add(label);
  }

  remove(label: number): void {
    if (!this.live.delete(label)) return;
    this.index.markDelete(label);
  }

  vector(label: number): Float32Array | undefined {
    if (!this.live.has(label)) return undefined;
    return Float32Array.from(this.index.getPoint(label));
  }

  search(query: Float32Array, k: number, opts: SearchOptions = {}): Neighbor[] {
    if (this.live.size === 0 || k <= 0) return [];
    const n = Math.min(k, this.live.size);
    this.index.setEf(Math.max(opts.ef ?? 0, n));
    // hnswlib takes the filter as a callback; it stays inside this thread.
    const res = this.index.searchKnn(Array.from(query), n, labelTest(opts));
    return res.neighbors.map((label, i) => ({ label, score: hnswDistanceToScore(this.metric, res.distances[i]!) }));
  }

  /** Writes a snapshot. The caller must keep the index unchanged until the promise settles. */
  async save(base: string, seq: number): Promise<SnapshotManifest> {
    const labels = Float64Array.from(this.live);
    await this.index.writeIndex(`${base}.hnsw.tmp`);
    await fs.promises.writeFile(`${base}.labels.tmp`, new Uint8Array(labels.buffer));
    const manifest: SnapshotManifest = {
      format: FORMAT,
      seq,
      dimension: this.dimension,
      metric: this.metric,
      m: this.params.m,
      efConstruction: this.params.efConstruction,
      live: labels.length,
      hnswSha256: await sha256File(`${base}.hnsw.tmp`),
      labelsSha256: await sha256File(`${base}.labels.tmp`),
    };
    await fsyncFile(`${base}.hnsw.tmp`);
    await fsyncFile(`${base}.labels.tmp`);
    await fs.promises.rename(`${base}.hnsw.tmp`, `${base}.hnsw`);
    await fs.promises.rename(`${base}.labels.tmp`, `${base}.labels`);
    await fs.promises.writeFile(`${base}.json.tmp`, JSON.stringify(manifest));
    await fsyncFile(`${base}.json.tmp`);
    await fs.promises.rename(`${base}.json.tmp`, `${base}.json`);
    return manifest;
  }

  /**
   * Loads a snapshot if its manifest is present, matches the expected shape and its files match
   * their checksums; otherwise returns the reason it cannot be used.
   */
  static async load(
    base: string,
    expect: { dimension: number; metric: Metric; params: HnswParams },
  ): Promise<{ index: HnswIndex; seq: number } | { reason: string }> {
    let manifest: SnapshotManifest;
    try {
      const parsed = JSON.parse(await fs.promises.readFile(`${base}.json`, 'utf8')) as unknown;
      const why = manifestProblem(parsed);
      if (why) return { reason: `unreadable manifest (${why})` };
      manifest = parsed as SnapshotManifest;
    } catch (err) {
      return { reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no snapshot' : `unreadable manifest (${(err as Error).message})` };
    }
    if (manifest.format !== FORMAT) return { reason: `snapshot format ${manifest.format}, expected ${FORMAT}` };
    if (manifest.dimension !== expect.dimension || manifest.metric !== expect.metric) {
      return { reason: `snapshot is ${manifest.metric}/${manifest.dimension}, collection is ${expect.metric}/${expect.dimension}` };
    }
    if (manifest.m !== expect.params.m || manifest.efConstruction !== expect.params.efConstruction) {
      return {
        reason: `snapshot was built with M ${manifest.m}, efConstruction ${manifest.efConstruction}; the collection has M ${expect.params.m}, efConstruction ${expect.params.efConstruction}`,
      };
    }
    for (const [file, sum] of [
      [`${base}.hnsw`, manifest.hnswSha256],
      [`${base}.labels`, manifest.labelsSha256],
    ] as const) {
      let actual: string;
      try {
        actual = await sha256File(file);
      } catch {
        return { reason: `missing ${file}` };
      }
      if (actual !== sum) return { reason: `checksum mismatch in ${file} (truncated or changed)` };
    }
    const labelsBuf = await fs.promises.readFile(`${base}.labels`);
    if (labelsBuf.byteLength !== manifest.live * 8) return { reason: 'label file size does not match the manifest' };
    const idx = new HnswIndex(expect.dimension, expect.metric, { m: manifest.m, efConstruction: manifest.efConstruction });
    try {
      await idx.index.readIndex(`${base}.hnsw`, true);
    } catch (err) {
      // A file with a matching checksum can still be one hnswlib cannot read (written by
      // another version, or damaged before its checksum was taken): rebuild, do not crash.
      const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
      return { reason: `hnswlib refuses ${path.basename(base)}.hnsw although its checksum matches (${message})` };
    }
    // hnswlib reads an index back with room for max(its count, the capacity asked: none) elements,
    // so an empty snapshot comes back with room for none, and growing it from there fails
    // ("resizeIndex failed to allocate base layer") and corrupts the heap. It holds nothing to keep.
    if (idx.index.getCurrentCount() === 0) {
      if (manifest.live !== 0) return { reason: 'the snapshot holds no vectors but its manifest lists some' };
      return { index: HnswIndex.create(expect.dimension, expect.metric, { m: manifest.m, efConstruction: manifest.efConstruction }), seq: manifest.seq };
    }
    // Copy into an aligned buffer: readFile's Buffer need not start on an 8-byte boundary.
    const labels = new Float64Array(manifest.live);
    new Uint8Array(labels.buffer).set(labelsBuf);
    for (const l of labels) idx.live.add(l);
    return { index: idx, seq: manifest.seq };
  }

  static async removeFiles(base: string): Promise<void> {
    await Promise.all(
      ['.hnsw', '.labels', '.json', '.hnsw.tmp', '.labels.tmp', '.json.tmp'].map((ext) => fs.promises.rm(`${base}${ext}`, { force: true })),
    );
  }
}

/** Why a parsed manifest cannot be used, or undefined when its fields have the right types. */
function manifestProblem(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'not a JSON object';
  const r = m as Record<string, unknown>;
  for (const key of ['format', 'seq', 'dimension', 'm', 'efConstruction', 'live'] as const) {
    if (typeof r[key] !== 'number' || !Number.isInteger(r[key]) || r[key] < 0) return `"${key}" is not a whole number`;
  }
  for (const key of ['metric', 'hnswSha256', 'labelsSha256'] as const) if (typeof r[key] !== 'string') return `"${key}" is not a string`;
  return undefined;
}

async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function fsyncFile(file: string): Promise<void> {
  const fh = await fs.promises.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
