// The two places an index can live, for suites that must pass with both: this thread's host and
// a worker thread's (the default). Each `host()` is a fresh slot, so tests that reuse a
// collection id (the fake source's 1) do not share a graph in the one worker of the file.
import { pino } from 'pino';
import { afterAll } from 'vitest';
import type { IndexHostApi } from '../../src/index/index.js';
import { IndexWorkers, inThreadHost } from '../../src/index/index.js';

let workers: IndexWorkers | undefined;
let nextSlot = 1_000_000;

afterAll(async () => {
  await workers?.close();
  workers = undefined;
});

/** The host API with every key mapped to one slot of its own. */
function ownSlot(api: IndexHostApi): IndexHostApi {
  const slot = nextSlot++;
  return {
    load: (_k, base, shape) => api.load(slot, base, shape),
    create: (_k, shape, capacity) => api.create(slot, shape, capacity),
    remove: (_k, labels) => api.remove(slot, labels),
    add: (_k, labels, vectors) => api.add(slot, labels, vectors),
    verify: (_k, expected) => api.verify(slot, expected),
    search: (_k, req) => api.search(slot, req),
    stats: (_k) => api.stats(slot),
    save: (_k, base, seq) => api.save(slot, base, seq),
    drop: (_k, base) => api.drop(slot, base),
    release: (_k) => api.release(slot),
  };
}

export const HOSTS: { where: string; host: () => IndexHostApi }[] = [
  { where: 'in this thread', host: () => ownSlot(inThreadHost()) },
  {
    where: 'in a worker thread',
    host: () => {
      workers ??= new IndexWorkers(1, pino({ level: 'silent' }));
      return ownSlot(workers.hostFor(0));
    },
  },
];
