// The write door of a collection (Collection.write and the deletes) on a real SqliteStore, with
// a fake embedding provider that counts what it is asked to embed (the embedding cache is off,
// so every text the write embeds reaches it). Pins: reject-batch writes nothing on one bad
// document, isolate-document writes the rest; proceed() false commits nothing; record runs in
// the write's transaction (a throw rolls everything back); unchanged and metadata-only writes
// do not embed; deletes return their count and leave the index. Group commit: concurrent writes
// and deletes share a transaction yet end as if applied one by one in arrival order, each failing
// alone; a write whose document an earlier member changed is cut off and embeds before the next.
import diagnosticsChannel from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Collection, DocumentOutcome, WriteGroupEvent, WriteResult } from '../../src/collection/index.js';
import { CollectionRegistry, WRITE_GROUP_CHANNEL } from '../../src/collection/index.js';
import { loadConfig } from '../../src/config/index.js';
import { inThreadHost } from '../../src/index/index.js';
import type { DocumentInput } from '../../src/domain/types.js';
import type { Embedder, EmbeddingProvider } from '../../src/embedding/index.js';
import { EmbedError, Embedders } from '../../src/embedding/index.js';
import { noneProvider } from '../../src/embedding/providers/none.js';
import type { Store } from '../../src/storage/index.js';
import { SqliteStore } from '../../src/storage/index.js';

const log = pino({ level: 'silent' });

/** Texts the fake model was asked for, call by call. */
let calls: string[][] = [];
/** 3 dimensions from the text; "?"-only texts have nothing to embed; texts containing FAIL are rejected. */
function embedOne(text: string): Float32Array | null {
  if (/^\?+$/.test(text)) return null;
  return Float32Array.of(text.length, (text.match(/a/g) ?? []).length + 1, text.charCodeAt(0));
}
const fakeEmbedder: Embedder = {
  id: 'fake:v1',
  dimensions: 3,
  maxBatch: 64,
  embed(texts) {
    calls.push(texts);
    if (texts.some((t) => t.includes('FAIL'))) return Promise.reject(new EmbedError('the model rejects FAIL', 'input'));
    return Promise.resolve(texts.map(embedOne));
  },
  close: () => Promise.resolve(),
};
const fakeProvider: EmbeddingProvider = {
  name: 'fake',
  hasModel: true,
  schema: z.strictObject({ provider: z.literal('fake') }),
  normalize: () => ({ provider: 'fake' }),
  dimensions: () => Promise.resolve(3),
  create: () => Promise.resolve(fakeEmbedder),
  key: () => 'fake',
};

let dir: string;
let store: Store;
let registry: CollectionRegistry;
/** Provider "fake": the write embeds text. */
let texts: Collection;
/** Provider "none", 2 dimensions: clients send vectors. */
let vectors: Collection;

// One store for the file; each test gets two new collections, so no test sees another's rows.
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quiver-write-'));
  const config = loadConfig({ QUIVER_DATA_DIR: dir, QUIVER_EMBEDDER: 'none', QUIVER_SYNC: 'normal' });
  store = SqliteStore.open({ file: path.join(dir, 'quiver.db'), sync: 'normal', embedCacheMax: 0 });
  registry = new CollectionRegistry({
    store,
    embedders: new Embedders(config, [noneProvider, fakeProvider]),
    log,
    retry: { retries: 0, baseMs: 1 },
    efSearch: 64,
    indexDir: path.join(dir, 'indexes'),
    exactThreshold: 1000,
    hnsw: config.hnsw,
    indexHost: () => inThreadHost(),
  });
  await registry.openAll(undefined);
});
afterAll(() => {
  // No registry.close(): its final snapshots (fsynced) are not what this file tests.
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let n = 0;
beforeEach(async () => {
  calls = [];
  n++;
  texts = await registry.create({ name: `texts${n}`, metric: 'cosine', embedder: { provider: 'fake' } });
  vectors = await registry.create({ name: `vectors${n}`, metric: 'l2', embedder: { provider: 'none' }, dimension: 2 });
});

const seqOf = (c: Collection) => store.collections.list().find((x) => x.id === c.info.id)!.seq;
const present = (c: Collection, ids: string[]) => ids.filter((id) => c.get(id) !== undefined);
const size = async (c: Collection) => (await c.stats()).size;
const kinds = (outcomes: DocumentOutcome[]) => outcomes.map((o) => [o.id, o.kind]);

describe('Collection.write: failure policies', () => {
  const batch: DocumentInput[] = [
    { id: 'a', vector: [1, 0] },
    { id: 'bad', vector: [1, 0, 0] },
    { id: 'b', vector: [0, 1] },
  ];

  it('reject-batch: one document with a wrong vector throws and writes nothing', async () => {
    await expect(vectors.write(batch, { onError: 'reject-batch' })).rejects.toMatchObject({
      code: 'DIMENSION_MISMATCH',
      message: 'documents.1.vector: vector has 3 dimensions but the collection has 2',
    });
    expect(present(vectors, ['a', 'bad', 'b'])).toEqual([]);
    expect(await size(vectors)).toBe(0);
    expect(seqOf(vectors)).toBe(0);
  });

  it('reject-batch: a text the model rejects throws EMBEDDING_FAILED and writes nothing', async () => {
    const docs = [{ id: 'ok', text: 'a fine text' }, { id: 'no', text: 'please FAIL' }];
    await expect(texts.write(docs, { onError: 'reject-batch' })).rejects.toMatchObject({ code: 'EMBEDDING_FAILED', status: 502 });
    expect(present(texts, ['ok', 'no'])).toEqual([]);
    expect(await size(texts)).toBe(0);
  });

  it('isolate-document: a wrong vector fails alone, with its reason, and the rest is written', async () => {
    const r = await vectors.write(batch, { onError: 'isolate-document' });
    expect(r).toMatchObject({ committed: true, created: 2, updated: 0, unchanged: 0 });
    expect(r.outcomes).toEqual([
      { index: 0, id: 'a', kind: 'created' },
      { index: 1, id: 'bad', kind: 'failed', error: 'documents.1.vector: vector has 3 dimensions but the collection has 2' },
      { index: 2, id: 'b', kind: 'created' },
    ]);
    expect(present(vectors, ['a', 'bad', 'b'])).toEqual(['a', 'b']);
    expect(await size(vectors)).toBe(2);
  });

  it('isolate-document: a text the model rejects fails alone, and the others are embedded once each', async () => {
    const docs = [{ id: 'ok', text: 'a fine text' }, { id: 'no', text: 'please FAIL' }, { id: 'ok2', text: 'another one' }];
    const r = await texts.write(docs, { onError: 'isolate-document' });
    expect(kinds(r.outcomes)).toEqual([
      ['ok', 'created'],
      ['no', 'failed'],
      ['ok2', 'created'],
    ]);
    expect(r.outcomes[1]!.error).toBe('the model rejects FAIL');
    expect(present(texts, ['ok', 'no', 'ok2'])).toEqual(['ok', 'ok2']);
    expect(await size(texts)).toBe(2);
    // The whole batch once, then text by text to find the culprit.
    expect(calls.map((c) => c.length)).toEqual([3, 1, 1, 1]);
  });
});

describe('Collection.write: proceed and record', () => {
  it('writes nothing and reports committed false when proceed() says no', async () => {
    let recorded = false;
    const r = await texts.write([{ id: 'x', text: 'some text' }], {
      onError: 'isolate-document',
      proceed: () => false,
      record: () => (recorded = true),
    });
    expect(r.committed).toBe(false);
    expect(recorded).toBe(false);
    expect(present(texts, ['x'])).toEqual([]);
    expect(await size(texts)).toBe(0);
    expect(seqOf(texts)).toBe(0);
  });

  it('runs record inside the write’s transaction, with every input’s outcome in input order', async () => {
    let seen: { outcomes: DocumentOutcome[]; visible: string[] } | undefined;
    const r = await vectors.write([{ id: 'p', vector: [1, 1] }, { id: 'bad', vector: [0, 0, 0] }, { id: 'q', vector: [2, 1] }], {
      onError: 'isolate-document',
      // The rows are visible on the store's connection before the commit.
      record: (outcomes) => (seen = { outcomes: structuredClone(outcomes), visible: present(vectors, ['p', 'q']) }),
    });
    expect(r.committed).toBe(true);
    expect(seen!.visible).toEqual(['p', 'q']);
    expect(kinds(seen!.outcomes)).toEqual([
      ['p', 'created'],
      ['bad', 'failed'],
      ['q', 'created'],
    ]);
  });

  it('commits nothing when record throws: the write rejects, documents and index stay as they were', async () => {
    await vectors.write([{ id: 'old', vector: [1, 0] }], { onError: 'reject-batch' });
    const seq = seqOf(vectors);
    const write = vectors.write([{ id: 'new', vector: [0, 1] }, { id: 'old', vector: [5, 5] }], {
      onError: 'isolate-document',
      record: () => {
        throw new Error('job row is gone');
      },
    });
    await expect(write).rejects.toThrow('job row is gone');
    expect(present(vectors, ['new'])).toEqual([]);
    expect(Array.from(vectors.vectorOf(vectors.get('old')!)!)).toEqual([1, 0]);
    expect(seqOf(vectors)).toBe(seq);
    expect(await size(vectors)).toBe(1);
    // The collection still takes writes afterwards (the lock was released).
    await expect(vectors.write([{ id: 'new', vector: [0, 1] }], { onError: 'reject-batch' })).resolves.toMatchObject({ created: 1 });
  });
});

describe('Collection.write: what changed', () => {
  it('leaves an unchanged document alone: no embedding, no new seq', async () => {
    await texts.write([{ id: 'd', text: 'the same text', metadata: { v: 1 } }], { onError: 'reject-batch' });
    expect(calls).toHaveLength(1);
    const seq = seqOf(texts);
    const r = await texts.write([{ id: 'd', text: 'the same text', metadata: { v: 1 } }], { onError: 'reject-batch' });
    expect(r).toMatchObject({ committed: true, created: 0, updated: 0, unchanged: 1, embedded: 0 });
    expect(kinds(r.outcomes)).toEqual([['d', 'unchanged']]);
    expect(calls).toHaveLength(1);
    expect(seqOf(texts)).toBe(seq);
  });

  it('updates metadata alone without embedding again or touching the index', async () => {
    await texts.write([{ id: 'd', text: 'the same text', metadata: { v: 1 } }], { onError: 'reject-batch' });
    const before = await texts.search(embedOne('the same text')!, 1);
    const r = await texts.write([{ id: 'd', text: 'the same text', metadata: { v: 2 } }], { onError: 'reject-batch' });
    expect(r).toMatchObject({ updated: 1, created: 0, unchanged: 0, embedded: 0 });
    expect(kinds(r.outcomes)).toEqual([['d', 'metadata']]);
    expect(calls).toHaveLength(1);
    expect(texts.get('d')?.metadata).toEqual({ v: 2 });
    // Same chunk, same label.
    expect((await texts.search(embedOne('the same text')!, 1)).neighbors).toEqual(before.neighbors);
  });

  it('re-embeds a changed text, replacing its chunk in the index', async () => {
    await texts.write([{ id: 'd', text: 'first version' }], { onError: 'reject-batch' });
    const [old] = (await texts.search(embedOne('first version')!, 1)).neighbors;
    const r = await texts.write([{ id: 'd', text: 'second version, longer' }], { onError: 'reject-batch' });
    expect(r).toMatchObject({ updated: 1, embedded: 1 });
    expect(calls).toEqual([['first version'], ['second version, longer']]);
    expect(await size(texts)).toBe(1);
    const [now] = (await texts.search(embedOne('second version, longer')!, 1)).neighbors;
    expect(now!.label).not.toBe(old!.label);
  });

  it('counts the same text chunked another way as changed content', async () => {
    const text = 'One sentence here. Another sentence there.';
    await texts.write([{ id: 'd', text }], { onError: 'reject-batch' });
    const r = await texts.write([{ id: 'd', text }], { onError: 'reject-batch', chunking: { strategy: 'sentence', unit: 'chars', max: 32, overlap: 0 } });
    expect(r).toMatchObject({ updated: 1, embedded: 2 });
    expect(texts.chunksOf(texts.get('d')!).map((c) => text.slice(c.start, c.end))).toEqual(['One sentence here.', 'Another sentence there.']);
  });

  it('stores a text with nothing to embed without a vector, and says so', async () => {
    const r = await texts.write([{ id: 'q', text: '???' }, { id: 'w', text: 'words' }], { onError: 'reject-batch' });
    expect(r).toMatchObject({ created: 2, notEmbedded: ['q'] });
    expect(texts.get('q')).toBeDefined();
    expect(texts.chunksOf(texts.get('q')!)).toEqual([{ index: 0, start: 0, end: 3, hasVector: false }]);
    expect(await size(texts)).toBe(1);
  });
});

describe('Collection.write: vectors made elsewhere (cluster workers)', () => {
  it('takes each chunk\'s vector from the supplied map, cut as chunksToEmbed cuts them, and never calls the model', async () => {
    const docs = [{ id: 'a', text: 'alpha beta' }, { id: 'v', vector: [1, 2, 3] }, { id: 'b', text: 'gamma' }];
    const chunks = texts.chunksToEmbed(docs, undefined);
    expect(chunks.map((c) => [c.document, c.text])).toEqual([
      [0, 'alpha beta'],
      [2, 'gamma'],
    ]);
    const embedded = new Map(chunks.map((c) => [c.text, Float32Array.of(c.text.length, 7, 7)] as const));
    const r = await texts.write(docs, { onError: 'reject-batch', embedded });
    expect(r).toMatchObject({ committed: true, created: 3, embedded: 0 });
    expect(calls).toEqual([]);
    const stored = texts.documentVectors(['a', 'b']);
    expect(stored.get('a')!.vectors.map((v) => [...v])).toEqual([[10, 7, 7]]);
    expect(stored.get('b')!.vectors.map((v) => [...v])).toEqual([[5, 7, 7]]);
    expect(await size(texts)).toBe(3);
  });

  it('refuses a write whose chunks are not all in the map rather than embed them or store them unembedded', async () => {
    const docs = [{ id: 'a', text: 'alpha beta' }, { id: 'b', text: 'gamma' }];
    const embedded = new Map([['alpha beta', Float32Array.of(1, 1, 1)]]);
    await expect(texts.write(docs, { onError: 'reject-batch', embedded })).rejects.toThrow(/no vector was supplied for chunk 0 .*"gamma"/);
    expect(calls).toEqual([]);
    expect(present(texts, ['a', 'b'])).toEqual([]);
  });

  it('a collection whose clients send vectors has nothing for a worker to embed', () => {
    expect(vectors.chunksToEmbed([{ id: 'x', vector: [1, 0] }], undefined)).toEqual([]);
  });
});

describe('Collection deletes', () => {
  beforeEach(async () => {
    await vectors.write(
      Array.from({ length: 6 }, (_, i) => ({ id: `v${i}`, vector: [i + 1, 1], metadata: { group: i % 2 === 0 ? 'even' : 'odd' } })),
      { onError: 'reject-batch' },
    );
  });

  it('deletes by filter, returns how many, and the index no longer finds them', async () => {
    const n = await vectors.deleteWhere(vectors.compileFilter({ group: 'even' }));
    expect(n).toBe(3);
    expect(present(vectors, ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'])).toEqual(['v1', 'v3', 'v5']);
    expect(await size(vectors)).toBe(3);
    const hits = (await vectors.search(Float32Array.of(1, 1), 10)).neighbors;
    const ids = [...vectors.chunks(hits.map((h) => h.label), { text: false, metadata: false, vector: false }).values()].map((h) => h.documentId);
    expect(ids.sort()).toEqual(['v1', 'v3', 'v5']);
    expect(await vectors.deleteWhere(vectors.compileFilter({ group: 'even' }))).toBe(0);
  });

  it('deletes everything without a filter', async () => {
    expect(await vectors.deleteWhere(undefined)).toBe(6);
    expect(await size(vectors)).toBe(0);
    expect(vectors.documentCount()).toBe(0);
  });

  it('deletes one document by id, and answers DOCUMENT_NOT_FOUND for one that is not there', async () => {
    await vectors.deleteDocument('v2');
    expect(vectors.get('v2')).toBeUndefined();
    expect(await size(vectors)).toBe(5);
    await expect(vectors.deleteDocument('v2')).rejects.toMatchObject({ code: 'DOCUMENT_NOT_FOUND', status: 404 });
  });
});

describe('Collection writes: group commit', () => {
  /** The groups committed for a collection while `run` runs (WRITE_GROUP_CHANNEL). */
  async function groupsOf<T>(c: Collection, run: () => Promise<T>): Promise<{ value: T; groups: WriteGroupEvent[] }> {
    const groups: WriteGroupEvent[] = [];
    const listen = (m: unknown) => {
      const e = m as WriteGroupEvent;
      if (e.collection === c.name) groups.push(e);
    };
    diagnosticsChannel.subscribe(WRITE_GROUP_CHANNEL, listen);
    try {
      return { value: await run(), groups };
    } finally {
      diagnosticsChannel.unsubscribe(WRITE_GROUP_CHANNEL, listen);
    }
  }

  it('commits concurrent writes of overlapping ids together, ending as applying them one by one in arrival order', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    // Write w sets three ids of the pool; write w+1 repeats write w when w % 7 === 0 (unchanged).
    const batches: DocumentInput[][] = Array.from({ length: 40 }, (_, w) => {
      const v = w % 7 === 1 ? w - 1 : w;
      return [0, 1, 2].map((j) => ({ id: ids[(v * 3 + j * 5) % ids.length]!, vector: [v + 1, j], metadata: { w: v } }));
    });
    // The same writes, one at a time: what each must report and what must be stored.
    const model = new Map<string, { vector: number[]; w: number }>();
    const expectedKinds = batches.map((docs) =>
      docs.map((d) => {
        const before = model.get(d.id);
        const w = (d.metadata as { w: number }).w;
        model.set(d.id, { vector: d.vector!, w });
        return [d.id, !before ? 'created' : before.w === w ? 'unchanged' : 'updated'];
      }),
    );
    // Every write goes the same way to the queue (no text to embed), so they arrive in call order.
    const { value: results, groups } = await groupsOf(vectors, () => Promise.all(batches.map((docs) => vectors.write(docs, { onError: 'reject-batch' }))));
    expect(results.map((r) => kinds(r.outcomes))).toEqual(expectedKinds);
    expect(results.every((r) => r.committed)).toBe(true);
    for (const [id, { vector, w }] of model) {
      expect(Array.from(vectors.vectorOf(vectors.get(id)!)!), id).toEqual(vector);
      expect(vectors.get(id)!.metadata).toEqual({ w });
    }
    // The index holds exactly the latest vector of each id: one per document.
    expect(await size(vectors)).toBe(model.size);
    for (const [id, { vector }] of model) {
      const [hit] = (await vectors.search(Float32Array.from(vector), 1)).neighbors;
      expect(vectors.chunks([hit!.label], { text: false, metadata: false, vector: false }).get(hit!.label)!.documentId, id).toBe(id);
    }
    // Fewer transactions than writes: they were grouped.
    expect(groups.reduce((n, g) => n + g.requests, 0)).toBe(40);
    expect(groups.length).toBeLessThan(40);
  });

  it('runs deletes in the group in arrival order: a second delete of one id and a delete of an absent id are DOCUMENT_NOT_FOUND alone', async () => {
    await vectors.write(
      Array.from({ length: 6 }, (_, i) => ({ id: `v${i}`, vector: [i + 1, 1], metadata: { odd: i % 2 === 1 } })),
      { onError: 'reject-batch' },
    );
    const { value, groups } = await groupsOf(vectors, () =>
      Promise.allSettled([
        vectors.deleteDocument('v1'),
        vectors.deleteDocument('v1'),
        vectors.deleteDocument('nope'),
        // After the first delete of v1: only v3 and v5 are left to select.
        vectors.deleteWhere(vectors.compileFilter({ odd: true })),
        vectors.write([{ id: 'v9', vector: [9, 9] }], { onError: 'reject-batch' }),
      ]),
    );
    expect(value.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect((value[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'DOCUMENT_NOT_FOUND', status: 404 });
    expect((value[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'DOCUMENT_NOT_FOUND' });
    expect((value[3] as PromiseFulfilledResult<number>).value).toBe(2);
    expect(present(vectors, ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v9'])).toEqual(['v0', 'v2', 'v4', 'v9']);
    expect(await size(vectors)).toBe(4);
    expect(groups.some((g) => g.requests > 1)).toBe(true);
  });

  it('fails one write of a group alone when its record throws or its embedding fails; the others commit', async () => {
    const { value, groups } = await groupsOf(vectors, () =>
      Promise.allSettled([
        vectors.write([{ id: 'p', vector: [1, 0] }], { onError: 'reject-batch' }),
        vectors.write([{ id: 'q', vector: [0, 1] }], {
          onError: 'isolate-document',
          record: () => {
            throw new Error('job row is gone');
          },
        }),
        vectors.write([{ id: 'r', vector: [1, 1] }], { onError: 'isolate-document', proceed: () => false }),
        vectors.write([{ id: 's', vector: [2, 1] }], { onError: 'isolate-document', record: () => undefined }),
      ]),
    );
    expect(value.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((value[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'job row is gone' });
    expect((value[2] as PromiseFulfilledResult<WriteResult>).value.committed).toBe(false);
    expect(present(vectors, ['p', 'q', 'r', 's'])).toEqual(['p', 's']);
    expect(await size(vectors)).toBe(2);
    // One transaction held all four.
    expect(groups).toEqual([expect.objectContaining({ requests: 4 })]);

    const t = await Promise.allSettled([
      texts.write([{ id: 'ok', text: 'a fine text' }], { onError: 'reject-batch' }),
      texts.write([{ id: 'no', text: 'please FAIL' }], { onError: 'reject-batch' }),
      texts.write([{ id: 'ok2', text: 'another one' }], { onError: 'reject-batch' }),
    ]);
    expect(t.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((t[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'EMBEDDING_FAILED', status: 502 });
    expect(present(texts, ['ok', 'no', 'ok2'])).toEqual(['ok', 'ok2']);
  });

  it('cuts the group where a write must embed after all because an earlier member changed its document', async () => {
    await texts.write([{ id: 'd', text: 'the first text' }], { onError: 'reject-batch' });
    calls = [];
    // The second write finds d unchanged when it plans outside the lock, so embeds nothing; the
    // first (a client vector, nothing to embed) reaches the queue before it and changes d.
    const { value, groups } = await groupsOf(texts, () =>
      Promise.all([
        texts.write([{ id: 'd', vector: [1, 2, 3] }], { onError: 'reject-batch' }),
        texts.write([{ id: 'd', text: 'the first text' }], { onError: 'reject-batch' }),
      ]),
    );
    expect(value.map((r) => kinds(r.outcomes))).toEqual([[['d', 'updated']], [['d', 'updated']]]);
    expect(value[1]).toMatchObject({ embedded: 1 });
    expect(calls).toEqual([['the first text']]);
    expect(Array.from(texts.vectorOf(texts.get('d')!)!)).toEqual(Array.from(embedOne('the first text')!));
    expect(await size(texts)).toBe(1);
    expect(groups.map((g) => g.requests)).toEqual([1, 1]);
  });

  it('writes nothing for writes queued when the collection is deleted', async () => {
    const writes = [vectors.write([{ id: 'x', vector: [1, 2] }], { onError: 'reject-batch' }), vectors.write([{ id: 'y', vector: [2, 1] }], { onError: 'reject-batch' })];
    const deleting = registry.delete(vectors.name);
    // The writes reach the queue after the delete took the lock (they await the embedder first).
    const results = await Promise.all(writes);
    await deleting;
    expect(results.map((r) => r.committed)).toEqual([false, false]);
  });
});
