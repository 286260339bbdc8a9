// `quiver restore <backup> --data-dir <dir>`: the CLI face of ops/backup.ts. Exports a commander
// Command factory for the main CLI, and runs by itself too:
//   npx tsx src/cli/restore.ts <backup> --data-dir <dir>
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { RestoreError, restoreBackup } from '../ops/backup.js';

export function restoreCommand(): Command {
  return new Command('restore')
    .description('restore a backup made by POST /v1/admin/backup into an empty data dir (the server must not be running on it)')
    .argument('<backup>', 'the backup folder (it holds backup.json)')
    .requiredOption('--data-dir <dir>', 'data dir to restore into; must not hold a quiver.db yet')
    .action(async (backup: string, opts: { dataDir: string }) => {
      try {
        const r = await restoreBackup(backup, opts.dataDir);
        process.stdout.write(`restored ${r.collections} collection(s), ${r.documents} document(s) into ${r.dataDir}; start the server with QUIVER_DATA_DIR=${r.dataDir}\n`);
      } catch (err) {
        if (!(err instanceof RestoreError)) throw err;
        process.stderr.write(`quiver restore: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  restoreCommand()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`quiver restore: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
