// The `quiver` command line: one commander program, one module per command.
//   quiver serve                               start the server (same as npm start)
//   quiver restore <backup> --data-dir <dir>   restore a backup into an empty data dir
import { Command } from 'commander';
import { restoreCommand } from './restore.js';

const program = new Command('quiver').description('Quiver semantic retrieval server').showHelpAfterError();

program
  .command('serve')
  .description('start the server; configured by QUIVER_* environment variables (see the README)')
  .action(async () => {
    await import('../main.js');
  });
program.addCommand(restoreCommand());

await program.parseAsync(process.argv);
