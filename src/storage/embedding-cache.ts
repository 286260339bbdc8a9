// Owns the embedding cache: vectors by (model id, sha256 of text), so the same text is never
// sent to the same model twice, across documents and collections. Bounded by entry count;
// the least recently used entries go first.
import type { Db } from './database.js';
import { blobToVector, vectorToBlob } from './database.js';

export class EmbeddingCache {
  private readonly stmts;
  private writesSincePrune = 0;

  constructor(
    private readonly db: Db,
    private readonly maxEntries: number,
  ) {
    this.stmts = {
      get: db.prepare<[string, Buffer], { vector: Buffer }>('SELECT vector FROM embedding_cache WHERE model_id = ? AND text_sha256 = ?'),
      touch: db.prepare<[number, string, Buffer]>('UPDATE embedding_cache SET used_at = ? WHERE model_id = ? AND text_sha256 = ?'),
      put: db.prepare<[string, Buffer, Buffer, number]>(
        'INSERT OR REPLACE INTO embedding_cache (model_id, text_sha256, vector, used_at) VALUES (?, ?, ?, ?)',
      ),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM embedding_cache'),
      prune: db.prepare<[number]>(
        'DELETE FROM embedding_cache WHERE (model_id, text_sha256) IN (SELECT model_id, text_sha256 FROM embedding_cache ORDER BY used_at LIMIT ?)',
      ),
    };
  }

  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  /** Looks up many hashes at once; missing ones are absent from the result. */
  getMany(modelId: string, hashes: Buffer[]): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    if (this.maxEntries === 0) return out;
    const now = Date.now();
    this.db.transaction(() => {
      for (const h of hashes) {
        const r = this.stmts.get.get(modelId, h);
        if (r) {
          out.set(h.toString('hex'), blobToVector(r.vector));
          this.stmts.touch.run(now, modelId, h);
        }
      }
    })();
    return out;
  }

  putMany(modelId: string, entries: { hash: Buffer; vector: Float32Array }[]): void {
    if (this.maxEntries === 0 || entries.length === 0) return;
    const now = Date.now();
    this.db.transaction(() => {
      for (const e of entries) this.stmts.put.run(modelId, e.hash, vectorToBlob(e.vector), now);
    })();
    this.writesSincePrune += entries.length;
    // Counting is O(n); do it only every so often.
    if (this.writesSincePrune >= 1000) {
      this.writesSincePrune = 0;
      const over = this.stmts.count.get()!.n - this.maxEntries;
      if (over > 0) this.stmts.prune.run(over);
    }
  }
}
