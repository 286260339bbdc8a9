// The client's retry rule (src/client/transport.ts), with a scripted fetch: what is sent again
// (429 and the 503s the server answers before acting, for any method; a GET after a network
// error), what never is (a write whose connection broke, 503 REQUEST_TIMEOUT, 4xx), and the
// bounds on attempts and waiting.
import { describe, expect, it } from 'vitest';
import { QuiverApiError, QuiverClient, isAccepted } from '../../src/client/index.js';

type Step = { status: number; code?: string; retryAfter?: string; body?: unknown } | 'network-error';

function scripted(steps: Step[]) {
  const seen: { method: string; url: string; body: string }[] = [];
  const fetch = async (req: Request): Promise<Response> => {
    seen.push({ method: req.method, url: req.url, body: await req.text() });
    const step = steps.shift() ?? { status: 500 };
    if (step === 'network-error') throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    const body = step.body ?? (step.status >= 400 ? { error: { code: step.code ?? 'X', message: `failed with ${step.code}` } } : {});
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': 'req-1' };
    if (step.retryAfter !== undefined) headers['retry-after'] = step.retryAfter;
    return new Response(JSON.stringify(body), { status: step.status, headers });
  };
  return { seen, client: new QuiverClient({ url: 'http://quiver.test:8080/', fetch, retry: { baseDelayMs: 1, maxDelayMs: 5 } }) };
}

const upsertOk = { status: 200, body: { created: 1, updated: 0, unchanged: 0, embedded: 1, not_embedded: [] } };

describe('client retries', () => {
  it('sends a write again after 429 and 503 NOT_READY/BODY_MEMORY_FULL, with the same body, after Retry-After', async () => {
    const { seen, client } = scripted([{ status: 429, code: 'QUEUE_FULL', retryAfter: '0' }, { status: 503, code: 'BODY_MEMORY_FULL', retryAfter: '0' }, { status: 503, code: 'NOT_READY' }, upsertOk]);
    const r = await client.collection('c').upsert([{ id: 'a', text: 'alpha' }]);
    expect(isAccepted(r)).toBe(false);
    expect(!isAccepted(r) && r.created).toBe(1);
    expect(seen).toHaveLength(4);
    expect(new Set(seen.map((s) => s.body))).toEqual(new Set([JSON.stringify({ documents: [{ id: 'a', text: 'alpha' }] })]));
    expect(seen[0]!.url).toBe('http://quiver.test:8080/v1/collections/c/documents');
  });

  it('never repeats a write whose connection broke, nor one answered 503 REQUEST_TIMEOUT', async () => {
    const broken = scripted(['network-error', upsertOk]);
    const e = await broken.client.collection('c').upsert([{ id: 'a', text: 'alpha' }]).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(QuiverApiError);
    expect(e).toMatchObject({ status: 0, code: 'NETWORK_ERROR', details: { reason: 'ECONNRESET' } });
    expect(broken.seen).toHaveLength(1);

    const late = scripted([{ status: 503, code: 'REQUEST_TIMEOUT' }, upsertOk]);
    const e2 = await late.client.collection('c').upsert([{ id: 'a', text: 'alpha' }]).catch((err: unknown) => err);
    expect(e2).toMatchObject({ status: 503, code: 'REQUEST_TIMEOUT', requestId: 'req-1' });
    expect(late.seen).toHaveLength(1);
  });

  it('sends a GET again after a network error or a 502, but not after a 4xx', async () => {
    const ok = { status: 200, body: { collections: [] } };
    const { seen, client } = scripted(['network-error', { status: 502, body: 'bad gateway' }, ok]);
    expect(await client.collections.list()).toEqual([]);
    expect(seen.map((s) => s.method)).toEqual(['GET', 'GET', 'GET']);

    const notFound = scripted([{ status: 404, code: 'COLLECTION_NOT_FOUND' }, ok]);
    await expect(notFound.client.collections.get('x')).rejects.toMatchObject({ status: 404, code: 'COLLECTION_NOT_FOUND', message: 'failed with COLLECTION_NOT_FOUND' });
    expect(notFound.seen).toHaveLength(1);
  });

  it('stops after the attempts allowed, and when Retry-After would pass the wait allowed', async () => {
    const many = scripted(Array.from({ length: 10 }, () => ({ status: 429, code: 'QUEUE_FULL', retryAfter: '0' })));
    await expect(many.client.collection('c').upsert([{ id: 'a' , text: 'a' }])).rejects.toMatchObject({ status: 429, code: 'QUEUE_FULL', retryAfterMs: 0 });
    expect(many.seen).toHaveLength(4);

    const long = scripted([{ status: 429, code: 'QUEUE_FULL', retryAfter: '3600' }, upsertOk]);
    await expect(long.client.collection('c').upsert([{ id: 'a', text: 'a' }])).rejects.toMatchObject({ status: 429, retryAfterMs: 3_600_000 });
    expect(long.seen).toHaveLength(1);

    const off = scripted([{ status: 429, code: 'QUEUE_FULL', retryAfter: '0' }, upsertOk]);
    await expect(off.client.collection('c').upsert([{ id: 'a', text: 'a' }], { retry: false })).rejects.toMatchObject({ status: 429 });
    expect(off.seen).toHaveLength(1);
  });

  it('rejects with the abort reason when the caller stops waiting', async () => {
    const { client } = scripted([{ status: 429, code: 'QUEUE_FULL', retryAfter: '30' }, upsertOk]);
    const stop = new AbortController();
    const p = client.collection('c').upsert([{ id: 'a', text: 'a' }], { signal: stop.signal, onRetry: () => stop.abort(new Error('stopped by the caller')) });
    await expect(p).rejects.toThrow('stopped by the caller');
  });
});
