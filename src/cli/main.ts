// The `quiver` command line: one commander program, one module per command.
//   quiver serve [--role api|replica|worker|all]   start the server (same as npm start)
//   quiver worker                              cluster mode: an ingest worker (serve --role worker)
//   quiver restore <backup> --data-dir <dir>   restore a backup into an empty data dir
//   quiver ingest <collection> <paths...>      load files through ingest jobs (a running server)
//   quiver search <collection> "<text>"        query a collection (a running server)
//   quiver ask <collection> "<question>"       answer from a collection with a Bedrock model (a running server)
//   quiver check --data-dir <dir>              verify a data dir offline: what a start would rebuild
//   quiver models list|import|check            local embedding models: list, bring one in, test it
import { Command } from 'commander';
import { askCommand } from './ask.js';
import { checkCommand } from './check.js';
import { ingestCommand } from './ingest.js';
import { modelsCommand } from './models.js';
import { restoreCommand } from './restore.js';
import { searchCommand } from './search.js';

const program = new Command('quiver').description('Quiver semantic retrieval server').showHelpAfterError();

program
  .command('serve')
  .description('start the server; configured by QUIVER_* environment variables (see the README)')
  .option('--role <role>', 'cluster mode (QUIVER_NATS_URL set): api, replica, worker or all; the same as QUIVER_ROLE')
  .action(async (opts: { role?: string }) => {
    // Checked with every other setting by the config (a bad role names QUIVER_ROLE).
    if (opts.role !== undefined) process.env.QUIVER_ROLE = opts.role;
    await import('../main.js');
  });
program
  .command('worker')
  .description('cluster mode (QUIVER_NATS_URL set): an ingest worker, which embeds the write batches of the log; the same as serve --role worker')
  .action(async () => {
    process.env.QUIVER_ROLE = 'worker';
    await import('../main.js');
  });
program.addCommand(restoreCommand());
program.addCommand(ingestCommand());
program.addCommand(searchCommand());
program.addCommand(askCommand());
program.addCommand(checkCommand());
program.addCommand(modelsCommand());

await program.parseAsync(process.argv);
