// The side of an index that holds the HNSW graphs: one `IndexHost` per thread that keeps
// indexes, either in a worker thread (the default: searches and inserts run on the second core
// while the main thread parses, joins SQLite rows and answers) or in the main thread
// (QUIVER_INDEX_WORKERS=0). Its operations take and return plain data — labels and vectors as
// typed arrays, allow-sets as label lists, never closures — so the same calls travel as
// messages. The search planner lives here, next to the graph it reads.
import type { HnswParams, Metric, Neighbor } from '../domain/types.js';
import { exactSearch } from './exact-index.js';
import { HnswIndex } from './hnsw-index.js';
import type { SearchPlan } from './vector-index.js';
import { labelTest } from './vector-index.js';

export interface CoreShape {
  dimension: number;
  metric: Metric;
  params: HnswParams;
}

export interface HostSearch {
  query: Float32Array;
  k: number;
  ef: number;
  /** Only these labels may be returned. */
  allow?: Float64Array;
  exclude?: Float64Array;
  /** Allow-sets at most this large are scanned exactly. */
  exactThreshold: number;
}

export interface HostSearchResult {
  labels: Float64Array;
  scores: Float32Array;
  plan: SearchPlan;
}

/** The operations of a host, as its callers see them (asynchronous, whichever thread runs them). */
export interface IndexHostApi {
  /** Loads a snapshot into slot `key`; the reason when it cannot be used. */
  load(key: number, base: string, shape: CoreShape): Promise<{ seq: number; size: number } | { reason: string }>;
  /** Puts an empty index into slot `key`. */
  create(key: number, shape: CoreShape, capacity: number): Promise<void>;
  /** Removes labels (missing ones are not an error); returns how many were present. */
  remove(key: number, labels: Float64Array): Promise<number>;
  /** Adds (or replaces) labels[i] → vectors[i·d … (i+1)·d); returns the slot's size after. */
  add(key: number, labels: Float64Array, vectors: Float32Array): Promise<{ size: number; capacity: number }>;
  /** Why the slot does not hold exactly these labels, or undefined when it does. */
  verify(key: number, expected: Float64Array): Promise<string | undefined>;
  search(key: number, req: HostSearch): Promise<HostSearchResult>;
  stats(key: number): Promise<{ size: number; capacity: number }>;
  save(key: number, base: string, seq: number): Promise<void>;
  /** Forgets the slot and deletes the snapshot files at `base`. */
  drop(key: number, base: string): Promise<void>;
  /** Forgets the slot (the files stay). */
  release(key: number): Promise<void>;
}

/** Longest stretch of inserts before the host lets other calls (searches) in. */
const SLICE_MS = 4;

const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));

export class IndexHost {
  private readonly cores = new Map<number, HnswIndex>();

  private core(key: number): HnswIndex {
    const core = this.cores.get(key);
    // In a worker that replaced a lost one, every slot is missing until its owner reloads it.
    if (!core) throw Object.assign(new Error(`no index in slot ${key}`), { name: 'IndexSlotMissing' });
    return core;
  }

  async load(key: number, base: string, shape: CoreShape): Promise<{ seq: number; size: number } | { reason: string }> {
    const loaded = await HnswIndex.load(base, shape);
    if (!('index' in loaded)) return loaded;
    this.cores.set(key, loaded.index);
    return { seq: loaded.seq, size: loaded.index.size };
  }

  create(key: number, shape: CoreShape, capacity: number): void {
    this.cores.set(key, HnswIndex.create(shape.dimension, shape.metric, shape.params, capacity));
  }

  /** Removes labels; yields now and then, so searches in this thread are served in between. */
  async remove(key: number, labels: Float64Array): Promise<number> {
    const core = this.core(key);
    let present = 0;
    let slice = performance.now();
    for (const label of labels) {
      if (core.has(label)) present++;
      core.remove(label);
      if (performance.now() - slice >= SLICE_MS) {
        await yieldNow();
        slice = performance.now();
      }
    }
    return present;
  }

  /**
   * Adds vectors, yielding every few ms: HNSW inserts cost ~0.1 ms each, and a search of this
   * thread waits no longer than a slice (it then sees part of the batch, whose rows are committed).
   */
  async add(key: number, labels: Float64Array, vectors: Float32Array): Promise<{ size: number; capacity: number }> {
    const core = this.core(key);
    const d = core.dimension;
    if (vectors.length !== labels.length * d) throw new RangeError(`${labels.length} labels need ${labels.length * d} floats, got ${vectors.length}`);
    let slice = performance.now();
    for (let i = 0; i < labels.length; i++) {
      core.add(labels[i]!, vectors.subarray(i * d, (i + 1) * d));
      if (performance.now() - slice >= SLICE_MS) {
        await yieldNow();
        // The slot may have been dropped or replaced while this batch yielded.
        if (this.cores.get(key) !== core) break;
        slice = performance.now();
      }
    }
    return { size: core.size, capacity: core.capacity };
  }

  verify(key: number, expected: Float64Array): string | undefined {
    const core = this.core(key);
    if (expected.length !== core.size) return `index has ${core.size} vectors, SQLite has ${expected.length}`;
    for (const label of expected) if (!core.has(label)) return `chunk ${label} is missing from the index`;
    return undefined;
  }

  /**
   * The planner. An allow-set no larger than the threshold is scanned exactly (HNSW with a very
   * selective filter walks a graph whose neighbours are mostly filtered out, and recall
   * collapses); a larger one goes through the graph with ef widened by 1/selectivity.
   */
  search(key: number, req: HostSearch): HostSearchResult {
    const core = this.core(key);
    const { query, k } = req;
    const ef = Math.max(req.ef, k);
    const exclude = req.exclude && req.exclude.length > 0 ? new Set(req.exclude) : undefined;
    let plan: SearchPlan;
    let neighbors: Neighbor[];
    if (!req.allow) {
      plan = 'hnsw';
      neighbors = core.search(query, k, { ef: ef + (exclude?.size ?? 0), exclude });
    } else {
      const allow = new Set(req.allow);
      const test = labelTest({ allow, exclude })!;
      if (allow.size <= req.exactThreshold || core.size === 0) {
        plan = 'exact';
        neighbors = exactSearch(core.metric, query, pairs(core, allow, test), k);
      } else {
        let allowed = 0;
        for (const l of allow) if (test(l) && core.has(l)) allowed++;
        const selectivity = Math.max(allowed / core.size, 1e-6);
        const wideEf = Math.min(10_000, Math.max(ef, Math.ceil(ef / selectivity)));
        plan = 'hnsw_filtered';
        neighbors = core.search(query, k, { ef: wideEf, allow, exclude });
      }
    }
    const labels = new Float64Array(neighbors.length);
    const scores = new Float32Array(neighbors.length);
    neighbors.forEach((n, i) => {
      labels[i] = n.label;
      scores[i] = n.score;
    });
    return { labels, scores, plan };
  }

  stats(key: number): { size: number; capacity: number } {
    const core = this.core(key);
    return { size: core.size, capacity: core.capacity };
  }

  /** The caller keeps the slot unchanged (no add/remove) until this settles. */
  async save(key: number, base: string, seq: number): Promise<void> {
    await this.core(key).save(base, seq);
  }

  async drop(key: number, base: string): Promise<void> {
    this.cores.delete(key);
    await HnswIndex.removeFiles(base);
  }

  release(key: number): void {
    this.cores.delete(key);
  }
}

/** The allowed labels' vectors, read from the graph's own storage. */
function* pairs(core: HnswIndex, allow: Set<number>, test: (l: number) => boolean): Generator<[number, Float32Array]> {
  for (const label of allow) {
    if (!test(label)) continue;
    const v = core.vector(label);
    if (v) yield [label, v];
  }
}

/** The host of this thread behind the asynchronous API (QUIVER_INDEX_WORKERS=0, and tests). */
export function inThreadHost(host = new IndexHost()): IndexHostApi {
  // Synchronous operations answer through a promise that settles with their result or throw.
  const later = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));
  return {
    load: (key, base, shape) => host.load(key, base, shape),
    create: (key, shape, capacity) => later(() => host.create(key, shape, capacity)),
    remove: (key, labels) => host.remove(key, labels),
    add: (key, labels, vectors) => host.add(key, labels, vectors),
    verify: (key, expected) => later(() => host.verify(key, expected)),
    search: (key, req) => later(() => host.search(key, req)),
    stats: (key) => later(() => host.stats(key)),
    save: (key, base, seq) => host.save(key, base, seq),
    drop: (key, base) => host.drop(key, base),
    release: (key) => later(() => host.release(key)),
  };
}
