// Node identity and liveness (docs/cluster.md, "Layout": quiver-nodes). Each node has a stable id,
// QUIVER_NODE_ID or one made at first start and kept in <data dir>/node-id, and writes a heartbeat
// into the KV bucket quiver-nodes every few seconds: its role, the shards it holds (the placement)
// and how far it applied each collection stream. nats-server 2.9 has no per-key TTL, so the bucket's max_age drops a key no
// longer written, and a reader also ignores an entry older than GONE_MS (the age of the last write).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export const NODES_BUCKET = 'quiver-nodes';
export const HEARTBEAT_MS = 3_000;
/** A node whose heartbeat is older than this is gone: it holds back no purge and takes no snapshot. */
export const GONE_MS = 15_000;

export interface Heartbeat {
  role: 'api' | 'replica' | 'worker' | 'all';
  /** Last applied sequence per collection stream (replica roles). */
  applied: Record<string, number>;
  /** The shards of every collection this node holds (QUIVER_CLUSTER_SHARDS; replica roles): the placement readers see. */
  shards?: 'all' | number[];
  at: string;
}

/** QUIVER_NODE_ID, else the id kept in the data dir (made once, so a restart is the same node). */
export function nodeIdOf(dataDir: string, configured: string | undefined): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'node-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{1,64}$/.test(id)) return id;
  } catch {
    // first start: made below
  }
  const id = `n-${crypto.randomBytes(6).toString('hex')}`;
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${id}\n`);
  return id;
}

export class Liveness {
  private constructor(
    private readonly kv: KV,
    readonly nodeId: string,
  ) {}

  static async open(nc: NatsConnection, replicas: number, nodeId: string): Promise<Liveness> {
    const kv = await new Kvm(nc).create(NODES_BUCKET, { replicas, history: 1, ttl: GONE_MS * 2 });
    return new Liveness(kv, nodeId);
  }

  async beat(h: Omit<Heartbeat, 'at'>): Promise<void> {
    await this.kv.put(this.nodeId, JSON.stringify({ ...h, at: new Date().toISOString() }));
  }

  /** The nodes that wrote a heartbeat in the last GONE_MS, by id. */
  async live(): Promise<Map<string, Heartbeat>> {
    const out = new Map<string, Heartbeat>();
    for await (const key of await this.kv.keys()) {
      const e = await this.kv.get(key);
      if (e?.operation !== 'PUT' || Date.now() - e.created.getTime() > GONE_MS) continue;
      out.set(key, e.json<Heartbeat>());
    }
    return out;
  }
}
