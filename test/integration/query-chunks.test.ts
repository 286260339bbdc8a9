// Several chunks per document, in-process on a real data folder: the upsert API writes one chunk
// per document until chunking (issue 3) lands, so these write chunks through the storage layer
// and search through the query layer. Pins: keyword search indexes each chunk's own slice of the
// text, group_by "document" returns a document once with its best chunk, "none" every chunk,
// offset counts documents, and deletes clear every chunk from both indexes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/index.js';
import { queryCollection } from '../../src/query/index.js';
import { buildContext } from '../../src/query/context.js';
import { tempDir } from '../helpers/server.js';

let engine: Engine;
beforeAll(async () => {
  engine = Engine.open(loadConfig({ QUIVER_EMBEDDER: 'none', QUIVER_DATA_DIR: tempDir(), QUIVER_SYNC: 'normal' }), pino({ level: 'silent' }));
  await engine.start();
  const c = await engine.createCollection({ name: 'books', metric: 'cosine', embedder: { provider: 'none' }, dimension: 2 });
  const write = (id: string, parts: { text: string; vector: [number, number] }[]) => {
    const text = parts.map((p) => p.text).join(' ');
    let at = 0;
    const chunks = parts.map((p, index) => {
      const start = text.indexOf(p.text, at);
      at = start + p.text.length;
      return { index, start, end: at, vector: Float32Array.from(p.vector) };
    });
    return { kind: 'content' as const, id, text, metadata: { id }, contentHash: id, chunks };
  };
  const changes = engine.docs.write(c.id, [
    write('atlas', [
      { text: 'Mountains of the northern range.', vector: [1, 0] },
      { text: 'Rivers and their deltas.', vector: [0.9, 0.1] },
      { text: 'Glaciers carve valleys.', vector: [0.8, 0.2] },
    ]),
    write('cookbook', [
      { text: 'Bread needs flour and patience.', vector: [0, 1] },
      { text: 'Rivers of chocolate sauce.', vector: [0.7, 0.3] },
    ]),
    write('poems', [{ text: 'Moonlight over mountains.', vector: [0.6, 0.4] }]),
  ]);
  await engine.indexes.apply(c.id, changes);
});
afterAll(async () => {
  await engine.close();
});

const ids = (hits: { document_id: string; chunk_index: number }[]) => hits.map((h) => `${h.document_id}#${h.chunk_index}`);

describe('several chunks per document', () => {
  it('groups by document by default, keeping each document’s best chunk', async () => {
    const r = await queryCollection(engine, 'books', { vector: [1, 0], k: 3, include: ['text'] });
    expect(ids(r.hits)).toEqual(['atlas#0', 'cookbook#1', 'poems#0']);
    expect(r.hits[1]!.text).toBe('Rivers of chocolate sauce.');
    const page2 = await queryCollection(engine, 'books', { vector: [1, 0], k: 1, offset: 1, include: [] });
    expect(ids(page2.hits)).toEqual(['cookbook#1']);
  });

  it('returns every chunk with group_by "none"', async () => {
    const r = await queryCollection(engine, 'books', { vector: [1, 0], k: 4, include: [], group_by: 'none' });
    expect(ids(r.hits)).toEqual(['atlas#0', 'atlas#1', 'atlas#2', 'cookbook#1']);
  });

  it('indexes each chunk’s own text for keyword search', async () => {
    const rivers = await queryCollection(engine, 'books', { text: 'rivers', mode: 'keyword', k: 10, include: ['text'], group_by: 'none' });
    expect(ids(rivers.hits).sort()).toEqual(['atlas#1', 'cookbook#1']);
    const glaciers = await queryCollection(engine, 'books', { text: 'glaciers', mode: 'keyword', k: 10, include: ['text'] });
    expect(glaciers.hits.map((h) => [h.document_id, h.chunk_index, h.text])).toEqual([['atlas', 2, 'Glaciers carve valleys.']]);
    const filtered = await queryCollection(engine, 'books', { text: 'rivers mountains', mode: 'keyword', k: 10, include: [], filter: { id: { $ne: 'atlas' } } });
    expect(ids(filtered.hits).sort()).toEqual(['cookbook#1', 'poems#0']);
  });

  it('builds RAG context from chunks, not whole documents', async () => {
    const r = await buildContext(engine, 'books', { text: 'rivers glaciers', max_tokens: 1000, candidates: 10, mode: 'keyword' });
    expect(r.chunks.map((ch) => `${ch.document_id}#${ch.chunk_index}`).sort()).toEqual(['atlas#1', 'atlas#2', 'cookbook#1']);
    expect(r.context).toContain('(atlas#2)\nGlaciers carve valleys.');
  });

  it('removes every chunk from both indexes when the document goes', async () => {
    const c = engine.collection('books');
    const changes = engine.docs.delete(c.id, 'atlas')!;
    await engine.indexes.apply(c.id, changes);
    const v = await queryCollection(engine, 'books', { vector: [1, 0], k: 10, include: [], group_by: 'none' });
    expect(ids(v.hits).sort()).toEqual(['cookbook#0', 'cookbook#1', 'poems#0']);
    const k = await queryCollection(engine, 'books', { text: 'glaciers rivers', mode: 'keyword', k: 10, include: [], group_by: 'none' });
    expect(ids(k.hits)).toEqual(['cookbook#1']);
  });
});
