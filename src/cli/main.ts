// The `quiver` command line: one commander program, one module per command.
//   quiver serve                               start the server (same as npm start)
//   quiver restore <backup> --data-dir <dir>   restore a backup into an empty data dir
//   quiver ingest <collection> <paths...>      load files through ingest jobs (a running server)
//   quiver search <collection> "<text>"        query a collection (a running server)
//   quiver check --data-dir <dir>              verify a data dir offline: what a start would rebuild
//   quiver models list|import|check            local embedding models: list, bring one in, test it
import { Command } from 'commander';
import { checkCommand } from './check.js';
import { ingestCommand } from './ingest.js';
import { modelsCommand } from './models.js';
import { restoreCommand } from './restore.js';
import { searchCommand } from './search.js';

const program = new Command('quiver').description('Quiver semantic retrieval server').showHelpAfterError();

program
  .command('serve')
  .description('start the server; configured by QUIVER_* environment variables (see the README)')
  .action(async () => {
    await import('../main.js');
  });
program.addCommand(restoreCommand());
program.addCommand(ingestCommand());
program.addCommand(searchCommand());
program.addCommand(checkCommand());
program.addCommand(modelsCommand());

await program.parseAsync(process.argv);
