// Owns the offline verdict on one collection's index snapshot, for `quiver check`: would a server
// starting on this data dir load the snapshot (and replay the writes newer than it), or rebuild
// the index from SQLite, and why. Builds nothing and writes nothing.
// The files are read by HnswIndex.load, the code the server loads them with: checksums of both
// files first (hnswlib reads a truncated or foreign file without checks and can crash the
// process), then hnswlib's own reading, whose refusal is caught here. Checked here besides: a
// manifest that is not a manifest object (HnswIndex.load assumes one), HNSW parameters, shape or a
// seq that disagree with the collection's row, and the snapshot's labels after replaying newer
// writes against the labels SQLite says the index must hold (as LocalVectorIndex.open does).
import fs from 'node:fs';
import path from 'node:path';
import type { HnswParams, Metric } from '../domain/types.js';
import { HnswIndex, type SnapshotManifest } from './hnsw-index.js';

/** What the collection's row in SQLite says the snapshot must match. */
export interface SnapshotExpectation {
  dimension: number;
  metric: Metric;
  /** null when the row's parameters are unreadable: they are then not compared. */
  params: HnswParams | null;
  /** The collection's seq: the last write SQLite has. */
  seq: number;
  /** Chunks with a vector in SQLite. */
  vectors: number;
}

/** The labels SQLite says the index must hold (answered by src/storage/inspect.ts). */
export interface LabelSource {
  liveLabels(): number[];
  /** Labels of chunks with a vector written after `seq`. */
  addedAfter(seq: number): number[];
  /** Labels deleted after `seq` (tombstones). */
  deletedAfter(seq: number): number[];
}

export type SnapshotProblem = 'missing' | 'manifest' | 'shape' | 'params' | 'seq' | 'files' | 'hnswlib' | 'labels';

export type SnapshotVerdict =
  /** The snapshot is loaded as is and the writes after its seq are replayed into it. */
  | { action: 'load'; seq: number; replayedWrites: number; replayedAdds: number; replayedDeletes: number; size: number }
  /** No snapshot, and nothing to index: the server starts an empty index. */
  | { action: 'empty'; note: string }
  /** The snapshot cannot be used: the server builds the index again from SQLite's vectors. */
  | { action: 'rebuild'; problem: SnapshotProblem; reason: string; seq?: number };

const SNAPSHOT_FILE = /^c(\d+)\.(hnsw|labels|json)(\.tmp)?$/;

/** A collection's snapshot file base name: by id, so collection names never reach a path. */
export function snapshotBase(indexDir: string, collectionId: number): string {
  return path.join(indexDir, `c${collectionId}`);
}

/** Snapshot files (finished and .tmp) in an index dir by collection id; empty when the dir does not exist. */
export function listSnapshotFiles(indexDir: string): Map<number, string[]> {
  const byId = new Map<number, string[]>();
  let names: string[];
  try {
    names = fs.readdirSync(indexDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return byId;
    throw err;
  }
  for (const name of names.sort()) {
    const m = SNAPSHOT_FILE.exec(name);
    if (!m) continue;
    const id = Number(m[1]);
    byId.set(id, [...(byId.get(id) ?? []), name]);
  }
  return byId;
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

const METRICS: readonly string[] = ['cosine', 'l2', 'ip'] satisfies Metric[];
const SHA256 = /^[0-9a-f]{64}$/;

/** The manifest, or why it is not one. HnswIndex.load reads it again; offline, nothing changes it in between. */
async function readManifest(file: string): Promise<SnapshotManifest | string> {
  const name = path.basename(file);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    return `manifest ${name} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return `manifest ${name} is unreadable: not JSON (${oneLine((err as Error).message)})`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    const shown = text.trim().length <= 40 ? oneLine(text) : `a JSON ${Array.isArray(v) ? 'array' : typeof v}`;
    return `manifest ${name} is unreadable: it holds ${shown}, not a manifest object`;
  }
  const o = v as Record<string, unknown>;
  const bad = [
    ...['format', 'seq', 'dimension', 'm', 'efConstruction', 'live'].filter((k) => !Number.isInteger(o[k]) || (o[k] as number) < 0),
    ...(typeof o.metric === 'string' && METRICS.includes(o.metric) ? [] : ['metric']),
    ...['hnswSha256', 'labelsSha256'].filter((k) => typeof o[k] !== 'string' || !SHA256.test(o[k])),
  ];
  if (bad.length > 0) return `manifest ${name} is unreadable: ${bad.map((k) => `"${k}"`).join(', ')} missing or invalid`;
  return o as unknown as SnapshotManifest;
}

/** Decides what a server starting now would do with the collection's snapshot under `base` (the path without extension). */
export async function verifySnapshot(base: string, expect: SnapshotExpectation, sqlite: LabelSource): Promise<SnapshotVerdict> {
  const name = path.basename(base);
  const rebuild = (problem: SnapshotProblem, reason: string, seq?: number): SnapshotVerdict => ({
    action: 'rebuild',
    problem,
    reason,
    ...(seq === undefined ? {} : { seq }),
  });

  if (!fs.existsSync(`${base}.json`)) {
    const orphans = ['.hnsw', '.labels'].filter((ext) => fs.existsSync(`${base}${ext}`)).map((ext) => `${name}${ext}`);
    const interrupted = orphans.length ? `, ${orphans.join(' and ')} without it: a first snapshot was interrupted` : '';
    if (expect.vectors === 0) return { action: 'empty', note: `no snapshot yet, no vectors to index${interrupted}` };
    return rebuild('missing', `no snapshot (${name}.json is missing${interrupted})`);
  }

  const manifest = await readManifest(`${base}.json`);
  if (typeof manifest === 'string') return rebuild('manifest', manifest);
  const seq = manifest.seq;
  if (manifest.metric !== expect.metric || manifest.dimension !== expect.dimension) {
    return rebuild('shape', `snapshot is ${manifest.metric}/${manifest.dimension}, the collection is ${expect.metric}/${expect.dimension}`, seq);
  }
  if (expect.params && (manifest.m !== expect.params.m || manifest.efConstruction !== expect.params.efConstruction)) {
    return rebuild(
      'params',
      `snapshot ${name}.json says M=${manifest.m} efConstruction=${manifest.efConstruction}, the collection has M=${expect.params.m} efConstruction=${expect.params.efConstruction}`,
      seq,
    );
  }
  if (seq > expect.seq) {
    return rebuild('seq', `snapshot seq ${seq} is ahead of the collection's seq ${expect.seq} in quiver.db (the database is older than the snapshot)`, seq);
  }

  let loaded: Awaited<ReturnType<typeof HnswIndex.load>>;
  try {
    loaded = await HnswIndex.load(base, { dimension: expect.dimension, metric: expect.metric, params: expect.params ?? { m: manifest.m, efConstruction: manifest.efConstruction } });
  } catch (err) {
    const message = oneLine(err instanceof Error ? err.message : String(err));
    // The checksums matched, so hnswlib read the very file the manifest describes, and refused it.
    if (message.startsWith('Hnswlib Error')) return rebuild('hnswlib', `hnswlib refuses ${name}.hnsw although its checksum matches (${message})`, seq);
    return rebuild('hnswlib', `loading ${name}.hnsw failed (${message})`, seq);
  }
  if ('reason' in loaded) return rebuild(loaded.reason.startsWith('hnswlib refuses') ? 'hnswlib' : 'files', loaded.reason, seq);

  // Replay as LocalVectorIndex.open does: deletes first (labels are never reused), then adds.
  const labels = new Set(loaded.index.labels());
  let replayedDeletes = 0;
  for (const label of sqlite.deletedAfter(seq)) if (labels.delete(label)) replayedDeletes++;
  const added = sqlite.addedAfter(seq);
  for (const label of added) labels.add(label);
  const live = sqlite.liveLabels();
  const writes = expect.seq - seq;
  const replay = writes > 0 ? `after replaying ${writes} write(s), ` : '';
  const missing = live.find((label) => !labels.has(label));
  if (live.length !== labels.size || missing !== undefined) {
    const liveSet = new Set(live);
    const extra = [...labels].find((label) => !liveSet.has(label));
    const which = [
      ...(missing === undefined ? [] : [`chunk ${missing} is in SQLite but not in the snapshot`]),
      ...(extra === undefined ? [] : [`label ${extra} is in the snapshot but no live chunk in SQLite`]),
    ];
    return rebuild('labels', `${replay}the snapshot holds ${labels.size} vector(s), SQLite has ${live.length} (${which.join('; ')})`, seq);
  }
  return { action: 'load', seq, replayedWrites: writes, replayedAdds: added.length, replayedDeletes, size: labels.size };
}
