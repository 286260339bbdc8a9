// `quiver check --data-dir <dir>`: verifies a data dir offline (no server running on it) and says
// what a server starting on it would rebuild. quiver.db is opened read-only and never migrated
// (src/storage/inspect.ts: SQLite's integrity and foreign-key checks, the schema version, counts
// and labels); each collection's index snapshot is judged by src/index/verify-snapshot.ts. Prints
// a table, or the whole report as JSON with --json. Exit codes: 0 everything usable as is, 1 an
// index would be rebuilt or the database has a problem (or is missing while snapshots exist),
// 2 usage errors (bad arguments, no such dir, a dir that is not a data dir).
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { DatabaseInspector, knownSchemaVersion, type InspectedCollection } from '../storage/index.js';
import { listSnapshotFiles, snapshotBase, verifySnapshot, type SnapshotVerdict } from '../index/index.js';
import { UsageError, runCommand, usageErrorsExit2 } from './command.js';

interface CheckOptions {
  dataDir: string;
  json?: boolean;
}

export interface CollectionReport {
  id: number;
  name: string;
  metric: string;
  dimension: number;
  m: number | null;
  ef_construction: number | null;
  seq: number;
  documents: number;
  chunks: number;
  vectors: number;
  /** Chunks whose vector is not `dimension` float32s. */
  bad_vectors: number;
  snapshot: {
    /** load: used as is (plus replay); empty: nothing to index; rebuild: rebuilt from SQLite; unchecked: the check itself failed. */
    action: 'load' | 'empty' | 'rebuild' | 'unchecked';
    seq: number | null;
    replayed_writes: number | null;
    replayed_adds: number | null;
    replayed_deletes: number | null;
    problem: string | null;
    reason: string | null;
  };
  /** The table's last column: "ok (...)" or "would rebuild from SQLite: <reason>". */
  status: string;
}

export interface CheckReport {
  data_dir: string;
  /** Everything usable as is: exit status 0. */
  ok: boolean;
  database: {
    file: string;
    present: boolean;
    bytes: number | null;
    /** Bytes in quiver.db-wal before the check opened the database: commits not yet checkpointed. */
    wal_bytes: number | null;
    schema_version: number | null;
    known_schema_version: number;
    /** SQLite's integrity_check: ["ok"] when sound; null when not run. */
    integrity: string[] | null;
    foreign_key_violations: number | null;
  };
  collections: CollectionReport[];
  /** Snapshot files in indexes/ of collection ids quiver.db does not have. */
  orphan_snapshots: { id: number; files: string[] }[];
  /** What makes the exit status 1. */
  problems: string[];
  /** Worth knowing, changes nothing. */
  notes: string[];
}

export function checkCommand(): Command {
  const cmd = new Command('check')
    .description('verify a data dir offline (the server must not be running on it) and say what a server starting on it would rebuild')
    .requiredOption('--data-dir <dir>', 'the data dir to check (it holds quiver.db and indexes/)')
    .option('--json', 'print the report as JSON');
  return usageErrorsExit2(cmd)
    .addHelpText(
      'after',
      `
Reads quiver.db read-only (SQLite's integrity and foreign-key checks, schema version, counts) and
checks each collection's index snapshot in indexes/: manifest, checksums, parameters, hnswlib's
reading and the labels against SQLite. Nothing in the dir is changed.
Exit status: 0 everything usable as is, 1 an index would be rebuilt from SQLite or the database
has a problem (or is missing while snapshots exist), 2 bad arguments or not a data dir.`,
    )
    .action((opts: CheckOptions) =>
      runCommand('check', async () => {
        const report = await checkDataDir(opts.dataDir);
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
        return report.ok ? 0 : 1;
      }),
    );
}

const fileSize = (file: string): number | null => {
  try {
    return fs.statSync(file).size;
  } catch {
    return null;
  }
};

const idList = (ids: number[]) => ids.map((id) => `c${id}`).join(', ');

/** Checks a data dir; throws UsageError when `dataDir` is not one. */
export async function checkDataDir(dataDir: string): Promise<CheckReport> {
  const dir = path.resolve(dataDir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch (err) {
    throw new UsageError(`data dir ${dir} does not exist (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!stat.isDirectory()) throw new UsageError(`data dir ${dir} is not a directory`);

  const indexDir = path.join(dir, 'indexes');
  const dbFile = path.join(dir, 'quiver.db');
  const report: CheckReport = {
    data_dir: dir,
    ok: false,
    database: {
      file: dbFile,
      present: false,
      bytes: fileSize(dbFile),
      wal_bytes: fileSize(`${dbFile}-wal`),
      schema_version: null,
      known_schema_version: knownSchemaVersion(),
      integrity: null,
      foreign_key_violations: null,
    },
    collections: [],
    orphan_snapshots: [],
    problems: [],
    notes: [],
  };
  report.database.present = report.database.bytes !== null;

  // Finished snapshot files only: a .tmp is a save that never completed, which no server reads.
  let snapshots: Map<number, string[]>;
  try {
    snapshots = new Map(
      [...listSnapshotFiles(indexDir)]
        .map(([id, files]) => [id, files.filter((f) => !f.endsWith('.tmp'))] as const)
        .filter(([, files]) => files.length > 0),
    );
  } catch (err) {
    report.problems.push(`cannot list ${indexDir}: ${(err as Error).message}`);
    snapshots = new Map();
  }
  const snapshotIds = [...snapshots.keys()].sort((a, b) => a - b);

  if (!report.database.present) {
    if (snapshotIds.length === 0) {
      throw new UsageError(`${dir} is not a Quiver data dir: it holds neither quiver.db nor index snapshots (indexes/c<id>.*)`);
    }
    report.orphan_snapshots = snapshotIds.map((id) => ({ id, files: snapshots.get(id) ?? [] }));
    report.problems.push(
      `quiver.db is MISSING: ${dbFile} does not exist, but ${indexDir} holds snapshots of ${snapshotIds.length} collection(s) (${idList(snapshotIds)}). ` +
        'A server started on this dir would create an empty database and serve none of them (a snapshot is useless without the database). ' +
        'Restore quiver.db from a backup (quiver restore) before starting the server.',
    );
    return finish(report);
  }

  let inspector: DatabaseInspector;
  try {
    inspector = DatabaseInspector.open(dbFile);
  } catch (err) {
    report.problems.push(`cannot open ${dbFile} read-only: ${(err as Error).message}`);
    return finish(report);
  }
  try {
    await inspectDatabase(inspector, report, indexDir, snapshots);
  } finally {
    inspector.close();
  }
  return finish(report);
}

function finish(report: CheckReport): CheckReport {
  report.ok = report.problems.length === 0;
  return report;
}

async function inspectDatabase(db: DatabaseInspector, report: CheckReport, indexDir: string, snapshots: Map<number, string[]>): Promise<void> {
  const { file } = report.database;
  const snapshotIds = [...snapshots.keys()].sort((a, b) => a - b);
  if ((report.database.wal_bytes ?? 0) > 0) {
    report.notes.push(
      `quiver.db-wal holds ${formatBytes(report.database.wal_bytes ?? 0)} of commits not yet checkpointed into quiver.db (the server did not stop cleanly, or is running now); they were read too`,
    );
  }
  let objects: number;
  try {
    objects = db.schemaObjectCount();
    report.database.integrity = db.integrityCheck();
  } catch (err) {
    report.problems.push(`${file} cannot be read as a SQLite database: ${(err as Error).message}`);
    return;
  }
  if (objects === 0) {
    if (snapshotIds.length > 0) {
      report.orphan_snapshots = snapshotIds.map((id) => ({ id, files: snapshots.get(id) ?? [] }));
      report.problems.push(
        `quiver.db is EMPTY (${formatBytes(report.database.bytes ?? 0)}, no tables), but ${indexDir} holds snapshots of ${snapshotIds.length} collection(s) (${idList(snapshotIds)}). ` +
          'A server started on this dir would create the schema and serve none of them. Restore quiver.db from a backup (quiver restore) before starting the server.',
      );
    } else {
      report.notes.push('quiver.db is empty (no tables): a server would create the schema on its first start');
    }
    return;
  }
  const integrity = report.database.integrity;
  if (integrity.length !== 1 || integrity[0] !== 'ok') {
    report.problems.push(`SQLite's integrity check fails on quiver.db (${integrity.length} message(s)): ${integrity.slice(0, 3).join('; ')}`);
  }
  const violations = db.foreignKeyViolations();
  report.database.foreign_key_violations = violations.length;
  if (violations.length > 0) {
    const v = violations[0]!;
    report.problems.push(`quiver.db has ${violations.length} foreign key violation(s), e.g. ${v.table} row ${String(v.rowid)} points to a missing ${v.parent} row`);
  }
  const version = db.schemaVersion();
  report.database.schema_version = version;
  const known = report.database.known_schema_version;
  if (version === null) {
    report.problems.push('quiver.db has no schema_migrations rows: it is not a database a Quiver server created (or its schema was never completed)');
    return;
  }
  if (version < known) report.notes.push(`quiver.db has schema version ${version}; a server of this version applies migrations up to ${known} on its next start`);
  if (version > known) report.notes.push(`quiver.db has schema version ${version}, newer than this quiver knows (${known}): check it with a newer quiver`);

  let collections: InspectedCollection[];
  try {
    collections = db.collections();
  } catch (err) {
    report.problems.push(`cannot read the collections of quiver.db: ${(err as Error).message}`);
    return;
  }
  for (const c of collections) {
    const label = `collection "${c.name}" (id ${c.id})`;
    if (c.rowProblem) report.problems.push(`${label}: ${c.rowProblem}`);
    if (c.badVectors > 0) {
      report.problems.push(`${label}: ${c.badVectors} chunk(s) hold a vector that is not ${c.dimension} float32s; rebuilding its index from SQLite would fail on them`);
    }
    let verdict: SnapshotVerdict | { action: 'unchecked'; reason: string };
    try {
      verdict = await verifySnapshot(
        snapshotBase(indexDir, c.id),
        { dimension: c.dimension, metric: c.metric, params: c.hnsw, seq: c.seq, vectors: c.vectors },
        {
          liveLabels: () => db.liveLabels(c.id),
          addedAfter: (seq) => db.labelsAddedAfter(c.id, seq),
          deletedAfter: (seq) => db.labelsDeletedAfter(c.id, seq),
        },
      );
    } catch (err) {
      verdict = { action: 'unchecked', reason: `the check failed: ${(err as Error).message}` };
    }
    const entry = collectionReport(c, verdict);
    report.collections.push(entry);
    if (verdict.action === 'rebuild' || verdict.action === 'unchecked') report.problems.push(`${label}: ${entry.status}`);
  }

  // Snapshots of ids the database does not have. AUTOINCREMENT never hands an id out twice, so an
  // id above the highest ever handed out means quiver.db is not the database that wrote it.
  const known_ids = new Set(collections.map((c) => c.id));
  const orphans = snapshotIds.filter((id) => !known_ids.has(id));
  report.orphan_snapshots = orphans.map((id) => ({ id, files: snapshots.get(id) ?? [] }));
  const maxId = db.maxCollectionId();
  const foreign = orphans.filter((id) => id > maxId);
  const leftovers = orphans.filter((id) => id <= maxId);
  if (foreign.length > 0) {
    report.problems.push(
      maxId === 0
        ? `quiver.db has never had a collection, but ${indexDir} holds snapshots of ${foreign.length} collection(s) (${idList(foreign)}): ` +
            'the database looks lost and recreated empty; a server serves none of them. Restore quiver.db from a backup (quiver restore).'
        : `${indexDir} holds snapshots of collection id(s) ${idList(foreign)} that quiver.db never had (its ids go up to ${maxId}): ` +
            'quiver.db is older than those snapshots or is not the database that wrote them; a server ignores them.',
    );
  }
  if (leftovers.length > 0) {
    report.notes.push(`${indexDir} holds files of deleted collection(s) (${idList(leftovers)}): a server ignores them; they can be removed`);
  }
}

function collectionReport(c: InspectedCollection, v: SnapshotVerdict | { action: 'unchecked'; reason: string }): CollectionReport {
  const snapshot: CollectionReport['snapshot'] = {
    action: v.action,
    seq: null,
    replayed_writes: null,
    replayed_adds: null,
    replayed_deletes: null,
    problem: null,
    reason: null,
  };
  let status: string;
  switch (v.action) {
    case 'load':
      Object.assign(snapshot, { seq: v.seq, replayed_writes: v.replayedWrites, replayed_adds: v.replayedAdds, replayed_deletes: v.replayedDeletes });
      status = `ok (snapshot seq ${v.seq}, replays ${v.replayedWrites} write${v.replayedWrites === 1 ? '' : 's'})`;
      break;
    case 'empty':
      snapshot.reason = v.note;
      status = `ok (${v.note})`;
      break;
    case 'rebuild':
      Object.assign(snapshot, { seq: v.seq ?? null, problem: v.problem, reason: v.reason });
      status = `would rebuild from SQLite: ${v.reason}`;
      break;
    case 'unchecked':
      snapshot.reason = v.reason;
      status = `not checked: ${v.reason}`;
      break;
  }
  return {
    id: c.id,
    name: c.name,
    metric: c.metric,
    dimension: c.dimension,
    m: c.hnsw?.m ?? null,
    ef_construction: c.hnsw?.efConstruction ?? null,
    seq: c.seq,
    documents: c.documents,
    chunks: c.chunks,
    vectors: c.vectors,
    bad_vectors: c.badVectors,
    snapshot,
    status,
  };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Left-aligned text columns, right-aligned number columns; the last column is not padded. */
function table(header: string[], rows: string[][], numeric: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function renderReport(r: CheckReport): string {
  const out: string[] = [`data dir  ${r.data_dir}`];
  const d = r.database;
  if (!d.present) {
    out.push('database  quiver.db MISSING');
  } else {
    const parts = [`quiver.db, ${formatBytes(d.bytes ?? 0)}`];
    if (d.schema_version !== null) parts.push(`schema version ${d.schema_version}`);
    if (d.integrity) parts.push(`integrity ${d.integrity.length === 1 && d.integrity[0] === 'ok' ? 'ok' : 'FAILED'}`);
    if (d.foreign_key_violations !== null) parts.push(`foreign keys ${d.foreign_key_violations === 0 ? 'ok' : `${d.foreign_key_violations} violation(s)`}`);
    out.push(`database  ${parts.join(', ')}`);
  }
  if (r.collections.length > 0) {
    out.push('');
    out.push(
      table(
        ['collection', 'id', 'documents', 'chunks', 'vectors', 'seq', 'index'],
        r.collections.map((c) => [c.name, String(c.id), String(c.documents), String(c.chunks), String(c.vectors), String(c.seq), c.status]),
        [false, true, true, true, true, true, false],
      ),
    );
  } else if (d.schema_version !== null) {
    out.push('', 'no collections');
  }
  if (r.notes.length > 0) out.push('', ...r.notes.map((n) => `note: ${n}`));
  if (r.problems.length > 0) out.push('', ...r.problems.map((p) => `PROBLEM: ${p}`));
  const rebuilds = r.collections.filter((c) => c.snapshot.action === 'rebuild').length;
  out.push(
    '',
    r.ok
      ? 'ok: everything is usable as is'
      : `${r.problems.length} problem(s)${rebuilds > 0 ? `; a server starting now would rebuild ${rebuilds} index(es) from SQLite` : ''}`,
  );
  return `${out.join('\n')}\n`;
}
