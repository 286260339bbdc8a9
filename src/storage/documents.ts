// Owns documents, their chunks and the tombstones of deleted chunks. Every write here is one
// transaction that also takes the collection's next sequence number and returns the matching
// IndexChanges, so the vector index can follow SQLite exactly, in commit order.
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';
import { blobToVector, vectorToBlob } from './database.js';
import type { CollectionsRepo } from './collections.js';
import type { ChunkFields, ChunkHit, ChunkSpan, DocumentWrite, IndexChanges, Metadata, Modality, StoredDocument } from '../domain/types.js';

export interface DocumentDbRow {
  pk: number;
  id: string;
  text: string | null;
  /** Migration 011; undefined on a row read before it (never: migrations run at open). */
  image_sha256?: string | null;
  metadata: string;
  content_hash: string;
  created_at: string;
  updated_at: string;
}

export function toDocument(r: DocumentDbRow): StoredDocument {
  return {
    pk: r.pk,
    id: r.id,
    text: r.text,
    imageSha256: r.image_sha256 ?? null,
    metadata: JSON.parse(r.metadata) as Metadata,
    contentHash: r.content_hash,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}


export class DocumentsRepo {
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly collections: CollectionsRepo,
  ) {
    this.stmts = {
      get: db.prepare<[number, string], DocumentDbRow>('SELECT * FROM documents WHERE collection_id = ? AND id = ?'),
      page: db.prepare<[number, string, number], DocumentDbRow>(
        'SELECT * FROM documents WHERE collection_id = ? AND id > ? ORDER BY id LIMIT ?',
      ),
      insertDoc: db.prepare<[number, string, string | null, string | null, string, string, string, string], { pk: number }>(
        'INSERT INTO documents (collection_id, id, text, image_sha256, metadata, content_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk',
      ),
      updateDoc: db.prepare<[string | null, string | null, string, string, string, number]>(
        'UPDATE documents SET text = ?, image_sha256 = ?, metadata = ?, content_hash = ?, updated_at = ? WHERE pk = ?',
      ),
      // Content-addressed: the second document with the same image adds no row (migration 011).
      insertImage: db.prepare<[string, string, Buffer]>('INSERT OR IGNORE INTO images (sha256, mime, bytes) VALUES (?, ?, ?)'),
      image: db.prepare<[string], { bytes: Buffer }>('SELECT bytes FROM images WHERE sha256 = ?'),
      updateMeta: db.prepare<[string, string, number]>('UPDATE documents SET metadata = ?, updated_at = ? WHERE pk = ?'),
      deleteDoc: db.prepare<[number]>('DELETE FROM documents WHERE pk = ?'),
      chunkIdsOf: db.prepare<[number], { id: number; has_vector: number }>(
        'SELECT id, vector IS NOT NULL AS has_vector FROM chunks WHERE document_pk = ?',
      ),
      deleteChunks: db.prepare<[number]>('DELETE FROM chunks WHERE document_pk = ?'),
      insertChunk: db.prepare<[number, number, number, number, number, Buffer | null, number, Modality], { id: number }>(
        'INSERT INTO chunks (collection_id, document_pk, chunk_index, start_offset, end_offset, vector, seq, modality) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      ),
      insertFull: db.prepare<[number, number, Buffer]>('INSERT INTO full_vectors (chunk_id, collection_id, vector) VALUES (?, ?, ?)'),
      tombstone: db.prepare<[number, number, number]>('INSERT OR REPLACE INTO tombstones (collection_id, chunk_id, seq) VALUES (?, ?, ?)'),
      chunksOf: db.prepare<[number], { chunk_index: number; start_offset: number; end_offset: number; has_vector: number; modality: Modality }>(
        'SELECT chunk_index, start_offset, end_offset, vector IS NOT NULL AS has_vector, modality FROM chunks WHERE document_pk = ? ORDER BY chunk_index',
      ),
      chunkVector: db.prepare<[number], { vector: Buffer | null }>('SELECT vector FROM chunks WHERE document_pk = ? ORDER BY chunk_index LIMIT 1'),
      vectorsAfter: db.prepare<[number, number], { id: number; vector: Buffer }>(
        'SELECT id, vector FROM chunks WHERE collection_id = ? AND seq > ? AND vector IS NOT NULL',
      ),
      tombstonesAfter: db.prepare<[number, number], { chunk_id: number }>('SELECT chunk_id FROM tombstones WHERE collection_id = ? AND seq > ?'),
      liveLabels: db.prepare<[number], { id: number }>('SELECT id FROM chunks WHERE collection_id = ? AND vector IS NOT NULL'),
      allVectors: db.prepare<[number], { id: number; vector: Buffer }>('SELECT id, vector FROM chunks WHERE collection_id = ? AND vector IS NOT NULL'),
      pruneTombstones: db.prepare<[number, number]>('DELETE FROM tombstones WHERE collection_id = ? AND seq <= ?'),
    };
  }

  get(collectionId: number, id: string): StoredDocument | undefined {
    const r = this.stmts.get.get(collectionId, id);
    return r && toDocument(r);
  }

  /** A document's chunks in order: offsets into its text (JS string units) and whether each has a vector. */
  chunksOf(pk: number): ChunkSpan[] {
    return this.stmts.chunksOf
      .all(pk)
      .map((r) => ({ index: r.chunk_index, start: r.start_offset, end: r.end_offset, hasVector: r.has_vector === 1, ...(r.modality === 'image' ? { modality: 'image' as const } : {}) }));
  }

  /** A stored image's bytes by the sha-256 a document names. */
  image(sha256: string): Buffer | undefined {
    return this.stmts.image.get(sha256)?.bytes;
  }

  /** The first chunk's vector: the document's vector when it is not chunked. */
  vectorOf(pk: number): Float32Array | null {
    const r = this.stmts.chunkVector.get(pk);
    return r?.vector ? blobToVector(r.vector) : null;
  }

  /** Documents in id order after `afterId` (exclusive): stable under concurrent inserts. */
  page(collectionId: number, afterId: string, limit: number): StoredDocument[] {
    return this.stmts.page.all(collectionId, afterId, limit).map(toDocument);
  }

  /** Writes a batch of documents in one transaction (`also` runs inside it); returns what the index must do. */
  write(collectionId: number, writes: DocumentWrite[], also?: () => void): IndexChanges {
    return this.db.transaction((): IndexChanges => {
      const now = new Date().toISOString();
      const changes: IndexChanges = { seq: 0, adds: [], deletes: [] };
      const needsSeq = writes.some((w) => w.kind === 'content');
      if (needsSeq) changes.seq = this.collections.nextSeq(collectionId);
      for (const w of writes) {
        if (w.kind === 'metadata') {
          this.stmts.updateMeta.run(JSON.stringify(w.metadata), now, w.pk);
          continue;
        }
        let pk: number;
        // Before the document row that references it (a foreign key).
        if (w.image) this.stmts.insertImage.run(w.image.sha256, w.image.mime, w.image.bytes);
        const imageSha = w.image?.sha256 ?? null;
        if (w.existingPk !== undefined) {
          pk = w.existingPk;
          this.dropChunks(collectionId, pk, changes);
          this.stmts.updateDoc.run(w.text, imageSha, JSON.stringify(w.metadata), w.contentHash, now, pk);
        } else {
          pk = this.stmts.insertDoc.get(collectionId, w.id, w.text, imageSha, JSON.stringify(w.metadata), w.contentHash, now, now)!.pk;
        }
        for (const c of w.chunks) {
          const blob = c.vector ? vectorToBlob(c.vector) : null;
          const { id } = this.stmts.insertChunk.get(collectionId, pk, c.index, c.start, c.end, blob, changes.seq, c.modality ?? 'text')!;
          if (c.full) this.stmts.insertFull.run(id, collectionId, vectorToBlob(c.full));
          if (c.vector) changes.adds.push({ label: id, vector: c.vector });
        }
      }
      also?.();
      return changes;
    })();
  }

  /** Deletes one document and its chunks; undefined when it did not exist. */
  delete(collectionId: number, id: string): IndexChanges | undefined {
    return this.db.transaction((): IndexChanges | undefined => {
      const doc = this.stmts.get.get(collectionId, id);
      if (!doc) return undefined;
      const changes: IndexChanges = { seq: this.collections.nextSeq(collectionId), adds: [], deletes: [] };
      this.dropChunks(collectionId, doc.pk, changes);
      this.stmts.deleteDoc.run(doc.pk);
      return changes;
    })();
  }

  private dropChunks(collectionId: number, pk: number, changes: IndexChanges): void {
    for (const c of this.stmts.chunkIdsOf.all(pk)) {
      if (c.has_vector) {
        this.stmts.tombstone.run(collectionId, c.id, changes.seq);
        changes.deletes.push(c.id);
      }
    }
    this.stmts.deleteChunks.run(pk);
  }

  /** Join statements by the columns they read: preparing one costs more than running it. */
  private readonly joins = new Map<string, Statement>();

  /**
   * Chunks joined with their documents, for the given labels (order not kept). Only the columns
   * asked for are read: a query that returns ids alone neither reads the text nor parses metadata.
   */
  chunksByLabel(labels: number[], fields: ChunkFields): Map<number, ChunkHit> {
    const out = new Map<number, ChunkHit>();
    if (labels.length === 0) return out;
    const key = `${fields.text ? 't' : ''}${fields.metadata ? 'm' : ''}${fields.vector ? 'v' : ''}${fields.image ? 'i' : ''}`;
    let stmt = this.joins.get(key);
    if (!stmt) {
      const cols = ['c.id', 'd.id', 'c.chunk_index', 'c.start_offset', 'c.end_offset'];
      if (fields.text) cols.push('d.text');
      if (fields.metadata) cols.push('d.metadata');
      if (fields.vector) cols.push('c.vector');
      if (fields.image) cols.push('(SELECT bytes FROM images WHERE sha256 = d.image_sha256)');
      // The labels travel as one JSON array: one statement for any count (an IN list of "?" needs
      // a statement per count, and stops at SQLite's limit on bound parameters); as fast for k=10.
      stmt = this.db.prepare(`SELECT ${cols.join(', ')} FROM chunks c JOIN documents d ON d.pk = c.document_pk WHERE c.id IN (SELECT value FROM json_each(?))`).raw(true);
      this.joins.set(key, stmt);
    }
    // Rows as arrays (raw): no object with named keys is built per row.
    const rows = stmt.all(JSON.stringify(labels)) as unknown[][];
    for (const r of rows) {
      const start = r[3] as number;
      const end = r[4] as number;
      let col = 5;
      let text: string | null | undefined;
      if (fields.text) {
        text = r[col++] as string | null;
        if (typeof text === 'string' && !(start === 0 && (end === 0 || end === text.length))) text = text.slice(start, end);
      }
      const metadata = fields.metadata ? (JSON.parse(r[col++] as string) as Metadata) : undefined;
      const vector = fields.vector ? (r[col++] as Buffer | null) : null;
      const label = r[0] as number;
      const hit: ChunkHit = { label, documentId: r[1] as string, chunkIndex: r[2] as number, start, end, text, metadata, vector: vector ? blobToVector(vector) : null };
      if (fields.image) hit.image = r[col++] as Buffer | null;
      out.set(label, hit);
    }
    return out;
  }

  /** Vectors written after `seq`: what an index snapshot taken at `seq` lacks. */
  *vectorsAfter(collectionId: number, seq: number): Generator<{ label: number; vector: Float32Array }> {
    for (const r of this.stmts.vectorsAfter.iterate(collectionId, seq)) yield { label: r.id, vector: blobToVector(r.vector) };
  }

  tombstonesAfter(collectionId: number, seq: number): number[] {
    return this.stmts.tombstonesAfter.all(collectionId, seq).map((r) => r.chunk_id);
  }

  /** Every chunk label that must be in the index. */
  liveLabels(collectionId: number): number[] {
    return this.stmts.liveLabels.all(collectionId).map((r) => r.id);
  }

  *allVectors(collectionId: number): Generator<{ label: number; vector: Float32Array }> {
    for (const r of this.stmts.allVectors.iterate(collectionId)) yield { label: r.id, vector: blobToVector(r.vector) };
  }

  /** Tombstones at or before a snapshot's seq are no longer needed to replay it. */
  pruneTombstones(collectionId: number, uptoSeq: number): void {
    this.stmts.pruneTombstones.run(collectionId, uptoSeq);
  }
}
