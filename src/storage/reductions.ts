// Owns the rows of dimensionality-reduced collections (migrations/010): their settings and fitted
// projection, and the embedder's vectors kept beside the projected ones. The arithmetic is not
// here (src/collection/reduce.ts); this repository stores what it computed, in one transaction.
import type { Db } from './database.js';
import { blobToVector, vectorToBlob } from './database.js';
import type { CollectionsRepo } from './collections.js';
import type { FittedProjection, ReduceSpec, Reduction } from '../domain/types.js';
import type { ReductionInstall, ReductionStore } from './store.js';

interface ReductionDbRow {
  method: 'pca';
  dimensions: number;
  fit_on: number;
  keep_full: number;
  mean: Buffer | null;
  components: Buffer | null;
  explained: string | null;
  fitted_on: number | null;
  fitted_at: string | null;
  fitted_seq: number | null;
}

export class ReductionsRepo implements ReductionStore {
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly collections: CollectionsRepo,
  ) {
    this.stmts = {
      get: db.prepare<[number], ReductionDbRow>('SELECT * FROM collection_reductions WHERE collection_id = ?'),
      fullVectors: db.prepare<[number, number], { id: number; vector: Buffer }>(
        `SELECT c.id, coalesce(f.vector, c.vector) AS vector FROM chunks c LEFT JOIN full_vectors f ON f.chunk_id = c.id
         WHERE c.collection_id = ? AND c.vector IS NOT NULL AND (f.vector IS NOT NULL OR length(c.vector) = ?) ORDER BY c.id`,
      ),
      copyFull: db.prepare<[number, number]>(
        `INSERT OR IGNORE INTO full_vectors (chunk_id, collection_id, vector)
         SELECT id, collection_id, vector FROM chunks WHERE collection_id = ? AND vector IS NOT NULL AND length(vector) = ?`,
      ),
      setVector: db.prepare<[Buffer, number, number, number]>('UPDATE chunks SET vector = ?, seq = ? WHERE id = ? AND collection_id = ?'),
      setFit: db.prepare<[Buffer, Buffer, string, number, string, number, number]>(
        'UPDATE collection_reductions SET mean = ?, components = ?, explained = ?, fitted_on = ?, fitted_at = ?, fitted_seq = ? WHERE collection_id = ?',
      ),
    };
  }

  get(collectionId: number): Reduction | undefined {
    const r = this.stmts.get.get(collectionId);
    if (!r) return undefined;
    const spec: ReduceSpec = { method: r.method, dimensions: r.dimensions, fitOn: r.fit_on, keepFull: r.keep_full === 1 };
    const fitted: FittedProjection | null =
      r.mean && r.components && r.explained !== null && r.fitted_seq !== null
        ? {
            mean: blobToVector(r.mean),
            components: blobToVector(r.components),
            explained: JSON.parse(r.explained) as number[],
            fittedOn: r.fitted_on ?? 0,
            fittedAt: r.fitted_at ?? '',
            seq: r.fitted_seq,
          }
        : null;
    return { spec, fitted };
  }

  *fullVectors(collectionId: number, fullDimension: number): Generator<{ label: number; vector: Float32Array }> {
    for (const r of this.stmts.fullVectors.iterate(collectionId, fullDimension * 4)) yield { label: r.id, vector: blobToVector(r.vector) };
  }

  install(collectionId: number, r: ReductionInstall): FittedProjection {
    return this.db.transaction((): FittedProjection => {
      const seq = this.collections.nextSeq(collectionId);
      // Before the chunks are overwritten: the full vectors of a collection not fitted yet live in chunks.
      if (r.keepFull) this.stmts.copyFull.run(collectionId, r.fullDimension * 4);
      for (const { label, vector } of r.vectors) this.stmts.setVector.run(vectorToBlob(vector), seq, label, collectionId);
      const fit = { ...r.fit, seq };
      this.stmts.setFit.run(vectorToBlob(fit.mean), vectorToBlob(fit.components), JSON.stringify(fit.explained), fit.fittedOn, fit.fittedAt, seq, collectionId);
      return fit;
    })();
  }
}
