-- Image documents (issue 16, part 3). An image is stored once, keyed by the sha-256 of its bytes,
-- however many documents (in any collection) carry it; a document names its image by that key.
-- A document with an image gets one extra chunk whose vector is the image's (chunks.modality):
-- that chunk has no text of its own, so it gets no keyword (FTS) row.
CREATE TABLE images (
  sha256 TEXT    PRIMARY KEY,                      -- hex sha-256 of the bytes
  mime   TEXT    NOT NULL CHECK (mime IN ('image/png', 'image/jpeg')),
  bytes  BLOB    NOT NULL
);

ALTER TABLE documents ADD COLUMN image_sha256 TEXT REFERENCES images (sha256);
CREATE INDEX documents_by_image ON documents (image_sha256) WHERE image_sha256 IS NOT NULL;

ALTER TABLE chunks ADD COLUMN modality TEXT NOT NULL DEFAULT 'text' CHECK (modality IN ('text', 'image'));

-- An image no document names any more is deleted with the last reference (a document deleted,
-- directly or by its collection's cascade, or given another image or none).
CREATE TRIGGER images_release_on_delete AFTER DELETE ON documents WHEN old.image_sha256 IS NOT NULL BEGIN
  DELETE FROM images WHERE sha256 = old.image_sha256
    AND NOT EXISTS (SELECT 1 FROM documents WHERE image_sha256 = old.image_sha256);
END;
CREATE TRIGGER images_release_on_update AFTER UPDATE OF image_sha256 ON documents
WHEN old.image_sha256 IS NOT NULL AND old.image_sha256 IS NOT new.image_sha256 BEGIN
  DELETE FROM images WHERE sha256 = old.image_sha256
    AND NOT EXISTS (SELECT 1 FROM documents WHERE image_sha256 = old.image_sha256);
END;

-- The keyword triggers of 008, now skipping image chunks (their text would be the whole caption again).
DROP TRIGGER chunks_fts_insert;
DROP TRIGGER documents_fts_text;

CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks WHEN new.modality = 'text' BEGIN
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

CREATE TRIGGER documents_fts_text AFTER UPDATE OF text ON documents BEGIN
  DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE document_pk = new.pk);
  DELETE FROM chunk_terms WHERE chunk_id IN (SELECT id FROM chunks WHERE document_pk = new.pk);
  INSERT INTO chunks_fts (rowid, body)
  SELECT c.id, quiver_fts_text(CASE WHEN c.end_offset > c.start_offset
                                    THEN substr(new.text, c.start_offset + 1, c.end_offset - c.start_offset)
                                    ELSE new.text END)
  FROM chunks c WHERE c.document_pk = new.pk AND c.modality = 'text' AND new.text IS NOT NULL;
  INSERT INTO chunk_terms (chunk_id, collection_id, terms)
  SELECT c.id, c.collection_id, quiver_fts_count(CASE WHEN c.end_offset > c.start_offset
                                    THEN substr(new.text, c.start_offset + 1, c.end_offset - c.start_offset)
                                    ELSE new.text END)
  FROM chunks c WHERE c.document_pk = new.pk AND c.modality = 'text' AND new.text IS NOT NULL;
END;
