-- Metadata values as rows, so filters are answered from an index instead of parsing every
-- document's metadata JSON (src/query/filter.ts). One row per scalar value of a top-level key,
-- one per element when the value is an array: exactly what json_each(metadata, '$."key"')
-- yields, so a filter means the same through either. Kept by triggers in the same transaction
-- as the document write; deleted with the document (cascade).
CREATE TABLE metadata_values (
  document_pk INTEGER NOT NULL REFERENCES documents (pk) ON DELETE CASCADE,
  key         TEXT    NOT NULL,
  type        TEXT    NOT NULL,  -- json_each's type: text, integer, real, true, false
  value                          -- no declared type: stored as json_each gives it (integer, real, text)
);
CREATE INDEX metadata_values_by_key ON metadata_values (key, value);
CREATE INDEX metadata_values_by_document ON metadata_values (document_pk);

-- The rows a document's metadata stands for; the one definition the triggers and the backfill use.
CREATE VIEW metadata_value_rows AS
  SELECT d.pk AS document_pk, k.key, k.type, k.atom AS value
    FROM documents d, json_each(d.metadata) k WHERE k.type NOT IN ('array', 'object', 'null')
  UNION ALL
  SELECT d.pk, k.key, e.type, e.atom
    FROM documents d, json_each(d.metadata) k, json_each(k.value) e
    WHERE k.type = 'array' AND e.type NOT IN ('array', 'object', 'null');

CREATE TRIGGER documents_metadata_insert AFTER INSERT ON documents BEGIN
  INSERT INTO metadata_values (document_pk, key, type, value)
    SELECT document_pk, key, type, value FROM metadata_value_rows WHERE document_pk = new.pk;
END;

CREATE TRIGGER documents_metadata_update AFTER UPDATE OF metadata ON documents BEGIN
  DELETE FROM metadata_values WHERE document_pk = old.pk;
  INSERT INTO metadata_values (document_pk, key, type, value)
    SELECT document_pk, key, type, value FROM metadata_value_rows WHERE document_pk = new.pk;
END;

-- Documents written before this migration.
INSERT INTO metadata_values (document_pk, key, type, value) SELECT document_pk, key, type, value FROM metadata_value_rows;
