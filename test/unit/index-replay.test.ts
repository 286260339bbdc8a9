// LocalVectorIndex.open over a fake source of truth and a temp dir: a first open rebuilds (or is
// empty), a snapshot is loaded and the writes after its seq replayed (adds and tombstones), and
// anything that does not add up — labels that disagree with the source, a snapshot ahead of the
// collection, a damaged manifest — rebuilds from the source with a reason instead of throwing.
// Also save (only when something changed, pruning tombstones), copySnapshot and drop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Metric } from '../../src/domain/types.js';
import type { LocalIndexOptions } from '../../src/index/index.js';
import { LocalVectorIndex } from '../../src/index/index.js';
import { randomVectors } from '../fixtures/vectors.js';
import { FakeIndexSource } from './fake-index-source.js';
import { HOSTS } from './index-hosts.js';

const DIM = 6;
const METRIC: Metric = 'cosine';
const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-replay-'));
  dirs.push(d);
  return d;
}

let seed = 1;
const vectors = (n: number) => randomVectors(n, DIM, seed++).map((v) => Float32Array.from(v));

/** Options with a threshold high enough that a search with an allow-set scans every label in it. */
const options = (dir: string, source: FakeIndexSource): LocalIndexOptions => ({ dir, source, log, exactThreshold: 1_000_000, host: hostOf() });
const open = (dir: string, source: FakeIndexSource, overrides = {}) => LocalVectorIndex.open(source.info(METRIC, DIM, overrides), options(dir, source));

/** The labels the index holds: an exact scan over every label that ever existed returns exactly the live ones. */
async function liveLabels(index: LocalVectorIndex, everUpTo = 10_000): Promise<number[]> {
  const all = new Set(Array.from({ length: everUpTo }, (_, i) => i + 1));
  const out = await index.search(Float32Array.from({ length: DIM }, () => 1), everUpTo, { allow: all });
  expect(out.plan).toBe('exact');
  return out.neighbors.map((n) => n.label).sort((a, b) => a - b);
}
let hostOf = HOSTS[0]!.host;
const sorted = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b);
const snapshotFiles = (dir: string) => fs.readdirSync(dir).filter((f) => /^c1\.(hnsw|labels|json)$/.test(f)).sort();

describe.each(HOSTS)('LocalVectorIndex with its graph $where', ({ host }) => {
  beforeAll(() => {
    hostOf = host;
  });

  describe('LocalVectorIndex.open without a snapshot', () => {
    it('opens an empty index for an empty collection ("empty", reason "no snapshot")', async () => {
      const source = new FakeIndexSource();
      const { index, report } = await open(tempDir(), source);
      expect(report).toEqual({ source: 'empty', replayedAdds: 0, replayedDeletes: 0, size: 0, reason: 'no snapshot' });
      expect(await index.stats()).toMatchObject({ size: 0, appliedSeq: 0 });
    });

    it('rebuilds from every vector of the source ("rebuilt", reason "no snapshot")', async () => {
      const source = new FakeIndexSource();
      source.commit(vectors(40));
      source.commit(vectors(10), [3, 4]);
      const { index, report } = await open(tempDir(), source);
      expect(report).toEqual({ source: 'rebuilt', replayedAdds: 0, replayedDeletes: 0, size: 48, reason: 'no snapshot' });
      expect(await liveLabels(index)).toEqual(sorted(source.live.keys()));
      expect(await index.stats()).toMatchObject({ size: 48, appliedSeq: 2 });
    });
  });

  describe('LocalVectorIndex snapshots: save and replay', () => {
    it('writes a snapshot only when something changed since the last one, and prunes tombstones up to its seq', async () => {
      const dir = tempDir();
      const source = new FakeIndexSource();
      source.commit(vectors(30));
      const { index } = await open(dir, source);
      // A rebuilt index is not on disk yet.
      expect(await index.save()).toBe(true);
      expect(snapshotFiles(dir)).toEqual(['c1.hnsw', 'c1.json', 'c1.labels']);
      expect(source.prunes).toEqual([1]);
      const manifest = fs.readFileSync(path.join(dir, 'c1.json'), 'utf8');
      expect(await index.save()).toBe(false);
      // A write with nothing for the index (e.g. only metadata) changes nothing either.
      await index.apply({ seq: 0, adds: [], deletes: [] });
      expect(await index.save()).toBe(false);
      expect(fs.readFileSync(path.join(dir, 'c1.json'), 'utf8')).toBe(manifest);
      expect(source.prunes).toEqual([1]);

      await index.apply(source.commit([], [1, 2]));
      expect(await index.save()).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'c1.json'), 'utf8'))).toMatchObject({ seq: 2, live: 28 });
      expect(source.prunes).toEqual([1, 2]);
      expect(source.tombstones).toEqual([]);
    });

    it('takes adds after loading the snapshot of an empty index (hnswlib read it back with room for no element)', async () => {
      const dir = tempDir();
      const source = new FakeIndexSource();
      const first = await open(dir, source);
      await first.index.save();
      expect(snapshotFiles(dir)).toEqual(['c1.hnsw', 'c1.json', 'c1.labels']);
      // A collection created and never written, then the server restarted: its first writes
      // answered 500 ("resizeIndex failed to allocate base layer") and corrupted the heap.
      const { index, report } = await open(dir, source);
      expect(report.size).toBe(0);
      await index.apply(source.commit(vectors(1500)));
      expect(await liveLabels(index)).toEqual(sorted(source.live.keys()));
    });

    it('loads the snapshot and replays the writes after its seq: adds and tombstones, counted, live set exactly the source’s', async () => {
      const dir = tempDir();
      const source = new FakeIndexSource();
      const first = source.commit(vectors(100)).labels;
      const { index } = await open(dir, source);
      await index.apply(source.commit(vectors(20)));
      await index.apply(source.commit([], first.slice(0, 5)));
      expect(await index.save()).toBe(true); // snapshot at seq 3: 115 labels

      // Writes the index never saw (committed, then the process died before the next snapshot).
      const late = source.commit(vectors(7)).labels; // seq 4
      source.commit([], [...first.slice(5, 8), late[0]!]); // seq 5: three snapshot labels, one added after it
      const replayedVector = source.live.get(late[1]!)!.vector;

      const { index: reopened, report } = await open(dir, source);
      expect(report).toEqual({ source: 'snapshot', replayedAdds: 6, replayedDeletes: 3, size: 115 + 6 - 3 });
      expect(await liveLabels(reopened)).toEqual(sorted(source.live.keys()));
      expect(await reopened.stats()).toMatchObject({ size: 118, appliedSeq: 5 });
      // A replayed vector is the source's vector, not just its label.
      const top = (await reopened.search(replayedVector, 1)).neighbors[0]!;
      expect(top.label).toBe(late[1]);
      expect(top.score).toBeCloseTo(1, 5);
      // What was replayed is not on disk yet.
      expect(await reopened.save()).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'c1.json'), 'utf8'))).toMatchObject({ seq: 5, live: 118 });
    });

    it('loads an up-to-date snapshot with nothing to replay, and has nothing to save', async () => {
      const dir = tempDir();
      const source = new FakeIndexSource();
      source.commit(vectors(25));
      const { index } = await open(dir, source);
      await index.save();
      const { index: reopened, report } = await open(dir, source);
      expect(report).toEqual({ source: 'snapshot', replayedAdds: 0, replayedDeletes: 0, size: 25 });
      expect(await reopened.save()).toBe(false);
    });

    it('copies an up-to-date snapshot into another folder and returns its seq', async () => {
      const dir = tempDir();
      const dest = tempDir();
      const source = new FakeIndexSource();
      source.commit(vectors(12));
      const { index } = await open(dir, source);
      await index.apply(source.commit(vectors(3)));
      expect(await index.copySnapshot(dest)).toBe(2);
      expect(fs.readdirSync(dest).sort()).toEqual(['c1.hnsw', 'c1.json', 'c1.labels']);
      // The copy is a snapshot a server can open.
      const { report } = await open(dest, source);
      expect(report).toEqual({ source: 'snapshot', replayedAdds: 0, replayedDeletes: 0, size: 15 });
    });
  });

  describe('LocalVectorIndex.open: rebuilds instead of trusting a snapshot that does not add up', () => {
    async function savedSnapshot(n = 30): Promise<{ dir: string; source: FakeIndexSource; labels: number[] }> {
      const dir = tempDir();
      const source = new FakeIndexSource();
      const { labels } = source.commit(vectors(n));
      const { index } = await open(dir, source);
      expect(await index.save()).toBe(true);
      return { dir, source, labels };
    }

    it('rebuilds when the source has fewer live labels than the snapshot after replay (a lost tombstone)', async () => {
      const { dir, source, labels } = await savedSnapshot();
      source.live.delete(labels[4]!); // gone from the source, with no tombstone to replay
      const { index, report } = await open(dir, source);
      expect(report).toEqual({ source: 'rebuilt', replayedAdds: 0, replayedDeletes: 0, size: 29, reason: 'index has 30 vectors, SQLite has 29' });
      expect(await liveLabels(index)).toEqual(sorted(source.live.keys()));
      // The rebuilt index is not on disk yet.
      expect(await index.save()).toBe(true);
    });

    it('rebuilds when the counts agree but a label differs, naming the missing chunk', async () => {
      const { dir, source, labels } = await savedSnapshot();
      source.live.delete(labels[0]!);
      // A label the snapshot lacks, written at a seq the snapshot claims to include.
      source.live.set(5000, { vector: vectors(1)[0]!, seq: 1 });
      const { index, report } = await open(dir, source);
      expect(report).toMatchObject({ source: 'rebuilt', size: 30, reason: 'chunk 5000 is missing from the index' });
      expect(await liveLabels(index)).toEqual(sorted(source.live.keys()));
    });

    it('rebuilds when the snapshot’s seq is ahead of the collection’s (an older database)', async () => {
      const dir = tempDir();
      const source = new FakeIndexSource();
      source.commit(vectors(10));
      const { index } = await open(dir, source);
      await index.apply(source.commit(vectors(5)));
      await index.apply(source.commit(vectors(5)));
      expect(await index.save()).toBe(true); // seq 3
      const { index: reopened, report } = await open(dir, source, { seq: 1 });
      expect(report).toEqual({ source: 'rebuilt', replayedAdds: 0, replayedDeletes: 0, size: 20, reason: 'snapshot seq 3 is ahead of SQLite seq 1' });
      expect(await reopened.stats()).toMatchObject({ appliedSeq: 1 });
    });

    it('rebuilds, not throws, on a manifest that is JSON null', async () => {
      const { dir, source } = await savedSnapshot();
      fs.writeFileSync(path.join(dir, 'c1.json'), 'null');
      const { index, report } = await open(dir, source);
      expect(report).toEqual({ source: 'rebuilt', replayedAdds: 0, replayedDeletes: 0, size: 30, reason: 'unreadable manifest (not a JSON object)' });
      expect(await liveLabels(index)).toEqual(sorted(source.live.keys()));
    });

    it('rebuilds on a manifest that is not JSON, or lacks a field', async () => {
      const { dir, source } = await savedSnapshot();
      const good = fs.readFileSync(path.join(dir, 'c1.json'), 'utf8');
      fs.writeFileSync(path.join(dir, 'c1.json'), '{"seq": 1,');
      expect((await open(dir, source)).report).toMatchObject({ source: 'rebuilt', reason: expect.stringMatching(/^unreadable manifest \(/) });
      const { seq: _seq, ...withoutSeq } = JSON.parse(good) as Record<string, unknown>;
      fs.writeFileSync(path.join(dir, 'c1.json'), JSON.stringify(withoutSeq));
      expect((await open(dir, source)).report).toMatchObject({ source: 'rebuilt', reason: 'unreadable manifest ("seq" is not a whole number)' });
    });

    it('rebuilds on a truncated graph file (checksum mismatch)', async () => {
      const { dir, source } = await savedSnapshot();
      const file = path.join(dir, 'c1.hnsw');
      fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
      const { report } = await open(dir, source);
      expect(report).toMatchObject({ source: 'rebuilt', size: 30, reason: `checksum mismatch in ${path.join(dir, 'c1')}.hnsw (truncated or changed)` });
    });

    it('rebuilds when the snapshot was built with other HNSW parameters', async () => {
      const { dir, source } = await savedSnapshot();
      const { report } = await open(dir, source, { hnsw: { m: 8, efConstruction: 100 } });
      expect(report).toMatchObject({ source: 'rebuilt', size: 30, reason: expect.stringContaining('M 16') });
    });

    it('reads only its own collection’s files', async () => {
      const { dir } = await savedSnapshot();
      const other = new FakeIndexSource(2);
      other.commit(vectors(4));
      const { report } = await LocalVectorIndex.open(other.info(METRIC, DIM), options(dir, other));
      expect(report).toMatchObject({ source: 'rebuilt', size: 4, reason: 'no snapshot' });
    });
  });

  describe('LocalVectorIndex.drop', () => {
    it('deletes the snapshot files, and the index then ignores writes and saves nothing', async () => {
      const dir = tempDir();
      const source = new FakeIndexSource();
      source.commit(vectors(10));
      const { index } = await open(dir, source);
      await index.save();
      fs.writeFileSync(path.join(dir, 'c1.hnsw.tmp'), 'left over by a crash');
      expect(snapshotFiles(dir)).toHaveLength(3);
      await index.drop();
      expect(fs.readdirSync(dir)).toEqual([]);
      await index.apply(source.commit(vectors(2)));
      expect(await index.save()).toBe(false);
      expect(await index.copySnapshot(tempDir())).toBeUndefined();
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });
});
