// A 3-node NATS JetStream cluster for tests, as real nats-server processes (Debian's package,
// installed by .ci/run) on free loopback ports, each with its own store dir. A node can be killed
// with SIGKILL and started again on the same ports and store. Readiness is a condition: every
// running node's monitoring endpoint (/jsz) names a meta leader. stop() kills every node and
// removes the dirs, whatever state the test left them in.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PATIENCE_MS, tempDir, waitFor } from '../helpers/server.js';

export const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => fs.existsSync(p));

/** Whether nats-server runs here (the cluster tests fail, not skip, without it: .ci/run installs it). */
export function natsServerVersion(): string | undefined {
  if (!NATS_SERVER) return undefined;
  const r = spawnSync(NATS_SERVER, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** A port free right now on 127.0.0.1 (the OS picks it; it is released before nats-server takes it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface NodeSpec {
  name: string;
  client: number;
  cluster: number;
  monitor: number;
  storeDir: string;
  config: string;
}

export class NatsCluster {
  private readonly procs = new Map<string, ChildProcess>();
  private readonly logs = new Map<string, string>();

  private constructor(
    readonly dir: string,
    readonly nodes: NodeSpec[],
  ) {}

  /** Client URLs of every node, comma-separated, as QUIVER_NATS_URL takes them. */
  get url(): string {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.client}`).join(',');
  }

  static async start(size = 3): Promise<NatsCluster> {
    if (!NATS_SERVER) throw new Error('nats-server is not installed (apt-get install nats-server; .ci/run does it)');
    const dir = tempDir('quiver-nats-');
    const nodes: NodeSpec[] = [];
    for (let i = 1; i <= size; i++) {
      const name = `n${i}`;
      nodes.push({ name, client: await freePort(), cluster: await freePort(), monitor: await freePort(), storeDir: path.join(dir, name), config: path.join(dir, `${name}.conf`) });
    }
    const routes = nodes.map((n) => `"nats-route://127.0.0.1:${n.cluster}"`).join(', ');
    for (const n of nodes) {
      fs.mkdirSync(n.storeDir);
      fs.writeFileSync(
        n.config,
        [
          `server_name: ${n.name}`,
          `listen: 127.0.0.1:${n.client}`,
          `http: 127.0.0.1:${n.monitor}`,
          `jetstream { store_dir: "${n.storeDir}" }`,
          `cluster { name: quiver-test, listen: 127.0.0.1:${n.cluster}, routes: [${routes}] }`,
          '',
        ].join('\n'),
      );
    }
    const cluster = new NatsCluster(dir, nodes);
    try {
      for (const n of nodes) cluster.launch(n.name);
      await cluster.waitForMetaLeader();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Everything node `name` printed (for failure messages). */
  log(name: string): string {
    return this.logs.get(name) ?? '';
  }

  private node(name: string): NodeSpec {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no NATS node ${name}`);
    return n;
  }

  private launch(name: string): void {
    const n = this.node(name);
    const proc = spawn(NATS_SERVER!, ['-c', n.config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.logs.set(name, this.logs.get(name) ?? '');
    const keep = (b: Buffer) => this.logs.set(name, this.log(name) + b.toString());
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    this.procs.set(name, proc);
  }

  /** kill -9 one node; resolves when it has exited. */
  async kill(name: string): Promise<void> {
    const proc = this.procs.get(name);
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }

  /** Starts a killed node again on its ports and store, and waits until the cluster has a meta leader. */
  async restart(name: string): Promise<void> {
    await this.kill(name);
    this.launch(name);
    await this.waitForMetaLeader();
  }

  /** kill -9 every node (NATS gone altogether). */
  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n.name)));
  }

  /** Starts every node that is not running (after killAll) and waits for a meta leader. */
  async startAll(): Promise<void> {
    for (const n of this.nodes) if (!this.running().includes(n)) this.launch(n.name);
    await this.waitForMetaLeader();
  }

  private running(): NodeSpec[] {
    return this.nodes.filter((n) => {
      const p = this.procs.get(n.name);
      return p !== undefined && p.exitCode === null && p.signalCode === null;
    });
  }

  /** Every running node answers /jsz naming the same meta leader (JetStream accepts API calls then). */
  async waitForMetaLeader(timeoutMs = PATIENCE_MS): Promise<string> {
    return waitFor(
      'a JetStream meta leader on every running NATS node',
      async () => {
        const leaders = new Set<string>();
        for (const n of this.running()) {
          try {
            const r = await fetch(`http://127.0.0.1:${n.monitor}/jsz`);
            const body = (await r.json()) as { meta_cluster?: { leader?: string } };
            const leader = body.meta_cluster?.leader;
            if (!leader) return undefined;
            leaders.add(leader);
          } catch {
            return undefined; // not listening yet
          }
        }
        return leaders.size === 1 ? [...leaders][0] : undefined;
      },
      timeoutMs,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${this.nodes.map((n) => `--- ${n.name}\n${this.log(n.name).slice(-2000)}`).join('\n')}`);
    });
  }

  /** Kills every node and removes the store dirs. Safe to call twice. */
  async stop(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((name) => this.kill(name)));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
