// Owns what the server knows about a full disk:
// - which errors mean "out of space": SQLite's SQLITE_FULL (better-sqlite3's SqliteError.code),
//   ENOSPC and EDQUOT from fs writes, on the error itself or along its `cause` chain; and the
//   catalogued 507 INSUFFICIENT_STORAGE they become (never a 500, never SQLite's own message);
// - the state "the disk holding the data dir is full since T", one per server (made by the
//   composition root), told of such errors by the API's errorHandler (every 507) and the ingest
//   job runner, read by
//   /readyz, the quiver_storage_full gauge and the job runner (which waits while full); one warn
//   line when it turns full and one info line when it recovers.
//
// How the state is decided: seeing an out-of-space error only makes us look. We then write a probe
// file of 1 MiB (probeBytes; random bytes, so a compressing or deduplicating filesystem cannot
// store it as nothing) into the data dir and remove it. "Full" means that probe fails with
// ENOSPC/EDQUOT. While full the probe is retried, at most once a second (recheckMs) when /readyz
// or /metrics ask, and every 5 s (pollMs) by a timer so that recovery is noticed and logged even
// when nobody asks; the first probe that succeeds clears the state.
// Why a probe and not statfs's free bytes: statfs knows neither quotas (EDQUOT) nor whether this
// process may use root's reserved blocks; the probe asks what SQLite's next write asks, "may this
// process allocate space there". Why confirm before flagging: an out-of-space error can come from
// another disk (QUIVER_BACKUP_DIR) or from one write larger than what is left; the flag says the
// data dir's disk itself is full, and does not flap on and off with each failed write.
// The flag never refuses a write by itself: every write still goes to SQLite, so writes succeed
// the moment space is back, before any probe has noticed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { QuiverError, createError } from '../errors/index.js';

/** Codes that mean the filesystem refused to allocate space (SQLite maps ENOSPC to SQLITE_FULL). */
const OUT_OF_SPACE = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);
const PROBE_FILE = '.quiver-space-probe';

export interface DiskHealthOptions {
  /** Bytes the probe must be able to write for the disk to count as not full. */
  probeBytes: number;
  /** Least time between two probes asked for by readers or by errors. */
  recheckMs: number;
  /** While full, how often a timer probes on its own. */
  pollMs: number;
}

const DEFAULTS: DiskHealthOptions = { probeBytes: 1024 * 1024, recheckMs: 1000, pollMs: 5000 };

/**
 * The out-of-space code carried by err or one of its causes (SQLITE_FULL, ENOSPC, EDQUOT), or
 * INSUFFICIENT_STORAGE for an already catalogued 507 without a raw cause; undefined otherwise.
 */
export function outOfSpaceCode(err: unknown): string | undefined {
  let catalogued = false;
  let e: unknown = err;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    if (e instanceof QuiverError) catalogued ||= e.code === 'INSUFFICIENT_STORAGE';
    else {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && OUT_OF_SPACE.has(code)) return code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return catalogued ? 'INSUFFICIENT_STORAGE' : undefined;
}

/** The catalogued 507 for an out-of-space error; the original stays as its cause, for the log only. */
export function insufficientStorage(cause: unknown, dir: 'data dir' | 'backup dir' = 'data dir'): QuiverError {
  const e = createError('INSUFFICIENT_STORAGE', { dir });
  e.cause = cause;
  return e;
}

export interface StorageStatus {
  full: boolean;
  /** When the disk was found full. */
  since?: Date;
  /** Bytes statfs says are available to unprivileged users on the data dir's filesystem (only while full). */
  freeBytes?: number;
}

/** The /readyz fields for a status: none while there is space. */
export function readinessFields(s: StorageStatus): { storage?: 'full'; full_since?: string; free_bytes?: number } {
  if (!s.full) return {};
  return { storage: 'full', full_since: s.since?.toISOString(), free_bytes: s.freeBytes };
}

export class DiskHealth {
  private fullSince: Date | undefined;
  private lastProbe = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private probeData: Buffer | undefined;
  private readonly opts: DiskHealthOptions;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
    opts: Partial<DiskHealthOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  get full(): boolean {
    return this.fullSince !== undefined;
  }

  /**
   * Call with any error a write met. Returns true when it is an out-of-space error; then, unless
   * already full or probed within recheckMs, probes the data dir and turns full if the probe fails.
   */
  noteError(err: unknown): boolean {
    const code = outOfSpaceCode(err);
    if (code === undefined) return false;
    if (!this.full && Date.now() - this.lastProbe >= this.opts.recheckMs && this.probe() === 'no-space') {
      this.fullSince = new Date();
      this.timer = setInterval(() => this.recheck(), this.opts.pollMs);
      this.timer.unref();
      this.log.warn(
        { dataDir: this.dir, code, freeBytes: this.freeBytes() },
        'storage full: the disk holding the data dir is out of space; writes answer 507 until space is freed, reads still work',
      );
    }
    return true;
  }

  /** The current state; while full, probes again first if the last probe is older than recheckMs. */
  status(): StorageStatus {
    if (this.full && Date.now() - this.lastProbe >= this.opts.recheckMs) this.recheck();
    if (!this.fullSince) return { full: false };
    return { full: true, since: this.fullSince, freeBytes: this.freeBytes() };
  }

  /** Stops the recovery timer (it is unref'd, so this is only for tidiness). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private recheck(): void {
    if (!this.fullSince || this.probe() !== 'ok') return;
    const since = this.fullSince;
    this.fullSince = undefined;
    this.close();
    this.log.info({ dataDir: this.dir, fullForMs: Date.now() - since.getTime(), freeBytes: this.freeBytes() }, 'storage recovered: the disk holding the data dir has space again; writes are accepted');
  }

  /**
   * Writes and removes PROBE_BYTES in the data dir. No fsync: filesystems reserve space (or
   * refuse it) at write time, which is all we ask. "unknown" for any other failure (the dir is
   * gone, read-only, ...): the state is then left as it was.
   */
  private probe(): 'ok' | 'no-space' | 'unknown' {
    this.lastProbe = Date.now();
    this.probeData ??= crypto.randomBytes(this.opts.probeBytes);
    const file = path.join(this.dir, PROBE_FILE);
    try {
      fs.writeFileSync(file, this.probeData);
      return 'ok';
    } catch (err) {
      if (outOfSpaceCode(err) !== undefined) return 'no-space';
      this.log.debug({ err }, 'storage probe failed');
      return 'unknown';
    } finally {
      try {
        fs.rmSync(file, { force: true });
      } catch {
        // the dir is gone or unwritable: nothing more to do here, and the next probe tries again
      }
    }
  }

  private freeBytes(): number | undefined {
    try {
      const s = fs.statfsSync(this.dir);
      return s.bavail * s.bsize;
    } catch {
      return undefined;
    }
  }
}
