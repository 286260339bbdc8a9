// The embedded chunks of a collection's write batches (docs/cluster.md, "Ingest workers"): an
// ingest worker embeds the chunks of the batch at sequence N of the collection's stream and
// publishes them here; every replica applying N reads them instead of calling a model. One
// stream per collection, beside its log: `QUIVER_E_<name>_<suffix>`, subjects
// `quiver.e.<name>.<suffix>.<seq>.<part>`, one message per subject (max_msgs_per_subject 1), so
// a batch embedded twice (a worker killed before its ack, a redelivery) is stored once: the
// message id drops the copy within the dedupe window and the per-subject limit replaces it after.
// A result bigger than the server's max_payload is cut into parts; part 0 carries the count and
// is published last, so whoever finds part 0 finds every part.
import { DiscardPolicy, StorageType } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import type { Collection } from '../collection/index.js';
import type { ChunkingSpec, DocumentInput } from '../domain/types.js';

/** One embedded chunk: the document's position in the batch, where the chunk is in its text, its vector (base64 float32, little-endian; null: nothing the model knows). */
export interface EmbeddedChunk {
  d: number;
  s: number;
  e: number;
  v: string | null;
}

interface Part {
  seq: number;
  part: number;
  parts: number;
  model: string;
  chunks: EmbeddedChunk[];
}

const partSchema = z.object({
  seq: z.number().int(),
  part: z.number().int().min(0),
  parts: z.number().int().min(1),
  model: z.string(),
  chunks: z.array(z.object({ d: z.number().int().min(0), s: z.number().int().min(0), e: z.number().int().min(0), v: z.string().nullable() })),
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ONE_NS_MS = 1_000_000;
const PUBLISH_TIMEOUT_MS = 5_000;
/** A replica waiting for a result asks again at least this often (a wake-up on the subject is the usual way). */
const POLL_MAX_MS = 1_000;

export function encodeVector(v: Float32Array | null): string | null {
  return v && Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

function decodeVector(s: string, dimension: number): Float32Array {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length !== dimension * 4) throw new Error(`an embedded chunk has ${bytes.length / 4} dimensions, the collection ${dimension}`);
  // Copied: a Buffer's offset into its pool need not be 4-aligned.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** The chunks a replica needs from a worker before it can apply this upsert; none: apply at once. */
export function needsWorker(c: Collection, documents: DocumentInput[], chunking: ChunkingSpec | undefined): boolean {
  return c.chunksToEmbed(documents, chunking).length > 0;
}

/** The embedded-results stream of one collection stream, and what workers and replicas do with it. */
export class EmbeddedLog {
  readonly stream: string;
  private readonly base: string;

  constructor(log: { stream: string; subject: string }) {
    // QUIVER_C_<name>_<suffix> / quiver.c.<name>.<suffix>.w: the same name and incarnation.
    this.stream = log.stream.replace(/^QUIVER_C_/, 'QUIVER_E_');
    this.base = log.subject.replace(/^quiver\.c\./, 'quiver.e.').replace(/\.w$/, '');
  }

  subject(seq: number, part: number): string {
    return `${this.base}.${seq}.${part}`;
  }

  /** Creates the stream unless it is there (every worker and replica calls this; the first one creates it). */
  async ensure(jsm: JetStreamManager, replicas: number, maxAgeS: number): Promise<void> {
    const exists = async () =>
      jsm.streams.info(this.stream).then(
        () => true,
        () => false,
      );
    if (await exists()) return;
    try {
      await jsm.streams.add({
        name: this.stream,
        subjects: [`${this.base}.>`],
        num_replicas: replicas,
        storage: StorageType.File,
        max_msgs_per_subject: 1,
        max_age: maxAgeS * 1000 * ONE_NS_MS,
        discard: DiscardPolicy.Old,
        duplicate_window: 120_000 * ONE_NS_MS,
      });
    } catch (err) {
      // Another node created it meanwhile.
      if (!(await exists())) throw err;
    }
  }

  async drop(jsm: JetStreamManager): Promise<void> {
    await jsm.streams.delete(this.stream);
  }

  /**
   * Publishes the embedded chunks of the batch at `seq`, cut to fit `maxBytes` a message, part 0
   * last; each part until JetStream acknowledged it (the same message id on every try and every
   * redelivery, so it is stored once).
   */
  async publish(js: JetStreamClient, seq: number, model: string, chunks: EmbeddedChunk[], maxBytes: number, stopped: () => boolean): Promise<number> {
    const parts: EmbeddedChunk[][] = [[]];
    let size = 0;
    for (const ch of chunks) {
      const n = JSON.stringify(ch).length + 1;
      if (size + n > maxBytes - 256 && parts.at(-1)!.length > 0) {
        parts.push([]);
        size = 0;
      }
      parts.at(-1)!.push(ch);
      size += n;
    }
    for (let part = parts.length - 1; part >= 0; part--) {
      const data = encoder.encode(JSON.stringify({ seq, part, parts: parts.length, model, chunks: parts[part]! } satisfies Part));
      for (;;) {
        try {
          await js.publish(this.subject(seq, part), data, { msgID: `${this.stream}:${seq}:${part}`, expect: { streamName: this.stream }, timeout: PUBLISH_TIMEOUT_MS });
          break;
        } catch (err) {
          if (stopped()) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }
    return parts.length;
  }

  /** The whole result of `seq` when every part is stored; undefined while it is not (yet). */
  private async fetch(jsm: JetStreamManager, seq: number): Promise<Part[] | undefined> {
    const read = async (part: number): Promise<Part | undefined> => {
      const m = await jsm.streams.getMessage(this.stream, { last_by_subj: this.subject(seq, part) });
      return m ? partSchema.parse(JSON.parse(decoder.decode(m.data))) : undefined;
    };
    const first = await read(0);
    if (!first) return undefined;
    const parts = [first];
    for (let part = 1; part < first.parts; part++) {
      const p = await read(part);
      if (!p) return undefined;
      parts.push(p);
    }
    return parts;
  }

  /** A replica's reader of this stream: waits for the result of a sequence, woken by its arrival. */
  reader(nc: NatsConnection, jsm: JetStreamManager): EmbeddedReader {
    return new EmbeddedReader(this, nc, jsm, (seq) => this.fetch(jsm, seq));
  }
}

/** Waits for a batch's embedded chunks and turns them into the vectors its write looks up by chunk text. */
export class EmbeddedReader {
  /** The sequence being waited for, and since when (ms); undefined when not waiting. */
  waiting: { seq: number; since: number } | undefined;
  private sub: Subscription | undefined;
  private wake: (() => void) | undefined;
  /** A result was published since the last fetch began: fetch again at once (a wake-up during a fetch is not lost). */
  private published = false;

  constructor(
    readonly log: EmbeddedLog,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly fetch: (seq: number) => Promise<Part[] | undefined>,
  ) {}

  /** Part 0 of any result arriving wakes the waiter (a core subscription: nothing is stored for it). */
  private listen(): void {
    if (this.sub) return;
    this.sub = this.nc.subscribe(this.log.subject(0, 0).replace(/\.0\.0$/, '.*.0'), {
      callback: () => {
        this.published = true;
        this.wake?.();
      },
    });
  }

  close(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.wake?.();
  }

  /**
   * The vectors of the upsert at `seq`, by chunk text; waits as long as it takes (a cluster
   * without workers waits visibly: `waiting` feeds /readyz and /metrics). Throws when `stopped`.
   */
  async vectors(c: Collection, seq: number, documents: DocumentInput[], stopped: () => boolean): Promise<Map<string, Float32Array | null>> {
    this.listen();
    let parts: Part[] | undefined;
    let pause = 50;
    try {
      for (;;) {
        this.published = false;
        parts = await this.fetch(seq);
        if (parts) break;
        if (stopped()) throw new Error('stopped while waiting for embeddings');
        this.waiting ??= { seq, since: Date.now() };
        if (this.published) continue; // published while fetching: perhaps ours
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        pause = Math.min(POLL_MAX_MS, pause * 2);
      }
    } finally {
      this.waiting = undefined;
    }
    const out = new Map<string, Float32Array | null>();
    for (const p of parts) {
      for (const ch of p.chunks) {
        const text = documents[ch.d]?.text;
        if (typeof text !== 'string' || ch.e > text.length || ch.s > ch.e) throw new Error(`the embedded chunks of sequence ${seq} do not fit its documents`);
        out.set(text.slice(ch.s, ch.e), ch.v === null ? null : decodeVector(ch.v, c.info.dimension));
      }
    }
    return out;
  }
}
