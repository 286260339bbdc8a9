-- Jobs whose documents are still arriving: a streamed NDJSON ingest, or a JSON one recorded in
-- slices (src/ingest/intake.ts). Status 'receiving' is neither runnable nor shown by the API; it
-- becomes 'queued' once the whole request is recorded, and the job is deleted when the request
-- fails or is cut off, or at start-up when a crash left it behind.
-- SQLite cannot change a CHECK constraint in place, so jobs is rebuilt, keeping each row's rowid
-- (it orders jobs created in the same millisecond), and job_items with it, so that its foreign
-- key names the new table. With foreign keys on, dropping the child table first keeps the drop
-- of the parent from cascading into rows that are being kept.
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
  kind          TEXT    NOT NULL DEFAULT 'ingest' CHECK (kind IN ('ingest', 'cluster')),
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
