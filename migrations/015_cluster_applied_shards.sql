-- Cluster mode with shards (issue 17, docs/cluster.md "Sharding"): a replica applies each shard it
-- holds of a collection with its own consumer (one filter subject per consumer on nats-server
-- 2.9), so the last applied sequence is per (collection, shard). Sequences stay the stream's,
-- global to the collection. An unsharded collection is shard 0; existing rows become that.
CREATE TABLE cluster_applied_by_shard (
  collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  shard         INTEGER NOT NULL CHECK (shard >= 0),
  stream        TEXT    NOT NULL,
  seq           INTEGER NOT NULL CHECK (seq >= 0),
  PRIMARY KEY (collection_id, shard)
);
INSERT INTO cluster_applied_by_shard (collection_id, shard, stream, seq) SELECT collection_id, 0, stream, seq FROM cluster_applied;
DROP TABLE cluster_applied;
ALTER TABLE cluster_applied_by_shard RENAME TO cluster_applied;
