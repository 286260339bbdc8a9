// Where a document of a sharded collection lives (docs/cluster.md, "Sharding"): its id hashes to
// one of 4,096 fixed slots, and a collection of N shards gives each shard a contiguous run of
// slots. Fixed slots rather than hash mod N: adding a shard later moves whole slots.
export const SLOTS = 4096;
export const MAX_SHARDS = 64;

/** FNV-1a, 32 bits, over the id's UTF-8 bytes. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(s)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function slotOf(id: string): number {
  return fnv1a32(id) % SLOTS;
}

/** The shard holding a slot: shard k holds slots [k·4096/N, (k+1)·4096/N). */
export function shardOf(id: string, shards: number): number {
  return shards <= 1 ? 0 : Math.floor((slotOf(id) * shards) / SLOTS);
}
