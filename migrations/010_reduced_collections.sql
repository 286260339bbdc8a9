-- Dimensionality-reduced collections (issue 16, part 4; src/collection/reduce.ts). A collection
-- created with `reduce` has a row here: its settings and, once fitted, its PCA projection (mean
-- and components, float32 little-endian). chunks.vector always holds what the index holds: the
-- embedder's full vector until the projection is fitted, the projected one after. So the index
-- opens, replays and rebuilds from chunks exactly as for any other collection.
CREATE TABLE collection_reductions (
  collection_id INTEGER PRIMARY KEY REFERENCES collections (id) ON DELETE CASCADE,
  method        TEXT    NOT NULL CHECK (method IN ('pca')),
  dimensions    INTEGER NOT NULL CHECK (dimensions >= 2),
  fit_on        INTEGER NOT NULL CHECK (fit_on > dimensions),
  keep_full     INTEGER NOT NULL CHECK (keep_full IN (0, 1)),
  mean          BLOB,               -- NULL until fitted; then the embedder's dimension floats
  components    BLOB,               -- dimensions × the embedder's dimension floats, row-major
  explained     TEXT,               -- JSON: each component's fraction of the variance of the fit sample
  fitted_on     INTEGER,            -- vectors in the fit sample
  fitted_at     TEXT,
  fitted_seq    INTEGER             -- the collection seq of the fit: an index snapshot older than it holds other vectors
);

-- The embedder's vectors of a fitted collection with keep_full (what a refit is fitted on). One
-- row per chunk, gone with it.
CREATE TABLE full_vectors (
  chunk_id      INTEGER PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
  collection_id INTEGER NOT NULL,
  vector        BLOB    NOT NULL
);
CREATE INDEX full_vectors_by_collection ON full_vectors (collection_id);
