// Wiring only: read the config, open the engine, serve HTTP, shut down cleanly on a signal.
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config/index.js';
import type { Config } from './config/index.js';
import { createLogger } from './log.js';
import { Engine } from './engine/index.js';
import { createApp } from './api/index.js';
import { installShutdown, isLoopback } from './ops/shutdown.js';

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

  if (config.apiKeys.length === 0 && !isLoopback(config.host)) {
    log.warn({ host: config.host }, 'listening on a non-loopback address without API keys: anyone who can reach it can read and change every collection; set QUIVER_API_KEYS');
  }
  // Receiving a whole request is bounded too (Node answers 408), not only handling it.
  server.requestTimeout = config.requestTimeoutMs;
  server.headersTimeout = Math.min(60_000, config.requestTimeoutMs);
  // A signal during start-up waits for loading to end before closing what it opened.
  let starting: Promise<void> = Promise.resolve();
  installShutdown({ server, engine, log, timeoutMs: config.shutdownTimeoutMs, hooks: [() => starting.catch(() => undefined)] });

  starting = engine.start();
  await starting;
  log.info('ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`quiver: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
