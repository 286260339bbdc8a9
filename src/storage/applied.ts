// Owns cluster_applied (migrations/013): per collection, the last stream sequence this node
// applied. set() is called inside a write's transaction (Collection.write's `record` hook), so the
// position moves with the documents it stands for.
import type { Db } from './database.js';
import type { AppliedSequences } from './store.js';

export class AppliedRepo implements AppliedSequences {
  private readonly getStmt;
  private readonly setStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[number], { stream: string; seq: number }>('SELECT stream, seq FROM cluster_applied WHERE collection_id = ?');
    this.setStmt = db.prepare<[number, string, number]>(
      `INSERT INTO cluster_applied (collection_id, stream, seq) VALUES (?, ?, ?)
       ON CONFLICT (collection_id) DO UPDATE SET stream = excluded.stream, seq = excluded.seq`,
    );
  }

  get(collectionId: number): { stream: string; seq: number } | undefined {
    return this.getStmt.get(collectionId);
  }

  set(collectionId: number, stream: string, seq: number): void {
    this.setStmt.run(collectionId, stream, seq);
  }
}
