-- Keyword search per collection (issue 14). FTS5 keeps one set of BM25 statistics per table, so
-- with every collection in one table a collection's scores depended on the others' contents.
-- BM25 is now computed in src/storage/search.ts from per-collection statistics kept here:
--   chunk_terms       how many terms each chunk's text has (its BM25 length), with its collection;
--   collection_terms  per collection: chunks with text and their total terms (N and the average length);
--   chunks_fts_terms  the index's postings (term, chunk, position) through fts5vocab, for term
--                     frequencies and per-collection document frequencies.
-- The index now holds normalised terms (quiver_fts_text: CJK segmented by jieba, case-folded,
-- diacritics removed, English words Porter-stemmed), so it is rebuilt from the documents.
DROP TRIGGER chunks_fts_insert;
DROP TRIGGER chunks_fts_delete;
DROP TRIGGER documents_fts_text;
DROP TABLE chunks_fts;

CREATE VIRTUAL TABLE chunks_fts USING fts5 (
  body,
  content = '',
  contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE chunks_fts_terms USING fts5vocab (chunks_fts, instance);

CREATE TABLE chunk_terms (
  chunk_id      INTEGER PRIMARY KEY,
  collection_id INTEGER NOT NULL,
  terms         INTEGER NOT NULL
);

CREATE TABLE collection_terms (
  collection_id INTEGER PRIMARY KEY,
  chunks        INTEGER NOT NULL,
  terms         INTEGER NOT NULL
);

CREATE TRIGGER chunk_terms_insert AFTER INSERT ON chunk_terms BEGIN
  INSERT INTO collection_terms (collection_id, chunks, terms) VALUES (new.collection_id, 1, new.terms)
  ON CONFLICT (collection_id) DO UPDATE SET chunks = chunks + 1, terms = terms + excluded.terms;
END;

CREATE TRIGGER chunk_terms_delete AFTER DELETE ON chunk_terms BEGIN
  UPDATE collection_terms SET chunks = chunks - 1, terms = terms - old.terms WHERE collection_id = old.collection_id;
END;

-- quiver_fts_count is the number of terms quiver_fts_text writes for the same text (one memo in
-- src/text/segment.ts serves both calls).
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts (rowid, body)
  SELECT new.id, quiver_fts_text(CASE WHEN new.end_offset > new.start_offset
                                      THEN substr(d.text, new.start_offset + 1, new.end_offset - new.start_offset)
                                      ELSE d.text END)
  FROM documents d WHERE d.pk = new.document_pk AND d.text IS NOT NULL;
  INSERT INTO chunk_terms (chunk_id, collection_id, terms)
  SELECT new.id, new.collection_id, quiver_fts_count(CASE WHEN new.end_offset > new.start_offset
                                      THEN substr(d.text, new.start_offset + 1, new.end_offset - new.start_offset)
                                      ELSE d.text END)
  FROM documents d WHERE d.pk = new.document_pk AND d.text IS NOT NULL;
END;

CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
  DELETE FROM chunks_fts WHERE rowid = old.id;
  DELETE FROM chunk_terms WHERE chunk_id = old.id;
END;

-- A writer that changes a document's text after inserting its chunks still leaves the index right.
CREATE TRIGGER documents_fts_text AFTER UPDATE OF text ON documents BEGIN
  DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE document_pk = new.pk);
  DELETE FROM chunk_terms WHERE chunk_id IN (SELECT id FROM chunks WHERE document_pk = new.pk);
  INSERT INTO chunks_fts (rowid, body)
  SELECT c.id, quiver_fts_text(CASE WHEN c.end_offset > c.start_offset
                                    THEN substr(new.text, c.start_offset + 1, c.end_offset - c.start_offset)
                                    ELSE new.text END)
  FROM chunks c WHERE c.document_pk = new.pk AND new.text IS NOT NULL;
  INSERT INTO chunk_terms (chunk_id, collection_id, terms)
  SELECT c.id, c.collection_id, quiver_fts_count(CASE WHEN c.end_offset > c.start_offset
                                    THEN substr(new.text, c.start_offset + 1, c.end_offset - c.start_offset)
                                    ELSE new.text END)
  FROM chunks c WHERE c.document_pk = new.pk AND new.text IS NOT NULL;
END;

-- Existing chunks: each text normalised once (a term is a run without spaces, so the count is
-- the number of spaces plus one), then written to the index and to the statistics.
CREATE TEMP TABLE chunk_terms_rebuild AS
SELECT c.id, c.collection_id, quiver_fts_text(CASE WHEN c.end_offset > c.start_offset
                                                THEN substr(d.text, c.start_offset + 1, c.end_offset - c.start_offset)
                                                ELSE d.text END) AS body
FROM chunks c JOIN documents d ON d.pk = c.document_pk WHERE d.text IS NOT NULL;

INSERT INTO chunks_fts (rowid, body) SELECT id, body FROM chunk_terms_rebuild;
INSERT INTO chunk_terms (chunk_id, collection_id, terms)
SELECT id, collection_id, CASE WHEN body = '' THEN 0 ELSE length(body) - length(replace(body, ' ', '')) + 1 END FROM chunk_terms_rebuild;
DROP TABLE temp.chunk_terms_rebuild;
