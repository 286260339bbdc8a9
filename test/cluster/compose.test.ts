// docker-compose.cluster.yml describes a deployment we cannot run here (no Docker engine): check
// it with `docker compose config`, as test/integration/deploy.test.ts does for docker-compose.yml.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/server.js';

function composeCommand(): string[] | undefined {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  return undefined;
}

const compose = composeCommand();

describe('docker-compose.cluster.yml', () => {
  it.skipIf(!compose)('is valid: 3 NATS JetStream nodes routed to each other, an api node, 2 replicas and 2 workers pointed at all three', () => {
    const out = execFileSync(compose![0]!, [...compose!.slice(1), '-f', 'docker-compose.cluster.yml', 'config'], { cwd: ROOT, encoding: 'utf8' });
    for (const n of ['nats1', 'nats2', 'nats3']) {
      expect(out).toMatch(new RegExp(`\\n  ${n}:\\n(    .*\\n)*?    - -js\\n`));
      expect(out).toContain(`${n}-data:/data`);
    }
    expect(out).toContain('nats://nats1:6222,nats://nats2:6222,nats://nats3:6222');
    expect(out.match(/QUIVER_NATS_URL: nats:\/\/nats1:4222,nats:\/\/nats2:4222,nats:\/\/nats3:4222/g)).toHaveLength(5);
    expect(out.match(/QUIVER_ROLE: replica/g)).toHaveLength(2);
    expect(out.match(/QUIVER_ROLE: api/g)).toHaveLength(1);
    expect(out.match(/QUIVER_ROLE: worker/g)).toHaveLength(2);
    expect(out.match(/readyz/g)!.length).toBeGreaterThanOrEqual(3);
  });
});
