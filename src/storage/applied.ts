// Owns cluster_applied (migrations/013, 015): per collection and shard, the last stream sequence
// this node applied (an unsharded collection is shard 0). set() is called inside a write's
// transaction (Collection.write's `record` hook), so the position moves with the documents it
// stands for.
import type { Db } from './database.js';
import type { AppliedSequences } from './store.js';

export class AppliedRepo implements AppliedSequences {
  private readonly getStmt;
  private readonly anyStmt;
  private readonly setStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[number, number], { stream: string; seq: number }>('SELECT stream, seq FROM cluster_applied WHERE collection_id = ? AND shard = ?');
    this.anyStmt = db.prepare<[number], { stream: string; seq: number }>('SELECT stream, seq FROM cluster_applied WHERE collection_id = ? ORDER BY shard LIMIT 1');
    this.setStmt = db.prepare<[number, number, string, number]>(
      `INSERT INTO cluster_applied (collection_id, shard, stream, seq) VALUES (?, ?, ?, ?)
       ON CONFLICT (collection_id, shard) DO UPDATE SET stream = excluded.stream, seq = excluded.seq`,
    );
  }

  get(collectionId: number, shard?: number): { stream: string; seq: number } | undefined {
    return shard === undefined ? this.anyStmt.get(collectionId) : this.getStmt.get(collectionId, shard);
  }

  set(collectionId: number, stream: string, seq: number, shard = 0): void {
    this.setStmt.run(collectionId, shard, stream, seq);
  }
}
