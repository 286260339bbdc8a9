// Shard placement (src/cluster/placement.ts, docs/cluster.md "Sharding"): FNV-1a 32 over the id's
// UTF-8 bytes, 4,096 slots, contiguous slot runs per shard.
import { describe, expect, it } from 'vitest';
import { SLOTS, fnv1a32, shardOf, slotOf } from '../../src/cluster/placement.js';

describe('shard placement', () => {
  it('hashes with FNV-1a 32 (the published test values) over UTF-8 bytes', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // "é" is two UTF-8 bytes: not the hash of the one UTF-16 unit.
    expect(fnv1a32('é')).not.toBe(fnv1a32('\u00e9'.normalize('NFD')));
  });

  it('gives every shard a contiguous run of slots and spreads ids evenly', () => {
    expect(shardOf('anything', 1)).toBe(0);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const id = `doc-${i}`;
      const k = shardOf(id, 4);
      expect(k).toBe(Math.floor(slotOf(id) / (SLOTS / 4)));
      counts[k]!++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });
});
