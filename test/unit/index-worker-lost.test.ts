// A worker thread holding graphs dies (here: killed the way a crash ends it). Its calls fail with
// IndexHostLost; the pool starts a fresh thread in its place, and each LocalVectorIndex reloads
// its graph from the snapshot plus the source's writes since, then answers as before: a search
// in flight at the kill is answered, no committed write is missing, a deleted one stays deleted,
// and writes after the loss land.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexWorkers, LocalVectorIndex } from '../../src/index/index.js';
import { randomVectors } from '../fixtures/vectors.js';
import { FakeIndexSource } from './fake-index-source.js';

const DIM = 8;
const log = pino({ level: 'silent' });
const workers = new IndexWorkers(1, log);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-lost-'));
afterAll(async () => {
  await workers.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let seed = 7;
const vectors = (n: number) => randomVectors(n, DIM, seed++).map((v) => Float32Array.from(v));

/** Every label the index returns for a query that may return all of them. */
async function labelsOf(index: LocalVectorIndex, upTo: number): Promise<number[]> {
  const allow = new Set(Array.from({ length: upTo }, (_, i) => i + 1));
  const out = await index.search(Float32Array.from({ length: DIM }, () => 1), upTo, { allow });
  return out.neighbors.map((n) => n.label).sort((a, b) => a - b);
}

describe('an index whose worker thread is lost', () => {
  it('reloads from its snapshot and the writes since, and answers every call as before', async () => {
    const source = new FakeIndexSource(3);
    const { index } = await LocalVectorIndex.open(source.info('cosine', DIM), { dir, source, log, exactThreshold: 1_000_000, host: workers.hostFor(3) });
    const first = source.commit(vectors(300));
    await index.apply(first);
    expect(await index.save()).toBe(true);
    // After the snapshot: more adds and a delete, only in memory and in the source.
    await index.apply(source.commit(vectors(50)));
    await index.apply(source.commit([], first.labels.slice(0, 10)));
    const expected = [...source.live.keys()].sort((a, b) => a - b);
    expect(await labelsOf(index, 400)).toEqual(expected);

    const probe = source.live.get(expected[100]!)!.vector;
    const inFlight = index.search(probe, 1);
    await workers.kill(3);
    // The search sent before the kill is answered (by the reloaded graph if it was lost).
    expect((await inFlight).neighbors[0]?.label).toBe(expected[100]);
    expect(await labelsOf(index, 400)).toEqual(expected);
    expect(await index.stats()).toMatchObject({ size: expected.length });

    // Killed again, then written to first: the write reloads, then lands.
    await workers.kill(3);
    const later = source.commit(vectors(20));
    await index.apply(later);
    expect(await labelsOf(index, 400)).toEqual([...source.live.keys()].sort((a, b) => a - b));
    expect(await index.stats()).toMatchObject({ size: source.live.size, appliedSeq: source.seq });

    // A save after a loss writes a snapshot that opens on its own, with nothing to replay.
    await workers.kill(3);
    await index.apply(source.commit(vectors(5)));
    await index.save();
    const again = await LocalVectorIndex.open(source.info('cosine', DIM), { dir, source, log, exactThreshold: 1_000_000, host: workers.hostFor(4) });
    expect(again.report).toMatchObject({ source: 'snapshot', replayedAdds: 0, replayedDeletes: 0, size: source.live.size });
  });
});
