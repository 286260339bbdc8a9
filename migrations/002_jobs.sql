-- Durable ingest jobs (src/storage/jobs.ts) and the collection-level chunking default.
-- A job's documents are stored here as they arrived, one row per document, so the 202 answer
-- means nothing is lost if the process dies, memory stays bounded whatever the queue length,
-- and a restarted job resumes at the first document not yet committed.

CREATE TABLE jobs (
  id            TEXT    PRIMARY KEY,              -- "job_" + random hex, not guessable from another job's id
  collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  status        TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  chunking      TEXT,                             -- JSON ChunkingSpec given with the job; NULL: the collection's default
  total         INTEGER NOT NULL,
  done          INTEGER NOT NULL DEFAULT 0,       -- documents committed (written or unchanged)
  skipped       INTEGER NOT NULL DEFAULT 0,       -- of done: unchanged content, nothing embedded
  failed        INTEGER NOT NULL DEFAULT 0,
  error         TEXT,                             -- why the whole job failed
  created_at    TEXT    NOT NULL,
  started_at    TEXT,
  finished_at   TEXT
);
CREATE INDEX jobs_by_status ON jobs (status, created_at);
CREATE INDEX jobs_by_collection ON jobs (collection_id, created_at);

CREATE TABLE job_items (
  job_id    TEXT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,                     -- order in the request
  document  TEXT,                                 -- JSON of the input document; NULL once committed
  state     TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'skipped', 'failed')),
  doc_id    TEXT    NOT NULL,
  error     TEXT,
  PRIMARY KEY (job_id, position)
) WITHOUT ROWID;
CREATE INDEX job_items_pending ON job_items (job_id, state, position);

ALTER TABLE collections ADD COLUMN chunking TEXT; -- JSON ChunkingSpec; NULL: the server default
