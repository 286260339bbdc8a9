// Several chunks per document, in-process on a real data folder: chunks with hand-made vectors
// (which no public write makes: a client vector stands for a whole document) are written through
// the store and applied to the collection's index, then searched through the query layer. Pins: keyword search indexes each chunk's own slice of the
// text, group_by "document" returns a document once with its best chunk, "none" every chunk,
// offset counts documents, and deletes clear every chunk from both indexes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Collection } from '../../src/collection/index.js';
import { loadConfig } from '../../src/config/index.js';
import type { SearchQuery } from '../../src/domain/types.js';
import { buildContext, search } from '../../src/query/index.js';
import { createQuiver } from '../../src/server.js';
import type { Quiver } from '../../src/server.js';
import { tempDir } from '../helpers/server.js';

let quiver: Quiver;
let c: Collection;
const queryCollection = (q: Omit<SearchQuery, 'include'> & { include?: SearchQuery['include'] }) => search(c, { include: [], ...q });
beforeAll(async () => {
  quiver = createQuiver(loadConfig({ QUIVER_EMBEDDER: 'none', QUIVER_DATA_DIR: tempDir(), QUIVER_SYNC: 'normal' }), pino({ level: 'silent' }));
  await quiver.lifecycle.start();
  c = await quiver.collections.create({ name: 'books', metric: 'cosine', embedder: { provider: 'none' }, dimension: 2 });
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
  const changes = quiver.store.documents.write(c.info.id, [
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
  await c.index.apply(changes);
});
afterAll(async () => {
  await quiver.lifecycle.close();
});

const ids = (hits: { documentId: string; chunkIndex: number }[]) => hits.map((h) => `${h.documentId}#${h.chunkIndex}`);

describe('several chunks per document', () => {
  it('groups by document by default, keeping each document’s best chunk', async () => {
    const r = await queryCollection({ vector: [1, 0], k: 3, include: ['text'] });
    expect(ids(r.hits)).toEqual(['atlas#0', 'cookbook#1', 'poems#0']);
    expect(r.hits[1]!.text).toBe('Rivers of chocolate sauce.');
    const page2 = await queryCollection({ vector: [1, 0], k: 1, offset: 1, include: [] });
    expect(ids(page2.hits)).toEqual(['cookbook#1']);
  });

  it('returns every chunk with group_by "none"', async () => {
    const r = await queryCollection({ vector: [1, 0], k: 4, include: [], groupBy: 'none' });
    expect(ids(r.hits)).toEqual(['atlas#0', 'atlas#1', 'atlas#2', 'cookbook#1']);
  });

  it('indexes each chunk’s own text for keyword search', async () => {
    const rivers = await queryCollection({ text: 'rivers', mode: 'keyword', k: 10, include: ['text'], groupBy: 'none' });
    expect(ids(rivers.hits).sort()).toEqual(['atlas#1', 'cookbook#1']);
    const glaciers = await queryCollection({ text: 'glaciers', mode: 'keyword', k: 10, include: ['text'] });
    expect(glaciers.hits.map((h) => [h.documentId, h.chunkIndex, h.text])).toEqual([['atlas', 2, 'Glaciers carve valleys.']]);
    const filtered = await queryCollection({ text: 'rivers mountains', mode: 'keyword', k: 10, include: [], filter: { id: { $ne: 'atlas' } } });
    expect(ids(filtered.hits).sort()).toEqual(['cookbook#1', 'poems#0']);
  });

  it('builds RAG context from chunks, not whole documents', async () => {
    const r = await buildContext(c, { text: 'rivers glaciers', maxTokens: 1000, candidates: 10, mode: 'keyword' });
    expect(r.chunks.map((ch) => `${ch.documentId}#${ch.chunkIndex}`).sort()).toEqual(['atlas#1', 'atlas#2', 'cookbook#1']);
    expect(r.context).toContain('(atlas#2)\nGlaciers carve valleys.');
  });

  it('removes every chunk from both indexes when the document goes', async () => {
    await c.deleteDocument('atlas');
    const v = await queryCollection({ vector: [1, 0], k: 10, include: [], groupBy: 'none' });
    expect(ids(v.hits).sort()).toEqual(['cookbook#0', 'cookbook#1', 'poems#0']);
    const k = await queryCollection({ text: 'glaciers rivers', mode: 'keyword', k: 10, include: [], groupBy: 'none' });
    expect(ids(k.hits)).toEqual(['cookbook#1']);
  });
});
