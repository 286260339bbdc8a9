// Wiring only: read the config, open the engine, serve HTTP, shut down cleanly on a signal.
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config/index.js';
import type { Config } from './config/index.js';
import { createLogger } from './log.js';
import { Engine } from './engine/index.js';
import { createApp } from './api/index.js';

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
  const engine = Engine.open(config, log);
  const app = createApp(engine, log);

  // Listen before loading indexes and models: /healthz answers at once, /readyz when loaded.
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ host: config.host, port, dataDir: config.dataDir }, `listening on http://${config.host}:${port}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close();
    server.closeIdleConnections();
    // In-flight requests get a bounded time to finish; then the engine saves and closes.
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    engine
      .close()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'error while shutting down');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  await engine.start();
  log.info('ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`quiver: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
