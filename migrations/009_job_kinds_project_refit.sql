-- Two more kinds of task job: 'project' computes a 2-D map of a collection (UMAP is too slow for a
-- request on a large collection), 'refit' refits a dimensionality-reduced collection's projection
-- and rebuilds its index. The CHECK on kind names every kind the server can run, so a row
-- written by a newer server is refused by an older one instead of being picked up and dropped.
-- SQLite cannot change a CHECK in place: jobs and job_items are rebuilt as in 006, rowids kept.
CREATE TABLE jobs_new (
  id            TEXT    PRIMARY KEY,
  collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  status        TEXT    NOT NULL CHECK (status IN ('receiving', 'queued', 'running', 'done', 'failed', 'cancelled')),
  chunking      TEXT,
  total         INTEGER NOT NULL,
  done          INTEGER NOT NULL DEFAULT 0,
  skipped       INTEGER NOT NULL DEFAULT 0,
  failed        INTEGER NOT NULL DEFAULT 0,
  error         TEXT,
  created_at    TEXT    NOT NULL,
  started_at    TEXT,
  finished_at   TEXT,
  kind          TEXT    NOT NULL DEFAULT 'ingest' CHECK (kind IN ('ingest', 'cluster', 'project', 'refit')),
  params        TEXT,
  result        TEXT
);
INSERT INTO jobs_new (rowid, id, collection_id, status, chunking, total, done, skipped, failed, error, created_at, started_at, finished_at, kind, params, result)
  SELECT rowid, id, collection_id, status, chunking, total, done, skipped, failed, error, created_at, started_at, finished_at, kind, params, result FROM jobs;

CREATE TABLE job_items_new (
  job_id    TEXT    NOT NULL REFERENCES jobs_new (id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,                     -- increases with the order in the request (an NDJSON line number - 1)
  document  TEXT,
  state     TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'skipped', 'failed')),
  doc_id    TEXT    NOT NULL,
  error     TEXT,
  PRIMARY KEY (job_id, position)
) WITHOUT ROWID;
INSERT INTO job_items_new (job_id, position, document, state, doc_id, error)
  SELECT job_id, position, document, state, doc_id, error FROM job_items;

DROP TABLE job_items;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
ALTER TABLE job_items_new RENAME TO job_items;

CREATE INDEX jobs_by_status ON jobs (status, created_at);
CREATE INDEX jobs_by_collection ON jobs (collection_id, created_at);
CREATE INDEX jobs_by_kind_status ON jobs (kind, status, created_at);
CREATE INDEX job_items_pending ON job_items (job_id, state, position);
-- A stream finds an id it already received by looking it up here, instead of keeping every id in
-- memory. Not UNIQUE: rows written before this migration are not re-checked.
CREATE INDEX job_items_by_doc_id ON job_items (job_id, doc_id);
