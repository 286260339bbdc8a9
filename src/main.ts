// The process: read the config, build the server (server.ts), listen, load, and shut down
// cleanly on a signal.
import { ClusterStartError, seedFromSnapshot } from './cluster/index.js';
import { ConfigError, loadConfig } from './config/index.js';
import type { Config } from './config/index.js';
import { createLogger } from './log.js';
import { restoreBackup } from './ops/backup.js';
import { StartupError, createQuiver, installShutdown, listen } from './server.js';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`quiver: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const log = createLogger(config.logLevel);
  // Cluster mode: an empty replica (or one the log moved past) starts from the current snapshot.
  if (config.cluster) await seedFromSnapshot({ config: config.cluster, dataDir: config.dataDir, log, restore: restoreBackup });
  const quiver = createQuiver(config, log);

  // Listen before loading indexes and models: /healthz answers at once, /readyz when loaded.
  const { server } = await listen(quiver);
  // A signal during start-up waits for loading to end before closing what it opened.
  let starting: Promise<void> = Promise.resolve();
  installShutdown({ server, lifecycle: quiver.lifecycle, log, timeoutMs: config.shutdownTimeoutMs, hooks: [() => starting.catch(() => undefined)] });

  starting = quiver.lifecycle.start();
  await starting;
  log.info('ready');
}

main().catch((err: unknown) => {
  if (err instanceof ClusterStartError) {
    process.stderr.write(`quiver: cannot start in cluster mode: ${err.message}\n`);
    process.exit(1);
  }
  if (err instanceof StartupError) {
    process.stderr.write(`quiver: refusing to start: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`quiver: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
