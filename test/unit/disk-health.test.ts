// Which errors are a full disk and what they become (src/ops/disk-health.ts), without filling one:
// the full → recovered cycle itself is test/integration/disk-full.test.ts, on a tmpfs.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createError } from '../../src/errors/index.js';
import { DiskHealth, insufficientStorage, outOfSpaceCode, readinessFields } from '../../src/storage/disk-health.js';
import { tempDir } from '../helpers/server.js';

const errno = (code: string) => Object.assign(new Error(`${code}: no space left on device, write`), { code, errno: -28, syscall: 'write' });

describe('outOfSpaceCode', () => {
  it('recognises SQLITE_FULL, ENOSPC and EDQUOT, on the error or along its causes', () => {
    expect(outOfSpaceCode(new Database.SqliteError('database or disk is full', 'SQLITE_FULL'))).toBe('SQLITE_FULL');
    expect(outOfSpaceCode(errno('ENOSPC'))).toBe('ENOSPC');
    expect(outOfSpaceCode(errno('EDQUOT'))).toBe('EDQUOT');
    expect(outOfSpaceCode(new Error('wrapped', { cause: new Error('again', { cause: errno('ENOSPC') }) }))).toBe('ENOSPC');
    expect(outOfSpaceCode(insufficientStorage(errno('EDQUOT')))).toBe('EDQUOT');
    expect(outOfSpaceCode(createError('INSUFFICIENT_STORAGE', { dir: 'data dir' }))).toBe('INSUFFICIENT_STORAGE');
  });

  it('leaves every other error alone', () => {
    for (const e of [
      new Database.SqliteError('database is locked', 'SQLITE_BUSY'),
      new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'),
      errno('EACCES'),
      createError('INTERNAL', {}),
      new Error('no code'),
      'ENOSPC',
      null,
      undefined,
    ]) {
      expect(outOfSpaceCode(e)).toBeUndefined();
    }
  });
});

describe('insufficientStorage', () => {
  it('is a 507 with our message for each disk, keeping the raw error as its cause only', () => {
    const raw = new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
    const e = insufficientStorage(raw);
    expect(e).toMatchObject({ code: 'INSUFFICIENT_STORAGE', status: 507, details: { dir: 'data dir' } });
    expect(e.message).toBe('the disk holding the data dir is full: writes are refused until space is freed there; reads still work');
    expect(e.cause).toBe(raw);
    expect(insufficientStorage(errno('ENOSPC'), 'backup dir').message).toBe(
      'the disk holding the backup dir (QUIVER_BACKUP_DIR) is full: the backup was not written; free space there and try again',
    );
  });
});

describe('DiskHealth', () => {
  it('does not turn full on an out-of-space error when the data dir can still take the probe, and leaves no probe file', () => {
    const dir = tempDir('quiver-disk-health-');
    const d = new DiskHealth(dir, pino({ level: 'silent' }), { recheckMs: 0 });
    expect(d.noteError(new Error('bug'))).toBe(false);
    expect(d.noteError(new Database.SqliteError('database or disk is full', 'SQLITE_FULL'))).toBe(true);
    expect(d.full).toBe(false);
    expect(d.status()).toEqual({ full: false });
    expect(readinessFields(d.status())).toEqual({});
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('leaves the state alone when the probe fails for another reason', () => {
    const d = new DiskHealth(path.join(tempDir('quiver-disk-health-'), 'gone'), pino({ level: 'silent' }), { recheckMs: 0 });
    expect(d.noteError(errno('ENOSPC'))).toBe(true);
    expect(d.full).toBe(false);
  });

  it('reports a full disk to /readyz as storage "full" with since and free bytes', () => {
    const since = new Date('2026-01-02T03:04:05.000Z');
    expect(readinessFields({ full: true, since, freeBytes: 0 })).toEqual({ storage: 'full', full_since: '2026-01-02T03:04:05.000Z', free_bytes: 0 });
  });
});
