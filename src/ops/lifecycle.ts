// Owns the process's state — starting, ready, draining, closing, closed — and the order of
// start and stop: open the collections (indexes and models), start periodic snapshots and the
// long-running services (the job runner), and at the end stop them, let queued writes finish,
// write the last snapshots and close the store. /readyz and the /v1 gate read `status`.
import type { Logger } from 'pino';

export type LifecycleState = 'starting' | 'ready' | 'draining' | 'closing' | 'closed';

/** What the HTTP layer needs to know of the process's state. */
export interface Readiness {
  readonly isReady: boolean;
  readonly status: LifecycleState;
}

export interface LifecycleSteps {
  /** Loads what must be there before serving (indexes, models). */
  open(): Promise<void>;
  /** Periodic work while ready (index snapshots), every `intervalMs`. */
  periodic: { run(): Promise<unknown>; intervalMs: number };
  /** Started when ready, stopped first at close (the job runner). */
  services: { start(): void; stop(): Promise<void> }[];
  /** Run at close after the services stopped, in order (let writes finish, snapshot, close the store). */
  close: (() => Promise<void> | void)[];
}

export class Lifecycle implements Readiness {
  private state: LifecycleState = 'starting';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly steps: LifecycleSteps,
    private readonly log: Logger,
  ) {}

  get isReady(): boolean {
    return this.state === 'ready';
  }

  get status(): LifecycleState {
    return this.state;
  }

  async start(): Promise<void> {
    await this.steps.open();
    // What was rebuilt at open is written now rather than at the first interval.
    await this.steps.periodic.run();
    // A shutdown that began while loading wins: the server must not turn ready again.
    if (this.state !== 'starting') return;
    this.timer = setInterval(() => void this.steps.periodic.run().catch((err: unknown) => this.log.error({ err }, 'periodic task failed')), this.steps.periodic.intervalMs);
    this.timer.unref();
    this.state = 'ready';
    for (const s of this.steps.services) s.start();
  }

  /** Shutdown has begun: /readyz and new /v1 requests answer 503 while in-flight ones finish. */
  drain(): void {
    if (this.state === 'starting' || this.state === 'ready') this.state = 'draining';
  }

  /** Stops the services, runs the close steps; safe to call twice. */
  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    if (this.timer) clearInterval(this.timer);
    // The job runner stops between batches; unfinished jobs resume at the next start.
    await Promise.all(this.steps.services.map((s) => s.stop()));
    for (const step of this.steps.close) await step();
    this.state = 'closed';
  }
}
