// Reads of a cluster node that must see the log up to a sequence, shared by the cluster tests.
// min_seq alone waits at most QUIVER_CLUSTER_MIN_SEQ_WAIT_MS and, on a request, no longer than
// QUIVER_REQUEST_TIMEOUT_MS (30 s by default): a replica restarted during a chaos test, or one whose
// worker batch waits out an ack wait, may be further behind than that on a busy machine, so these
// wait on /readyz's lag first, with the suite's patience.
import { expect } from 'vitest';
import type { Json, TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/server.js';

/** Waits until `s` reports `collection` applied up to `seq` (GET /readyz, cluster.lag). */
export async function appliedUpTo(s: TestServer, collection: string, seq: number): Promise<void> {
  await waitFor(`${s.url} to apply ${collection} up to ${seq}`, async () => {
    const lag = ((await s.request('GET', '/readyz').catch(() => undefined))?.body?.cluster?.lag ?? []) as Json[];
    return lag.some((l: Json) => l.collection === collection && l.applied >= seq) ? true : undefined;
  });
}

/** Every document of `collection` on `s` once it has applied the log up to `seq`, page by page. */
export async function allDocuments(s: TestServer, collection: string, seq: number): Promise<Json[]> {
  await appliedUpTo(s, collection, seq);
  const out: Json[] = [];
  let cursor: string | null = null;
  let first = true;
  do {
    const q: string = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}${first ? `&min_seq=${seq}` : ''}`;
    const r = await s.request('GET', `/v1/collections/${collection}/documents?${q}`);
    expect(r.status, `${JSON.stringify(r.body)}\n${s.output().slice(-4000)}`).toBe(200);
    out.push(...r.body.documents);
    cursor = r.body.next_cursor;
    first = false;
  } while (cursor);
  return out;
}

/**
 * A filter every test document passes (their metadata `i` is ≥ 0). Under
 * QUIVER_EXACT_SEARCH_THRESHOLD documents (5,000) it makes a query's vector side exact search:
 * the tests' documents share a few texts, so many have the same vector, and two HNSW graphs built
 * in different orders (a restarted or seeded replica's) keep different members of such a tie as
 * candidates, which moves their fused scores. Exact search breaks ties by label, alike on replicas.
 */
export const EXACT_OVER_ALL = { i: { $gte: 0 } };
