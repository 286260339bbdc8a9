// Owns group commit for one collection: the writes and deletes waiting for the collection's lock
// are gathered into one transaction (one fsync under QUIVER_SYNC=full) and one index apply. Each
// request keeps its own outcome: its step runs in its own savepoint, so a step that throws undoes
// only its own rows and fails alone. A request is answered once its group committed and the
// group's index changes were applied (read-your-writes). Groups are formed without a timer: while
// one group commits and is applied, the requests arriving meanwhile queue up and make the next.
// Measured (benchmarks/writers.ts: 50 writers of 10 vectors of 384 dimensions, 20k documents,
// QUIVER_SYNC=full, a shared 2-core VM): 300-400 transactions became 13-18 of ~23 requests each,
// but documents/s barely moved (152 -> 163 mean of two runs each): a commit's fsync is ~1.4 ms
// there, and the writers' time goes to inserting vectors into HNSW (~60% of the server's CPU).
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IndexChanges } from '../domain/types.js';
import type { VectorIndex } from '../index/index.js';
import type { Store } from '../storage/index.js';
import type { FifoLock } from '../util/fifo-lock.js';

/** Channel on which every committed group is published (metrics count them; nothing here imports the API). */
export const WRITE_GROUP_CHANNEL = 'quiver:write-group';

/** Message shape on WRITE_GROUP_CHANNEL. */
export interface WriteGroupEvent {
  collection: string;
  /** Requests in the group's transaction (those that failed alone included). */
  requests: number;
  /** Documents the requests carried (a delete counts one). */
  documents: number;
  /** From opening the transaction to its commit. */
  commitMs: number;
}

const channel = diagnosticsChannel.channel(WRITE_GROUP_CHANNEL);

/** A step's answer when it cannot run in this group: it needs texts embedded against the current rows. */
export const LATER = Symbol('later');

/** One request of a group. */
export interface GroupMember {
  /** Documents it carries; the group cap counts them (a delete counts one). */
  readonly documents: number;
  /**
   * Runs under the lock before the group opens its transaction, only for a member a previous
   * group cut off with LATER (it leads this group, so it sees exactly the rows its step will see).
   */
  prepare?: () => Promise<void>;
  /**
   * Runs inside the group's transaction, in its own savepoint, after the earlier members' steps
   * (it sees their rows): writes its rows and returns their index changes, or LATER before
   * writing anything. A throw undoes its rows and fails this member alone.
   */
  step: () => IndexChanges | typeof LATER;
}

/** committed: the group holding the member committed and was applied; gone: the collection was deleted first. */
export type MemberEnd = 'committed' | 'gone';

interface Pending {
  member: GroupMember;
  /** Cut off by an earlier group: prepare before the next one. */
  cut: boolean;
  resolve: (end: MemberEnd) => void;
  reject: (err: unknown) => void;
}

export interface WriteGroupsOptions {
  name: string;
  store: Store;
  index: VectorIndex;
  /** The collection's lock: groups run under it, as do the collection's drop and settle. */
  lock: FifoLock;
  isDeleted: () => boolean;
  /**
   * Documents a group takes at most (a larger single request makes a group of its own). Bounds
   * how long one group holds the lock and how big its index apply is.
   */
  maxDocuments: number;
}

export class WriteGroups {
  private queue: Pending[] = [];
  /** A lock task is queued or running that will drain the queue. */
  private draining = false;

  constructor(private readonly opts: WriteGroupsOptions) {}

  /** Queues a member; settles once its group committed and was applied, or with its own error. */
  submit(member: GroupMember): Promise<MemberEnd> {
    return new Promise<MemberEnd>((resolve, reject) => {
      this.queue.push({ member, cut: false, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      void this.opts.lock.run(() => this.drain());
    });
  }

  /**
   * Commits groups until the queue is empty, in one lock task: whatever runs under the lock after
   * it (drop, settle) runs after every member queued before it was committed.
   */
  private async drain(): Promise<void> {
    // One turn of the event loop first: requests whose bytes arrived in the same turn join now
    // rather than waiting for the next group (not a timer: nothing waits once the turn is over).
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const group = this.take();
      try {
        await this.runGroup(group);
      } catch (err) {
        // runGroup answers its members itself; this is a bug guard, so no member waits forever.
        for (const p of group) p.reject(err);
      }
    }
    // Synchronous with the check above: a member queued after it starts another task.
    this.draining = false;
  }

  /** The first members of the queue, up to the cap in documents (at least one). */
  private take(): Pending[] {
    let documents = 0;
    let n = 0;
    while (n < this.queue.length) {
      const d = this.queue[n]!.member.documents;
      if (n > 0 && documents + d > this.opts.maxDocuments) break;
      documents += d;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async runGroup(group: Pending[]): Promise<void> {
    if (this.opts.isDeleted()) {
      for (const p of group) p.resolve('gone');
      return;
    }
    const head = group[0]!;
    if (head.cut && head.member.prepare) {
      try {
        await head.member.prepare();
      } catch (err) {
        head.reject(err);
        group.shift();
        if (group.length === 0) return;
      }
    }
    const ran: { p: Pending; changes?: IndexChanges; error?: unknown }[] = [];
    let rest: Pending[] = [];
    const started = performance.now();
    try {
      this.opts.store.transaction((isolated) => {
        for (let i = 0; i < group.length; i++) {
          const p = group[i]!;
          const r = isolated(() => p.member.step());
          if (r.ok && r.value === LATER) {
            // This member and every later one wait for the next group, in the same order: a later
            // member may write the same document, and must not overtake it.
            rest = group.slice(i);
            return;
          }
          ran.push(r.ok ? { p, changes: r.value as IndexChanges } : { p, error: r.error });
        }
      });
    } catch (err) {
      // The transaction did not commit: nothing of the group was written.
      for (const p of group) if (!rest.includes(p)) p.reject(err);
      this.requeue(rest);
      return;
    }
    const commitMs = performance.now() - started;
    this.requeue(rest);
    // The head was cut off before it wrote anything: an empty transaction, not a group.
    if (ran.length === 0) return;
    const committed = ran.filter((r) => r.error === undefined);
    // In commit order: the next group commits only after this apply.
    const applied = this.opts.index.apply(mergeChanges(committed.map((r) => r.changes!)));
    if (channel.hasSubscribers) {
      const message: WriteGroupEvent = {
        collection: this.opts.name,
        requests: ran.length,
        documents: ran.reduce((n, r) => n + r.p.member.documents, 0),
        commitMs,
      };
      channel.publish(message);
    }
    for (const r of ran) if (r.error !== undefined) r.p.reject(r.error);
    // The lock is held through the apply: the requests arriving meanwhile make the next group.
    // (Measured: with the apply outside the lock, each commit took ~2 ms and the requests then
    // waited on the index's own queue, so groups stayed at one request and every write still
    // paid its own fsync. With an index off the main thread, overlapping the next commit with
    // this apply may pay; the apply calls are ordered either way.)
    try {
      await applied;
    } catch (err) {
      for (const r of committed) r.p.reject(err);
      return;
    }
    for (const r of committed) r.p.resolve('committed');
  }

  /** Puts members cut off from a group back at the head of the queue; the first leads the next group. */
  private requeue(rest: Pending[]): void {
    if (rest.length === 0) return;
    rest[0]!.cut = true;
    this.queue = [...rest, ...this.queue];
  }
}

/**
 * The index changes of a group's members as one apply, in commit order. The index removes the
 * deletes before it adds the adds, and labels are never reused (chunks.id is AUTOINCREMENT), so a
 * label added by one member and deleted by a later one is left out of both lists.
 */
export function mergeChanges(all: IndexChanges[]): IndexChanges {
  const added = new Set(all.flatMap((c) => c.adds.map((a) => a.label)));
  const deletes = all.flatMap((c) => c.deletes);
  const dropped = new Set(deletes.filter((l) => added.has(l)));
  return {
    // Sequence numbers grow with commit order: the largest is the last member's.
    seq: all.reduce((s, c) => Math.max(s, c.seq), 0),
    adds: all.flatMap((c) => c.adds).filter((a) => !dropped.has(a.label)),
    deletes: deletes.filter((l) => !dropped.has(l)),
  };
}
