// Issue 14 (retrieval quality), the behaviour it pins through HTTP: keyword statistics are per
// collection (writing to B leaves A's keyword scores as they were), English words are stemmed
// ("colors" finds "color"), stopwords do not rank, the README's quick start answers sensibly
// after its ingest example, and stopwords never become cluster labels. Plus migration 008
// carrying an existing keyword index over.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, migrate, openDatabase } from '../../src/storage/index.js';
import { SearchRepo } from '../../src/storage/search.js';
import { DocumentsRepo } from '../../src/storage/documents.js';
import { CollectionsRepo } from '../../src/storage/collections.js';
import { isStopword } from '../../src/text/segment.js';
import { TestServer, tempDir, type Json } from '../helpers/server.js';
import { rng } from '../fixtures/vectors.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_SYNC: 'normal' } });
});
afterAll(async () => {
  await s.stop();
});

const put = async (name: string, documents: unknown[], extra: object = {}) => {
  const r = await s.request('PUT', `/v1/collections/${name}/documents`, { documents, ...extra });
  expect(r.status).toBe(200);
};
const create = async (name: string, extra: object = {}) => expect((await s.request('POST', '/v1/collections', { name, ...extra })).status).toBe(201);
const query = async (name: string, body: object): Promise<Json[]> => {
  const r = await s.request('POST', `/v1/collections/${name}/query`, { k: 10, include: [], ...body });
  expect(r.status).toBe(200);
  return r.body.hits;
};

describe('keyword search', () => {
  it('keeps its statistics per collection: documents written to B do not change A’s scores', async () => {
    await create('stats-a');
    await create('stats-b');
    await put('stats-a', [
      { id: 'wheel', text: 'The color wheel shows how hues relate.' },
      { id: 'paint', text: 'Mix the paint until the color is even.' },
      { id: 'bike', text: 'A bike wheel has spokes and a rim.' },
    ]);
    const before = await query('stats-a', { text: 'color wheel', mode: 'keyword' });
    expect(before.map((h) => h.id)).toEqual(['wheel', 'paint', 'bike']);
    // B gets many documents with the same words: with one set of statistics for every collection
    // (FTS5's, before) "color" and "wheel" would turn common and A's scores would move.
    await put(
      'stats-b',
      Array.from({ length: 50 }, (_, i) => ({ id: `b${i}`, text: `wheel number ${i} in color ${i % 3 ? 'red' : 'blue'}, a color wheel` })),
    );
    expect(await query('stats-a', { text: 'color wheel', mode: 'keyword' })).toEqual(before);
    expect((await query('stats-b', { text: 'color wheel', mode: 'keyword' })).length).toBe(10);
  });

  it('stems English words: "colors" finds "color", "cooking" finds "cooked"', async () => {
    await create('stems');
    await put('stems', [
      { id: 'c', text: 'Pick a color for the kitchen wall.' },
      { id: 'k', text: 'She cooked rice.' },
      { id: 'x', text: 'Nothing to see here.' },
    ]);
    expect((await query('stems', { text: 'colors', mode: 'keyword' })).map((h) => h.id)).toEqual(['c']);
    expect((await query('stems', { text: 'cooking', mode: 'keyword' })).map((h) => h.id)).toEqual(['k']);
  });

  it('ranks by the words that carry meaning: stopwords do not match, unless the query has nothing else', async () => {
    await create('stops');
    await put('stops', [
      { id: 'the', text: 'The the the of the and the.' },
      { id: 'pasta', text: 'Boil pasta in salted water.' },
    ]);
    expect((await query('stops', { text: 'the pasta', mode: 'keyword' })).map((h) => h.id)).toEqual(['pasta']);
    expect((await query('stops', { text: 'the and', mode: 'keyword' })).map((h) => h.id)).toEqual(['the']);
  });

  it('scores a hit by the share of the query it matches, in [0, 1)', async () => {
    const [hit] = await query('stems', { text: 'colors', mode: 'keyword' });
    expect(hit.score).toBeGreaterThan(0);
    expect(hit.score).toBeLessThan(1);
  });
});

describe('the README quick start', () => {
  it('answers "how long to cook spaghetti" with the pasta document, also after the ingest example added "…a long text…"', async () => {
    await create('notes');
    await put('notes', [
      { id: 'cat', text: 'The cat sat on the mat and purred.', metadata: { kind: 'pet' } },
      { id: 'pasta', text: 'Boil the pasta for ten minutes and drain it.' },
    ]);
    expect((await query('notes', { text: 'how long to cook spaghetti', k: 1 })).map((h) => h.id)).toEqual(['pasta']);
    await put('notes', [{ id: 'manual', text: '…a long text…', metadata: { lang: 'en' } }], { chunking: { strategy: 'sentence', max_tokens: 200 } });
    const hits = await query('notes', { text: 'how long to cook spaghetti' });
    expect(hits[0].id).toBe('pasta');
    // The hybrid score as the README states it: a·keyword + (1 − a)·cosine, a = min(0.9, 0.6 +
    // the best keyword score); the pasta document matches no word of the query ("long" is all
    // the manual matches), so its score is (1 − a)·cosine.
    const [vector] = await query('notes', { text: 'how long to cook spaghetti', mode: 'vector', k: 1 });
    const keyword = await query('notes', { text: 'how long to cook spaghetti', mode: 'keyword' });
    expect(vector.id).toBe('pasta');
    expect(keyword.map((h) => h.id)).toEqual(['manual']);
    const a = Math.min(0.9, 0.6 + keyword[0].score);
    expect(hits[0].score).toBeCloseTo((1 - a) * vector.score, 6);
    // Each hit shows what its score is made of.
    expect(hits[0]).toMatchObject({ vector_rank: 1, keyword_rank: null, vector_score: vector.score, keyword_score: null });
    const manual = hits.find((h) => h.id === 'manual');
    expect(manual.keyword_score).toBe(keyword[0].score);
    expect(manual.score).toBeCloseTo(a * manual.keyword_score + (1 - a) * manual.vector_score, 6);
  });
});

describe('cluster labels', () => {
  it('never are stopwords, English or Chinese', async () => {
    await create('topics', { embedder: { provider: 'none' }, dimension: 8 });
    const r = rng(3);
    const topics = [
      ['rocket', 'orbit', 'planet', 'launch'],
      ['recipe', 'oven', 'flour', 'garlic'],
      ['火箭', '轨道', '行星', '发射'],
    ];
    const centres = topics.map(() => Array.from({ length: 8 }, () => r() * 2 - 1));
    const docs = topics.flatMap((words, t) =>
      Array.from({ length: 20 }, (_, i) => ({
        id: `${t}-${i}`,
        vector: centres[t]!.map((c) => c + (r() - 0.5) * 0.2),
        // Stopwords are the most frequent words of every document, and unevenly so between topics.
        text: t === 2 ? `的 是 在 了 和 ${words[i % 4]} 的 ${words[(i + 1) % 4]} 是 我们` : `The ${words[i % 4]} and the ${words[(i + 1) % 4]} of the ${t === 0 ? 'on on on' : 'with with'} it is.`,
      })),
    );
    await put('topics', docs);
    const res = await s.request('POST', '/v1/collections/topics/cluster', { k: 3, seed: 1 });
    expect(res.status).toBe(200);
    const labels: string[] = res.body.clusters.flatMap((c: Json) => c.top_terms);
    expect(labels.length).toBeGreaterThan(0);
    expect(labels.filter((t) => isStopword(t))).toEqual([]);
    for (const t of ['the', 'and', 'on', 'of', 'with', 'it', 'is', '的', '是', '在', '了', '和']) expect(labels).not.toContain(t);
  });
});

describe('migration 008', () => {
  it('rebuilds the keyword index of existing documents with per-collection statistics', () => {
    const dir = tempDir('quiver-008-');
    const old = path.join(dir, 'migrations');
    fs.mkdirSync(old);
    for (const f of fs.readdirSync(MIGRATIONS_DIR).filter((f) => f < '008')) fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(old, f));
    const db = openDatabase({ file: path.join(dir, 'q.db'), sync: 'normal', migrationsDir: old });
    const col = db.prepare("INSERT INTO collections (name, metric, dimension, embedder, hnsw, created_at) VALUES (?, 'cosine', 2, '{}', '{}', 'now')");
    const doc = db.prepare("INSERT INTO documents (collection_id, id, text, content_hash, created_at, updated_at) VALUES (?, ?, ?, 'h', 'now', 'now')");
    const chunk = db.prepare('INSERT INTO chunks (collection_id, document_pk, chunk_index, seq) VALUES (?, ?, 0, 1)');
    const a = Number(col.run('a').lastInsertRowid);
    const b = Number(col.run('b').lastInsertRowid);
    for (const [c, id, text] of [
      [a, 'a1', 'Colors of the rainbow'],
      [a, 'a2', 'A quiet afternoon'],
      [b, 'b1', 'color color color'],
    ] as const) chunk.run(c, Number(doc.run(c, id, text).lastInsertRowid));
    expect(migrate(db, MIGRATIONS_DIR)).toContain(8);
    const search = new SearchRepo(db, new DocumentsRepo(db, new CollectionsRepo(db)));
    const hits = search.keyword(a, 'color', undefined, 10);
    expect(hits).toHaveLength(1);
    expect(db.prepare('SELECT chunks, terms FROM collection_terms WHERE collection_id = ?').get(a)).toEqual({ chunks: 2, terms: 7 });
    // Deleting a document takes its terms out of the statistics.
    db.prepare("DELETE FROM documents WHERE id = 'a2'").run();
    expect(db.prepare('SELECT chunks, terms FROM collection_terms WHERE collection_id = ?').get(a)).toEqual({ chunks: 1, terms: 4 });
    db.close();
  });
});

describe('mmr on /v1 queries', () => {
  it('picks relevant and unlike hits (lambda 1 = plain ranking), each keeping its own score', async () => {
    await create('mmr', { embedder: { provider: 'none' }, dimension: 3 });
    await put('mmr', [
      { id: 'a1', vector: [1, 0.1, 0] },
      { id: 'a2', vector: [1, 0.11, 0] },
      { id: 'b', vector: [0.7, 0, 0.7] },
    ]);
    const plain = await query('mmr', { vector: [1, 0.05, 0.1], k: 2 });
    expect(plain.map((h) => h.id)).toEqual(['a1', 'a2']);
    expect(await query('mmr', { vector: [1, 0.05, 0.1], k: 2, mmr: { lambda: 1 } })).toEqual(plain);
    const diverse = await query('mmr', { vector: [1, 0.05, 0.1], k: 2, mmr: { lambda: 0.5 } });
    expect(diverse.map((h) => h.id)).toEqual(['a1', 'b']);
    const all = await query('mmr', { vector: [1, 0.05, 0.1], k: 3 });
    expect(diverse[1].score).toBe(all.find((h) => h.id === 'b').score);
    const bad = await s.request('POST', '/v1/collections/mmr/query', { vector: [1, 0, 0], k: 2, offset: 1, mmr: { lambda: 0.5 } });
    expect(bad.status).toBe(400);
  });
});
