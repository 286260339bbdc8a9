-- Keyword search: an FTS5 index over chunk text, kept in step with `chunks` by triggers, so every
-- writer (upsert, ingest jobs, deletes, collection drops by cascade) updates it in its own
-- transaction. The text is stored segmented (quiver_fts_text, a JS function registered on every
-- connection: CJK runs split into words by jieba); the index is contentless, because the text
-- already lives in `documents`. rowid = chunks.id, the same label the vector index uses.
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
  body,
  content = '',
  contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts (rowid, body)
  SELECT new.id, quiver_fts_text(CASE WHEN new.end_offset > new.start_offset
                                      THEN substr(d.text, new.start_offset + 1, new.end_offset - new.start_offset)
                                      ELSE d.text END)
  FROM documents d WHERE d.pk = new.document_pk AND d.text IS NOT NULL;
END;

CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
  DELETE FROM chunks_fts WHERE rowid = old.id;
END;

-- A writer that changes a document's text after inserting its chunks still leaves the index right.
CREATE TRIGGER documents_fts_text AFTER UPDATE OF text ON documents BEGIN
  DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE document_pk = new.pk);
  INSERT INTO chunks_fts (rowid, body)
  SELECT c.id, quiver_fts_text(CASE WHEN c.end_offset > c.start_offset
                                    THEN substr(new.text, c.start_offset + 1, c.end_offset - c.start_offset)
                                    ELSE new.text END)
  FROM chunks c WHERE c.document_pk = new.pk AND new.text IS NOT NULL;
END;

INSERT INTO chunks_fts (rowid, body)
SELECT c.id, quiver_fts_text(CASE WHEN c.end_offset > c.start_offset
                                  THEN substr(d.text, c.start_offset + 1, c.end_offset - c.start_offset)
                                  ELSE d.text END)
FROM chunks c JOIN documents d ON d.pk = c.document_pk WHERE d.text IS NOT NULL;
