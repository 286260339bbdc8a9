-- Cluster mode (issue 17, docs/cluster.md): the last sequence of a collection's JetStream stream
-- that this node applied. Written in the same transaction as the documents of that message, so
-- after a crash the database holds a batch and its sequence or neither (exactly-once apply). One
-- row per collection, gone with it: a collection created again has a new stream and starts at 0.
CREATE TABLE cluster_applied (
  collection_id INTEGER PRIMARY KEY REFERENCES collections (id) ON DELETE CASCADE,
  stream        TEXT    NOT NULL,
  seq           INTEGER NOT NULL CHECK (seq >= 0)
);
