// The messages of a collection's stream (docs/cluster.md, "Layout"): one validated write batch
// each. Parsed with zod on the way in: a replica must not apply half-understood data.
import { z } from 'zod';
import type { ChunkingSpec, DocumentInput } from '../domain/types.js';

export type LogMessage =
  | { op: 'upsert'; documents: DocumentInput[]; chunking?: ChunkingSpec }
  | { op: 'delete'; ids: string[] }
  // The filter as the client sent it (validated before publishing); each replica compiles it.
  | { op: 'delete_where'; filter: unknown };

const metadata = z.record(z.string(), z.unknown());
const chunking = z.object({ strategy: z.enum(['none', 'fixed', 'sentence']), unit: z.enum(['chars', 'tokens']), max: z.number(), overlap: z.number() });
const message = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('upsert'),
    documents: z.array(z.object({ id: z.string(), text: z.string().optional(), vector: z.array(z.number()).optional(), metadata: metadata.optional() })),
    chunking: chunking.optional(),
  }),
  z.object({ op: z.literal('delete'), ids: z.array(z.string()) }),
  z.object({ op: z.literal('delete_where'), filter: z.unknown() }),
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMessage(m: LogMessage): Uint8Array {
  return encoder.encode(JSON.stringify(m));
}

export function decodeMessage(data: Uint8Array): LogMessage {
  return message.parse(JSON.parse(decoder.decode(data))) as LogMessage;
}

/**
 * Splits an upsert into messages of at most `maxBytes` (the NATS server's max_payload): each is
 * applied in its own transaction. A single document larger than that is refused by the caller.
 */
export function splitUpsert(documents: DocumentInput[], chunkingSpec: ChunkingSpec | undefined, maxBytes: number): Uint8Array[] {
  const whole = encodeMessage({ op: 'upsert', documents, chunking: chunkingSpec });
  if (whole.length <= maxBytes || documents.length <= 1) return [whole];
  const half = Math.ceil(documents.length / 2);
  return [...splitUpsert(documents.slice(0, half), chunkingSpec, maxBytes), ...splitUpsert(documents.slice(half), chunkingSpec, maxBytes)];
}
