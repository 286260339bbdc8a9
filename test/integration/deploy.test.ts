// docker-compose.yml and the Dockerfile describe a start-up path we cannot run here (no Docker
// engine): check the compose file with `docker compose config`, then run the image's command and
// the compose healthcheck without Docker.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PATIENCE_MS, ROOT, TestServer } from '../helpers/server.js';

function composeCommand(): string[] | undefined {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  return undefined;
}

const compose = composeCommand();

describe('deployment files', () => {
  it.skipIf(!compose)('docker-compose.yml is valid and keeps data in a named volume with a /readyz healthcheck', () => {
    const out = execFileSync(compose![0]!, [...compose!.slice(1), 'config'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toMatch(/quiver-data:\/data/);
    expect(out).toMatch(/readyz/);
    expect(out).toMatch(/QUIVER_DATA_DIR: \/data/);
  });

  it('the image command is the one the tests start, and the compose healthcheck passes against it', async () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('CMD ["node", "--import", "tsx", "src/main.ts"]');
    expect(dockerfile).toContain('USER node');
    const yml = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    const check = /fetch\('http:\/\/127\.0\.0\.1:8080\/readyz'\)[^"]*/.exec(yml)![0];
    // A process, as the image runs it (spawnSync below would also block an in-process server).
    const s = await TestServer.start({ process: true });
    try {
      const port = new URL(s.url).port;
      const ok = spawnSync(process.execPath, ['-e', check.replace(':8080', `:${port}`)], { timeout: PATIENCE_MS });
      expect(ok.status).toBe(0);
    } finally {
      await s.stop();
    }
    // The healthcheck fails when nothing answers.
    const down = spawnSync(process.execPath, ['-e', check.replace(':8080', ':1')], { timeout: 10_000 });
    expect(down.status).toBe(1);
  });
});
