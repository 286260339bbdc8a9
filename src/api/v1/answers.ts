// The answers of /v1 reads that a replica may give on an api node's behalf (shard-reads.ts) as well
// as its own routes: one function per read, from the request body to the JSON sent back, so a
// routed answer is byte for byte the one the replica's own route gives.
import type { Collection } from '../../collection/index.js';
import type { Deadline } from '../../query/index.js';
import { buildContext, recommend } from '../../query/index.js';
import { parse } from '../errors.js';
import * as s from './schemas.js';
import { searchView } from './views.js';

/** POST .../context: the best passages for a text within a token budget. */
export async function contextAnswer(c: Collection, body: unknown): Promise<unknown> {
  const { max_tokens: maxTokens, ...rest } = parse(s.contextBody, body);
  const r = await buildContext(c, { ...rest, maxTokens });
  return { ...r, chunks: r.chunks.map(({ documentId, chunkIndex, ...chunk }) => ({ document_id: documentId, chunk_index: chunkIndex, ...chunk })) };
}

/** POST .../recommend: documents like the positive examples and unlike the negative ones. */
export async function recommendAnswer(c: Collection, body: unknown, deadline: Deadline): Promise<unknown> {
  return searchView(await recommend(c, parse(s.recommendBody, body), deadline));
}
