-- Quiver's first schema. SQLite is the source of truth: vectors live here as float32 BLOBs and
-- the HNSW files are derived from these rows (see src/index).

CREATE TABLE collections (
  id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so stale index files never match a new collection
  name        TEXT    NOT NULL UNIQUE,
  metric      TEXT    NOT NULL CHECK (metric IN ('cosine', 'l2', 'ip')),
  dimension   INTEGER NOT NULL CHECK (dimension > 0),
  embedder    TEXT    NOT NULL,                  -- JSON {provider, model?}
  hnsw        TEXT    NOT NULL,                  -- JSON {m, ef_construction}
  seq         INTEGER NOT NULL DEFAULT 0,        -- sequence number of the last write that touched vectors
  created_at  TEXT    NOT NULL
);

CREATE TABLE documents (
  pk            INTEGER PRIMARY KEY AUTOINCREMENT,
  collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  id            TEXT    NOT NULL,                -- the client's id
  text          TEXT,
  metadata      TEXT    NOT NULL DEFAULT '{}',   -- JSON object
  content_hash  TEXT    NOT NULL,                -- sha256 of what was embedded: unchanged content is never embedded twice
  created_at    TEXT    NOT NULL,
  updated_at    TEXT    NOT NULL,
  UNIQUE (collection_id, id)
);

-- A document has one or more chunks; the index holds chunk vectors, labelled by chunk id.
CREATE TABLE chunks (
  id            INTEGER PRIMARY KEY AUTOINCREMENT, -- the HNSW label; AUTOINCREMENT so a label is never reused
  collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  document_pk   INTEGER NOT NULL REFERENCES documents (pk) ON DELETE CASCADE,
  chunk_index   INTEGER NOT NULL,
  start_offset  INTEGER NOT NULL DEFAULT 0,     -- the chunk is documents.text[start_offset, end_offset)
  end_offset    INTEGER NOT NULL DEFAULT 0,
  vector        BLOB,                           -- float32 little-endian; NULL when the text had nothing to embed
  seq           INTEGER NOT NULL,               -- collection sequence number of the write that added it
  UNIQUE (document_pk, chunk_index)
);
CREATE INDEX chunks_by_seq ON chunks (collection_id, seq);

-- Deleted chunk ids, kept until an index snapshot newer than them is on disk, so a restart can
-- replay deletes into an older snapshot.
CREATE TABLE tombstones (
  collection_id INTEGER NOT NULL,
  chunk_id      INTEGER NOT NULL,
  seq           INTEGER NOT NULL,
  PRIMARY KEY (collection_id, chunk_id)
) WITHOUT ROWID;
CREATE INDEX tombstones_by_seq ON tombstones (collection_id, seq);

-- Embeddings by (model, sha256(text)): the same text is never embedded twice by the same model.
CREATE TABLE embedding_cache (
  model_id    TEXT    NOT NULL,
  text_sha256 BLOB    NOT NULL,
  vector      BLOB    NOT NULL,
  used_at     INTEGER NOT NULL,
  PRIMARY KEY (model_id, text_sha256)
) WITHOUT ROWID;
CREATE INDEX embedding_cache_by_use ON embedding_cache (used_at);
