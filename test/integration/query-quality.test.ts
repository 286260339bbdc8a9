// Vector, keyword and hybrid search compared on a small labelled set through HTTP, with the
// built-in model. Half the queries share no word with their answer (only meaning can find it),
// half are identifiers the model has never seen (only words can): hybrid must rank better than
// either alone, which is why it is the default for collections with a model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, type Json } from '../helpers/server.js';
import { DOCUMENTS, QUERIES } from '../fixtures/labelled-set.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start();
  expect((await s.request('POST', '/v1/collections', { name: 'kb' })).status).toBe(201);
  expect((await s.request('PUT', '/v1/collections/kb/documents', { documents: DOCUMENTS })).status).toBe(200);
});
afterAll(async () => {
  await s.stop();
});

async function mrrAt10(mode: string | undefined): Promise<number> {
  let sum = 0;
  for (const [text, relevant] of QUERIES) {
    const r = await s.request('POST', '/v1/collections/kb/query', { text, k: 10, include: [], ...(mode ? { mode } : {}) });
    expect(r.status).toBe(200);
    const rank = r.body.hits.findIndex((h: Json) => h.id === relevant);
    if (rank >= 0) sum += 1 / (rank + 1);
  }
  return sum / QUERIES.length;
}

describe('search modes on a labelled set', () => {
  it('hybrid (the default) beats vector alone and keyword alone on MRR@10', async () => {
    const vector = await mrrAt10('vector');
    const keyword = await mrrAt10('keyword');
    const hybrid = await mrrAt10('hybrid');
    const byDefault = await mrrAt10(undefined);
    process.stdout.write(`labelled set MRR@10: vector ${vector.toFixed(3)}, keyword ${keyword.toFixed(3)}, hybrid ${hybrid.toFixed(3)}\n`);
    // Each alone misses one half of the set...
    expect(vector).toBeLessThan(0.8);
    expect(keyword).toBeLessThan(0.8);
    // ...and hybrid finds both halves.
    expect(hybrid).toBeGreaterThan(Math.max(vector, keyword) + 0.15);
    expect(byDefault).toBe(hybrid);
  });
});
