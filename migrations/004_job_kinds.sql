-- Jobs of another kind than ingest: clustering a large collection runs as a job too
-- (src/ingest/jobs.ts runs them; GET /v1/jobs/{id} returns the result). Such a job has no items:
-- `params` holds its request, `result` its answer once done; a job interrupted by a restart is
-- run again from the start (it writes nothing but its result).
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'ingest' CHECK (kind IN ('ingest', 'cluster'));
ALTER TABLE jobs ADD COLUMN params TEXT;
ALTER TABLE jobs ADD COLUMN result TEXT;
CREATE INDEX jobs_by_kind_status ON jobs (kind, status, created_at);
