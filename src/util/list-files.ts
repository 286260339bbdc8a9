// Every file under a folder, as paths relative to it with "/" separators, sorted: what a backup
// (ops/backup.ts) checksums and what a cluster snapshot (cluster/snapshots.ts) uploads.
import fs from 'node:fs';
import path from 'node:path';

export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.promises.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}
