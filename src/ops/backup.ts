// Owns online backup and restore. A backup is a folder:
//   quiver.db          SQLite's online backup of the live database (a consistent copy while
//                      writes continue), switched to rollback-journal mode so it is one file
//   indexes/c<id>.*    each collection's index snapshot, taken before the database copy, so its
//                      seq is never ahead of the copy and a restored server replays the gap
//   backup.json        written last: what is inside, with the size and sha256 of every file
// It is written to a temporary folder beside the target and renamed at the end, so a folder with
// the target's name is always complete. Restore checks every checksum and SQLite's integrity
// check before anything lands in the data dir, and never overwrites an existing database.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { CollectionRegistry } from '../collection/index.js';
import { createError } from '../errors/index.js';
import type { Store } from '../storage/index.js';
import { checkDatabaseFile, insufficientStorage, outOfSpaceCode } from '../storage/index.js';
import { listFiles } from '../util/list-files.js';

const FORMAT = 1;
const MANIFEST = 'backup.json';

export interface BackupManifest {
  format: number;
  created_at: string;
  collections: { id: number; name: string; seq: number; documents: number; index_seq: number | null }[];
  files: { name: string; bytes: number; sha256: string }[];
}

export interface BackupResult {
  path: string;
  bytes: number;
  collections: number;
  documents: number;
  took_ms: number;
}

export interface BackupDeps {
  store: Store;
  collections: CollectionRegistry;
  log: Logger;
  /** Backups are written only inside this folder. */
  backupDir: string;
}

const running = new WeakSet<Store>();

function invalidPath(message: string) {
  return createError('VALIDATION_FAILED', { issues: [{ field: 'path', message }] });
}

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Control characters and lone UTF-16 surrogates have no faithful file name. */
function hasUnfaithfulCharacters(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (c >= 0xdc00 && c <= 0xdfff)) return true;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    }
  }
  return false;
}

/** NAME_MAX (255 bytes on Linux and macOS) less the 17 of ".partial-xxxxxxxx". */
const MAX_FOLDER_BYTES = 255 - 17;

/** The backup folder for a requested path: always inside backupDir, symlinks included. */
export function resolveBackupTarget(backupDir: string, requested: string | undefined): string {
  fs.mkdirSync(backupDir, { recursive: true });
  const root = fs.realpathSync(backupDir);
  const name = requested ?? `quiver-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  if (name.includes('\0')) throw invalidPath('must not contain NUL characters');
  if (hasUnfaithfulCharacters(name)) throw invalidPath('must not contain control characters or invalid Unicode');
  const target = path.resolve(root, name);
  if (!inside(root, target)) throw invalidPath(`must be a folder inside QUIVER_BACKUP_DIR (${root})`);
  // A longer folder name than the file system holds was a 500 (ENAMETOOLONG); the copy is first
  // written under the name plus ".partial-xxxxxxxx", so that has to fit too.
  if (path.relative(root, target).split(path.sep).some((folder) => Buffer.byteLength(folder) > MAX_FOLDER_BYTES)) {
    throw invalidPath(`each folder name must be at most ${MAX_FOLDER_BYTES} bytes (UTF-8)`);
  }
  // The nearest existing ancestor must also resolve inside: a symlink must not lead out.
  let probe = path.dirname(target);
  while (!fs.existsSync(probe)) probe = path.dirname(probe);
  const real = fs.realpathSync(probe);
  if (real !== root && !inside(root, real)) throw invalidPath(`must be a folder inside QUIVER_BACKUP_DIR (${root})`);
  return target;
}

async function sha256(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Writes an online backup of the running server. One at a time per store. */
export async function createBackup(deps: BackupDeps, requested?: string): Promise<BackupResult> {
  const { store, log } = deps;
  const target = resolveBackupTarget(deps.backupDir, requested);
  if (fs.existsSync(target) && (!fs.statSync(target).isDirectory() || fs.readdirSync(target).length > 0)) {
    throw createError('BACKUP_TARGET_EXISTS', { path: target });
  }
  if (running.has(store)) throw createError('BACKUP_IN_PROGRESS', {});
  running.add(store);
  const started = Date.now();
  const tmp = `${target}.partial-${crypto.randomBytes(4).toString('hex')}`;
  try {
    await fs.promises.mkdir(path.join(tmp, 'indexes'), { recursive: true });
    const indexSeqs = new Map<number, number | undefined>();
    for (const c of deps.collections.list()) {
      try {
        indexSeqs.set(c.info.id, await c.index.copySnapshot(path.join(tmp, 'indexes')));
      } catch (err) {
        // A missing snapshot costs the restored server a rebuild, not data: SQLite has every row.
        log.warn({ collection: c.name, err: (err as Error).message }, 'backup: index snapshot not copied; restore will rebuild it');
      }
    }
    // Taken after the snapshots, so a snapshot's seq is never ahead of the copy.
    const summary = await store.backupTo(path.join(tmp, 'quiver.db'));
    const collections: BackupManifest['collections'] = summary.collections.map((c) => ({ ...c, index_seq: indexSeqs.get(c.id) ?? null }));
    // Drop snapshots of collections the copy does not have (deleted during the backup).
    const ids = new Set(collections.map((c) => c.id));
    for (const f of await fs.promises.readdir(path.join(tmp, 'indexes'))) {
      const id = Number(/^c(\d+)\./.exec(f)?.[1]);
      if (!ids.has(id)) await fs.promises.rm(path.join(tmp, 'indexes', f));
    }

    const files: BackupManifest['files'] = [];
    for (const name of await listFiles(tmp)) {
      const file = path.join(tmp, name);
      files.push({ name, bytes: (await fs.promises.stat(file)).size, sha256: await sha256(file) });
    }
    const manifest: BackupManifest = { format: FORMAT, created_at: new Date().toISOString(), collections, files };
    await fs.promises.writeFile(path.join(tmp, MANIFEST), JSON.stringify(manifest, null, 2));
    if (fs.existsSync(target)) await fs.promises.rmdir(target); // an empty folder the caller made
    await fs.promises.rename(tmp, target);
    const result: BackupResult = {
      path: target,
      bytes: files.reduce((n, f) => n + f.bytes, 0),
      collections: collections.length,
      documents: collections.reduce((n, c) => n + c.documents, 0),
      took_ms: Date.now() - started,
    };
    log.info(result, 'backup written');
    return result;
  } catch (err) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    // Every write that can throw here is in the backup dir (a failed snapshot is only logged above).
    throw outOfSpaceCode(err) !== undefined ? insufficientStorage(err, 'backup dir') : err;
  } finally {
    running.delete(store);
  }
}

export class RestoreError extends Error {}

export interface RestoreResult {
  dataDir: string;
  collections: number;
  documents: number;
  files: number;
}

/** Copies a backup into a data dir that has no database yet, after checking every file. */
export async function restoreBackup(backupDir: string, dataDir: string): Promise<RestoreResult> {
  const src = path.resolve(backupDir);
  const dest = path.resolve(dataDir);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await fs.promises.readFile(path.join(src, MANIFEST), 'utf8')) as BackupManifest;
  } catch (err) {
    throw new RestoreError(`${src} is not a Quiver backup: cannot read ${MANIFEST} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (manifest.format !== FORMAT || !Array.isArray(manifest.files)) throw new RestoreError(`${MANIFEST}: unknown backup format ${String(manifest.format)}`);
  for (const f of manifest.files) {
    // The manifest is input too: its names must stay inside the backup and the data dir.
    if (!/^(quiver\.db|indexes\/c\d+\.(hnsw|labels|json))$/.test(f.name)) throw new RestoreError(`${MANIFEST}: unexpected file name ${JSON.stringify(f.name)}`);
    const file = path.join(src, f.name);
    let size: number;
    try {
      size = (await fs.promises.stat(file)).size;
    } catch {
      throw new RestoreError(`${f.name} is missing from the backup`);
    }
    if (size !== f.bytes || (await sha256(file)) !== f.sha256) throw new RestoreError(`${f.name} does not match its checksum: the backup is damaged`);
  }
  if (!manifest.files.some((f) => f.name === 'quiver.db')) throw new RestoreError('the backup has no quiver.db');
  if (fs.existsSync(path.join(dest, 'quiver.db'))) {
    throw new RestoreError(`${dest} already holds a database (quiver.db); restore into an empty data dir, or move it away first`);
  }

  await fs.promises.mkdir(path.join(dest, 'indexes'), { recursive: true });
  for (const f of manifest.files) if (f.name !== 'quiver.db') await fs.promises.copyFile(path.join(src, f.name), path.join(dest, f.name));
  // The database lands last and by rename: its presence means the restore is complete.
  const staged = path.join(dest, `quiver.db.restoring-${crypto.randomBytes(4).toString('hex')}`);
  await fs.promises.copyFile(path.join(src, 'quiver.db'), staged);
  try {
    const check = checkDatabaseFile(staged);
    if (check !== 'ok') throw new RestoreError(`quiver.db failed SQLite's integrity check: ${check}`);
    await fs.promises.rename(staged, path.join(dest, 'quiver.db'));
  } catch (err) {
    await fs.promises.rm(staged, { force: true });
    throw err;
  }
  const collections = manifest.collections ?? [];
  return { dataDir: dest, collections: collections.length, documents: collections.reduce((n, c) => n + c.documents, 0), files: manifest.files.length };
}
