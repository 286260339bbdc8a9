// Issue 14 (retrieval quality), second slice, through HTTP: a quoted phrase that a document holds
// exactly ranks that document first (keyword and hybrid, English and Chinese), while the same
// words unquoted rank by BM25 alone; and `k: "auto"` finds the topics of a clearly multi-topic
// collection instead of collapsing to 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer, type Json } from '../helpers/server.js';
import { rng } from '../fixtures/vectors.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_SYNC: 'normal' } });
});
afterAll(async () => {
  await s.stop();
});

const put = async (name: string, documents: unknown[]) => {
  const r = await s.request('PUT', `/v1/collections/${name}/documents`, { documents });
  expect(r.status).toBe(200);
};
const create = async (name: string, extra: object = {}) => expect((await s.request('POST', '/v1/collections', { name, ...extra })).status).toBe(201);
const ids = async (name: string, body: object): Promise<string[]> => {
  const r = await s.request('POST', `/v1/collections/${name}/query`, { k: 10, include: [], ...body });
  expect(r.status).toBe(200);
  return r.body.hits.map((h: Json) => h.id);
};

describe('quoted phrases', () => {
  it('rank the document holding the exact phrase first, in keyword and hybrid mode', async () => {
    await create('phrases');
    await put('phrases', [
      // Both words, many times, never side by side: BM25's favourite for the bare words.
      { id: 'scattered', text: 'Retries happen. The max is five. Retries again, and retries until the max wait, then retries and the max.' },
      { id: 'exact', text: 'Set the max retries in the options of the client, along with the timeout, the agent, the headers and the body.' },
      { id: 'other', text: 'A note about something else entirely, with no word of the query.' },
    ]);
    const bare = await ids('phrases', { text: 'retries max', mode: 'keyword' });
    expect(bare[0]).toBe('scattered');
    expect((await ids('phrases', { text: '"max retries"', mode: 'keyword' }))[0]).toBe('exact');
    expect((await ids('phrases', { text: 'how do I set "max retries"', mode: 'keyword' }))[0]).toBe('exact');
    expect((await ids('phrases', { text: 'how do I set \u201cmax retries\u201d' }))[0]).toBe('exact');
  });

  it('work for Chinese in corner quotes, segmented as the index is', async () => {
    await create('phrases-zh');
    await put('phrases-zh', [
      { id: 'scattered', text: '密码很重要。忘记密码时，请联系管理员。密码必须保密，重置后请修改密码，重置不难。' },
      { id: 'exact', text: '在设置页面可以重置密码，系统会发送一封邮件给您。' },
    ]);
    expect((await ids('phrases-zh', { text: '密码 重置', mode: 'keyword' }))[0]).toBe('scattered');
    expect((await ids('phrases-zh', { text: '如何「重置密码」', mode: 'keyword' }))[0]).toBe('exact');
  });

  it('that no document holds leave the ranking to the words', async () => {
    expect(await ids('phrases', { text: '"retries to the max"', mode: 'keyword' })).toEqual(await ids('phrases', { text: 'retries max', mode: 'keyword' }));
  });
});

describe('k: "auto"', () => {
  it('finds the five topics of a clearly five-topic collection, each cluster one topic, labelled by its words', async () => {
    await create('five-topics', { embedder: { provider: 'none' }, dimension: 16 });
    const r = rng(11);
    const topics = [
      ['rocket', 'orbit', 'planet', 'launch'],
      ['recipe', 'oven', 'flour', 'garlic'],
      ['guitar', 'chord', 'melody', 'drummer'],
      ['invoice', 'ledger', 'audit', 'payroll'],
      ['glacier', 'volcano', 'erosion', 'tectonic'],
    ];
    const centres = topics.map(() => Array.from({ length: 16 }, () => r() * 2 - 1));
    await put(
      'five-topics',
      topics.flatMap((words, t) =>
        Array.from({ length: 24 }, (_, i) => ({
          id: `${t}-${i}`,
          vector: centres[t]!.map((c) => c + (r() - 0.5) * 0.5),
          text: `The ${words[i % 4]} and the ${words[(i + 1) % 4]}.`,
        })),
      ),
    );
    const res = await s.request('POST', '/v1/collections/five-topics/cluster', { k: 'auto', seed: 1, include_members: true });
    expect(res.status).toBe(200);
    expect(res.body.k).toBe(5);
    for (const c of res.body.clusters as Json[]) {
      expect(new Set((c.members as string[]).map((id) => id.split('-')[0])).size).toBe(1);
      const topic = topics[Number((c.members as string[])[0]!.split('-')[0])]!;
      expect(topic).toContain(c.top_terms[0]);
    }
  });
});
