// Vector, keyword and hybrid search compared on a small labelled set through HTTP, with the
// built-in model. Half the queries share no word with their answer (only meaning can find it),
// half are identifiers the model has never seen (only words can): hybrid must rank better than
// either alone, which is why it is the default for collections with a model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, type Json } from '../helpers/server.js';

const DOCUMENTS = [
  { id: 'cat', text: 'The cat slept on the warm rug all afternoon.' },
  { id: 'stocks', text: 'Shares fell sharply as investors sold their holdings.' },
  { id: 'rain', text: 'Heavy rain flooded the streets and the river burst its banks.' },
  { id: 'doctor', text: 'The physician examined the patient and prescribed medicine.' },
  { id: 'car', text: 'He drove his automobile along the motorway to the city.' },
  { id: 'cook', text: 'She baked bread and roasted vegetables for dinner.' },
  { id: 'err-kx', text: 'Error KX-4471: the replication log is full. Rotate the log and restart replication.' },
  { id: 'err-qz', text: 'Error QZ-9080: the certificate expired. Renew it with the admin console.' },
  { id: 'part-zr', text: 'Part ZR-2231 is the spare fan for the rack chassis.' },
  { id: 'part-vw', text: 'Part VW-7719 is the power cable for the storage shelf.' },
  { id: 'sku-hp', text: 'SKU HPX-5520 ships in a box of twelve units.' },
  { id: 'sku-jm', text: 'SKU JMT-3308 ships on a pallet of forty units.' },
];

/** [query, the relevant document]: meaning-only queries first, identifier queries after. */
const QUERIES: [string, string][] = [
  ['a kitten dozing on a carpet', 'cat'],
  ['equity prices dropped', 'stocks'],
  ['storm water overflowing', 'rain'],
  ['a doctor treating someone who is ill', 'doctor'],
  ['driving a vehicle on the highway', 'car'],
  ['making a meal in the oven', 'cook'],
  ['KX-4471', 'err-kx'],
  ['QZ-9080', 'err-qz'],
  ['ZR-2231', 'part-zr'],
  ['VW-7719', 'part-vw'],
  ['HPX-5520', 'sku-hp'],
  ['JMT-3308', 'sku-jm'],
];

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
