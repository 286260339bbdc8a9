// LangChain's QdrantVectorStore with OpenAIEmbeddings, both pointed at one Quiver: the store speaks
// Qdrant's REST API (collection made on first use, UUID ids, {content, metadata} payloads, filters
// on metadata.*), the embeddings come from Quiver's /v1/embeddings with its local model, and a
// whole retrieval chain (retriever → prompt → a fake chat model) runs with no network.
import { Document } from '@langchain/core/documents';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { RunnableLambda, RunnablePassthrough, RunnableSequence } from '@langchain/core/runnables';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { OpenAIEmbeddings } from '@langchain/openai';
import { QdrantVectorStore } from '@langchain/qdrant';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestServer } from '../helpers/server.js';

const MODEL = 'quiver-glove-sif-100d';
let s: TestServer;
let store: QdrantVectorStore;

const DOCS = [
  new Document({ pageContent: 'The cat sat on the mat and purred.', metadata: { source: 'pets.md', loc: { line: 1 } } }),
  new Document({ pageContent: 'A dog chased the ball across the park.', metadata: { source: 'pets.md', loc: { line: 2 } } }),
  new Document({ pageContent: 'Boil the pasta for ten minutes and drain it.', metadata: { source: 'kitchen.md', loc: { line: 1 } } }),
  new Document({ pageContent: 'Simmer the tomato sauce with garlic and basil.', metadata: { source: 'kitchen.md', loc: { line: 2 } } }),
];

beforeAll(async () => {
  s = await TestServer.start({ env: { QUIVER_EMBEDDER: 'none' } });
  const embeddings = new OpenAIEmbeddings({ model: MODEL, apiKey: 'unused', configuration: { baseURL: `${s.url}/v1` }, maxRetries: 0 });
  const client = new QdrantClient({ url: s.url, checkCompatibility: false });
  store = await QdrantVectorStore.fromDocuments(DOCS.slice(0, 3), embeddings, { client, collectionName: 'lc' });
  await store.addDocuments(DOCS.slice(3));
});
afterAll(async () => {
  await s.stop();
});

describe('QdrantVectorStore on Quiver', () => {
  it('made a Cosine collection of the model size and stored {content, metadata} payloads', async () => {
    const info = (await s.request('GET', '/collections/lc')).body.result;
    expect(info.config.params.vectors).toEqual({ size: 100, distance: 'Cosine' });
    expect(info.points_count).toBe(4);
    // The same points through Quiver's own API: metadata flattened, content also the document's text.
    const docs = (await s.request('GET', '/v1/collections/lc/documents?limit=10')).body.documents;
    const kitchen = docs.find((d: { text: string }) => d.text.startsWith('Boil'));
    expect(kitchen.metadata).toMatchObject({ content: DOCS[2]!.pageContent, 'metadata.source': 'kitchen.md', 'metadata.loc.line': 1 });
  });

  it('similaritySearch finds by meaning, and a filter on metadata.source narrows it', async () => {
    const [top] = await store.similaritySearch('how long do I cook spaghetti', 1);
    expect(top!.pageContent).toBe(DOCS[2]!.pageContent);
    expect(top!.metadata).toEqual({ source: 'kitchen.md', loc: { line: 1 } });
    expect(typeof top!.id).toBe('string');
    const pets = await store.similaritySearch('cooking dinner', 4, { must: [{ key: 'metadata.source', match: { value: 'pets.md' } }] });
    expect(pets.map((d) => d.metadata.source)).toEqual(['pets.md', 'pets.md']);
    const scored = await store.similaritySearchWithScore('a kitten', 2);
    expect(scored[0]![0].pageContent).toBe(DOCS[0]!.pageContent);
    expect(scored[0]![1]).toBeGreaterThan(scored[1]![1]);
  });

  it('maxMarginalRelevanceSearch returns k distinct documents', async () => {
    const docs = await store.maxMarginalRelevanceSearch('pasta and sauce', { k: 2, fetchK: 4, lambda: 0.5 });
    expect(docs).toHaveLength(2);
    expect(new Set(docs.map((d) => d.pageContent)).size).toBe(2);
  });

  it('runs a whole retrieval chain with no network', async () => {
    const retriever = store.asRetriever({ k: 2, filter: { must: [{ key: 'metadata.source', match: { value: 'kitchen.md' } }] } });
    const prompt = ChatPromptTemplate.fromMessages([
      ['system', 'Answer from this context only:\n{context}'],
      ['human', '{question}'],
    ]);
    let seen = '';
    const model = new FakeListChatModel({ responses: ['Ten minutes.'] });
    const chain = RunnableSequence.from([
      { context: retriever.pipe((docs: Document[]) => docs.map((d) => d.pageContent).join('\n')), question: new RunnablePassthrough() },
      prompt,
      RunnableLambda.from((p: Awaited<ReturnType<typeof prompt.invoke>>) => {
        seen = p.toString();
        return p;
      }),
      model,
      new StringOutputParser(),
    ]);
    expect(await chain.invoke('How long should pasta boil?')).toBe('Ten minutes.');
    expect(seen).toContain('Boil the pasta for ten minutes');
    expect(seen).not.toContain('cat sat');
  });

  it('deletes by id and by filter', async () => {
    const [cat] = await store.similaritySearch('the cat purred', 1);
    await store.delete({ ids: [cat!.id!] });
    expect((await s.request('GET', '/collections/lc')).body.result.points_count).toBe(3);
    await store.delete({ filter: { must: [{ key: 'metadata.source', match: { value: 'kitchen.md' } }] } });
    expect((await s.request('GET', '/collections/lc')).body.result.points_count).toBe(1);
  });
});
