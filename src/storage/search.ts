// Owns the read queries of search and exploration: chunk labels and vectors that pass a metadata
// filter (the planner's count and the exact-search set), BM25 keyword search with per-collection
// statistics (migrations/008: postings from chunks_fts, lengths and counts per collection),
// document vectors for recommendation, filtered document pages, sampled sets for clustering and
// projection, and delete-by-filter (one transaction over DocumentsRepo.delete). Filters arrive
// compiled by filter-sql.ts as a WHERE fragment over the documents row `d`.
import type { IndexChanges, StoredDocument } from '../domain/types.js';
import type { Db } from './database.js';
import { blobToVector } from './database.js';
import type { DocumentDbRow, DocumentsRepo } from './documents.js';
import { toDocument } from './documents.js';
import type { SqlWhere } from './filter-sql.js';
import type { AnalysisDocument, DocumentVectors, KeywordStats } from './store.js';
import { queryPhrases, queryTerms } from '../text/segment.js';

/**
 * BM25's term-frequency saturation (k1) and length normalisation (b), chosen on the tuning halves
 * of the judged sets (benchmarks/bm25-grid.ts, BENCHMARKS.md "BM25 parameters"). Every point with
 * k1 0.45–0.75 and b 0.75–0.9 came within 0.005 of the best summed hybrid MRR@10 over fiori, docs
 * and antd-zh, all ahead of Lucene's 1.2 / 0.75 (mostly on Chinese, whose jieba tokens repeat).
 * Of those, the largest k1: a lower k1 raises the normalised score of a chunk matching one query
 * word, and hybrid's blend (fusion.ts) weighs keyword by that score, so at k1 0.45 the README's
 * "how long to cook spaghetti" ranked "…a long text…" first. Mutable only for that benchmark.
 */
export const bm25 = { k1: 0.75, b: 0.75 };

const all = (w: SqlWhere | undefined) => (w ? `AND (${w.sql})` : '');
const params = (w: SqlWhere | undefined) => (w ? w.params : []);

export class SearchRepo {
  constructor(
    private readonly db: Db,
    private readonly docs: DocumentsRepo,
  ) {}

  /** Labels of the chunks with a vector whose document passes the filter. */
  labelsWhere(collectionId: number, where: SqlWhere | undefined): number[] {
    const sql = `SELECT c.id FROM chunks c JOIN documents d ON d.pk = c.document_pk
      WHERE c.collection_id = ? AND c.vector IS NOT NULL ${all(where)}`;
    return this.db
      .prepare(sql)
      .pluck()
      .all(collectionId, ...params(where)) as number[];
  }

  vectorsByLabel(labels: number[]): Map<number, Float32Array> {
    const out = new Map<number, Float32Array>();
    for (let i = 0; i < labels.length; i += 10_000) {
      const part = labels.slice(i, i + 10_000);
      const rows = this.db
        .prepare(`SELECT id, vector FROM chunks WHERE vector IS NOT NULL AND id IN (${part.map(() => '?').join(',')})`)
        .all(...part) as { id: number; vector: Buffer }[];
      for (const r of rows) out.set(r.id, blobToVector(r.vector));
    }
    return out;
  }

  /**
   * BM25 over chunk text, best first, with the collection's own statistics: N and the average
   * length are the collection's chunks with text, a term's document frequency the collection's
   * chunks holding it (the filter narrows the answer, not the statistics, as in Lucene).
   * idf = ln(1 + (N − df + 0.5) / (df + 0.5)) (Lucene's, never negative), k1 and b from `bm25`.
   * The score is BM25 divided by its bound for this query, Σ idf·(k1 + 1) over the query's terms
   * (a term no chunk holds counted at df = 0): in [0, 1), the share of the query's term weight the
   * chunk matches. Same order as BM25; comparable across queries; what hybrid fusion blends.
   * Quoted phrases (queryPhrases) that some chunk of the collection holds weigh as much as all the
   * words together, shared among them: a chunk holding every such phrase scores at least 0.5, any
   * other below 0.5, so exact matches rank first and the score keeps its meaning (the share of the
   * query's weight matched).
   */
  keyword(collectionId: number, text: string, where: SqlWhere | undefined, limit: number, global?: KeywordStats): { label: number; score: number }[] {
    const terms = queryTerms(text);
    if (terms.length === 0) return [];
    const local = this.db.prepare('SELECT chunks, terms FROM collection_terms WHERE collection_id = ?').get(collectionId) as { chunks: number; terms: number } | undefined;
    if (!local || local.chunks <= 0) return [];
    // A shard scores with the whole collection's statistics (docs/cluster.md, "Sharding"), so
    // its scores are those a single node holding every document would give.
    const stats = global ?? local;
    const avgLength = stats.terms / stats.chunks || 1;
    const postings = this.db.prepare(
      `SELECT v.doc AS label, count(*) AS tf, t.terms AS length FROM chunks_fts_terms v JOIN chunk_terms t ON t.chunk_id = v.doc
       WHERE v.term = ? AND t.collection_id = ? GROUP BY v.doc`,
    );
    const { k1, b } = bm25;
    const scores = new Map<number, number>();
    let bound = 0;
    terms.forEach((term, i) => {
      const rows = postings.all(term, collectionId) as { label: number; tf: number; length: number }[];
      const df = global ? (global.df[i] ?? 0) : rows.length;
      const idf = Math.log(1 + (stats.chunks - df + 0.5) / (df + 0.5));
      bound += idf * (k1 + 1);
      for (const r of rows) {
        const s = (idf * r.tf * (k1 + 1)) / (r.tf + k1 * (1 - b + (b * r.length) / avgLength));
        scores.set(r.label, (scores.get(r.label) ?? 0) + s);
      }
    });
    const phrases = this.phraseMatches(collectionId, queryPhrases(text));
    // A phrase counts when some chunk of the collection holds it: here, or on another shard.
    const held = phrases.filter((labels, i) => (global ? (global.phrases[i] ?? 0) > 0 : labels.length > 0));
    const phraseWeight = held.length > 0 ? bound / held.length : 0;
    for (const holders of held) for (const label of holders) scores.set(label, (scores.get(label) ?? 0) + phraseWeight);
    bound += phraseWeight * held.length;
    let ranked = [...scores].map(([label, score]) => ({ label, score: score / bound })).sort((x, y) => y.score - x.score || x.label - y.label);
    if (where) {
      const passing = new Set<number>();
      const labels = ranked.map((r) => r.label);
      for (let i = 0; i < labels.length; i += 10_000) {
        const part = labels.slice(i, i + 10_000);
        const sql = `SELECT c.id FROM chunks c JOIN documents d ON d.pk = c.document_pk
          WHERE c.id IN (SELECT value FROM json_each(?)) ${all(where)}`;
        for (const id of this.db.prepare(sql).pluck().all(JSON.stringify(part), ...params(where)) as number[]) passing.add(id);
      }
      ranked = ranked.filter((r) => passing.has(r.label));
    }
    return ranked.slice(0, limit);
  }

  /** For each phrase (a term sequence), the labels of the collection's chunks holding it (FTS5 phrase queries over the normalised terms). */
  private phraseMatches(collectionId: number, phrases: string[][]): number[][] {
    const stmt = this.db
      .prepare('SELECT f.rowid FROM chunks_fts f JOIN chunk_terms t ON t.chunk_id = f.rowid WHERE chunks_fts MATCH ? AND t.collection_id = ?')
      .pluck();
    // Terms are runs of letters, digits and marks (segment.ts): safe inside an FTS5 string.
    return phrases.map((p) => stmt.all(`"${p.join(' ')}"`, collectionId) as number[]);
  }

  /**
   * This collection's part of the statistics keyword() scores with, for the query's terms and
   * phrases in queryTerms / queryPhrases order: summed over the shards of a sharded collection
   * they are the whole collection's (Elasticsearch's dfs_query_then_fetch).
   */
  keywordStats(collectionId: number, text: string): KeywordStats {
    const local = this.db.prepare('SELECT chunks, terms FROM collection_terms WHERE collection_id = ?').get(collectionId) as { chunks: number; terms: number } | undefined;
    const df = this.db.prepare('SELECT count(DISTINCT v.doc) FROM chunks_fts_terms v JOIN chunk_terms t ON t.chunk_id = v.doc WHERE v.term = ? AND t.collection_id = ?').pluck();
    return {
      chunks: local?.chunks ?? 0,
      terms: local?.terms ?? 0,
      df: queryTerms(text).map((term) => df.get(term, collectionId) as number),
      phrases: this.phraseMatches(collectionId, queryPhrases(text)).map((labels) => labels.length),
    };
  }

  /** The chunks (labels and vectors) of the given documents; absent ids are absent from the map. */
  documentVectors(collectionId: number, ids: string[]): Map<string, DocumentVectors> {
    const out = new Map<string, DocumentVectors>();
    if (ids.length === 0) return out;
    const rows = this.db
      .prepare(
        `SELECT d.pk, d.id, c.id AS label, c.vector FROM documents d LEFT JOIN chunks c ON c.document_pk = d.pk
         WHERE d.collection_id = ? AND d.id IN (${ids.map(() => '?').join(',')}) ORDER BY d.pk, c.chunk_index`,
      )
      .all(collectionId, ...ids) as { pk: number; id: string; label: number | null; vector: Buffer | null }[];
    for (const r of rows) {
      let e = out.get(r.id);
      if (!e) out.set(r.id, (e = { pk: r.pk, id: r.id, labels: [], vectors: [] }));
      if (r.label !== null) e.labels.push(r.label);
      if (r.vector) e.vectors.push(blobToVector(r.vector));
    }
    return out;
  }

  /** Documents in id order after `afterId` that pass the filter. */
  page(collectionId: number, afterId: string, limit: number, where: SqlWhere | undefined): StoredDocument[] {
    const sql = `SELECT d.* FROM documents d WHERE d.collection_id = ? AND d.id > ? ${all(where)} ORDER BY d.id LIMIT ?`;
    return (this.db.prepare(sql).all(collectionId, afterId, ...params(where), limit) as DocumentDbRow[]).map(toDocument);
  }

  /** Documents in first-written order (pk), skipping `offset`, that pass the filter. */
  slice(collectionId: number, offset: number, limit: number, where: SqlWhere | undefined): StoredDocument[] {
    const sql = `SELECT d.* FROM documents d WHERE d.collection_id = ? ${all(where)} ORDER BY d.pk LIMIT ? OFFSET ?`;
    return (this.db.prepare(sql).all(collectionId, ...params(where), limit, offset) as DocumentDbRow[]).map(toDocument);
  }

  /** pks of the documents with at least one vector that pass the filter, in pk order. */
  analysisPks(collectionId: number, where: SqlWhere | undefined): number[] {
    const sql = `SELECT d.pk FROM documents d WHERE d.collection_id = ? ${all(where)}
      AND EXISTS (SELECT 1 FROM chunks c WHERE c.document_pk = d.pk AND c.vector IS NOT NULL) ORDER BY d.pk`;
    return this.db
      .prepare(sql)
      .pluck()
      .all(collectionId, ...params(where)) as number[];
  }

  /** Id, text and mean chunk vector of the given documents, in the order given. */
  analysisDocuments(pks: number[], maxText: number): AnalysisDocument[] {
    const byPk = new Map<number, { id: string; text: string | null; sum: Float32Array | null; n: number }>();
    for (let i = 0; i < pks.length; i += 10_000) {
      const part = pks.slice(i, i + 10_000);
      const rows = this.db
        .prepare(
          `SELECT d.pk, d.id, substr(d.text, 1, ?) AS text, c.vector FROM documents d JOIN chunks c ON c.document_pk = d.pk
           WHERE c.vector IS NOT NULL AND d.pk IN (${part.map(() => '?').join(',')})`,
        )
        .all(maxText, ...part) as { pk: number; id: string; text: string | null; vector: Buffer }[];
      for (const r of rows) {
        const v = blobToVector(r.vector);
        const e = byPk.get(r.pk);
        if (!e) byPk.set(r.pk, { id: r.id, text: r.text, sum: v, n: 1 });
        else {
          for (let j = 0; j < v.length; j++) e.sum![j]! += v[j]!;
          e.n++;
        }
      }
    }
    const out: AnalysisDocument[] = [];
    for (const pk of pks) {
      const e = byPk.get(pk);
      if (!e?.sum) continue;
      if (e.n > 1) for (let j = 0; j < e.sum.length; j++) e.sum[j]! /= e.n;
      out.push({ id: e.id, text: e.text, vector: e.sum });
    }
    return out;
  }

  /**
   * Which of the metadata keys hold a value in some document of the collection, themselves or
   * below them as a dotted prefix ("metadata" for "metadata.source": nested payloads are stored
   * flattened). From the (key, value) index: each key costs one probe, not a scan of the documents.
   */
  keysPresent(collectionId: number, keys: string[]): Set<string> {
    const stmt = this.db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM metadata_values j JOIN documents d ON d.pk = j.document_pk WHERE j.key = ? AND d.collection_id = ?)
             OR EXISTS (SELECT 1 FROM metadata_values j JOIN documents d ON d.pk = j.document_pk WHERE j.key >= ? AND j.key < ? AND d.collection_id = ?)`,
      )
      .pluck();
    // "/" follows "." in every collation SQLite uses here (BINARY): [key + ".", key + "/") is every key below `key`.
    return new Set(keys.filter((k) => stmt.get(k, collectionId, `${k}.`, `${k}/`, collectionId) === 1));
  }

  /** How many documents pass the filter. */
  countWhere(collectionId: number, where: SqlWhere | undefined): number {
    return this.db
      .prepare(`SELECT count(*) FROM documents d WHERE d.collection_id = ? ${all(where)}`)
      .pluck()
      .get(collectionId, ...params(where)) as number;
  }

  /** Ids of the documents that pass the filter (for delete-by-filter). */
  idsWhere(collectionId: number, where: SqlWhere | undefined): string[] {
    return this.db
      .prepare(`SELECT d.id FROM documents d WHERE d.collection_id = ? ${all(where)}`)
      .pluck()
      .all(collectionId, ...params(where)) as string[];
  }

  /** Deletes documents in one transaction (each delete is a savepoint inside it); returns the merged index changes. */
  deleteMany(collectionId: number, ids: string[]): { deleted: number; changes: IndexChanges } {
    return this.db.transaction(() => {
      const merged: IndexChanges = { seq: 0, adds: [], deletes: [] };
      let deleted = 0;
      for (const id of ids) {
        const ch = this.docs.delete(collectionId, id);
        if (!ch) continue;
        deleted++;
        merged.seq = Math.max(merged.seq, ch.seq);
        merged.deletes.push(...ch.deletes);
      }
      return { deleted, changes: merged };
    })();
  }
}
