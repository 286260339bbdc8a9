-- Collections as other HTTP surfaces know them (api/chroma): every collection gets a stable
-- UUID (Chroma names collections by id) and a JSON object of surface attributes (Chroma's
-- collection metadata and configuration), and a surface may announce a collection before its
-- dimension is known: a pending collection holds its name and UUID until the first write fixes
-- the dimension and makes it a collection row with the same UUID (src/storage/catalog.ts).

ALTER TABLE collections ADD COLUMN uuid TEXT;
ALTER TABLE collections ADD COLUMN surface TEXT NOT NULL DEFAULT '{}';

-- A random (version 4) UUID per existing collection.
UPDATE collections SET uuid = lower(
  hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
  substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))
) WHERE uuid IS NULL;
CREATE UNIQUE INDEX collections_by_uuid ON collections (uuid);

CREATE TABLE pending_collections (
  uuid       TEXT NOT NULL PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  surface    TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL
) WITHOUT ROWID;
