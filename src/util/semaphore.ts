// At most `limit` tasks at once; the others wait in arrival order.
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      // A waiter is handed this slot (active stays the same): were the count lowered and the
      // waiter left to raise it when it resumes, a call arriving in between would take the
      // slot too, and one more task than the limit would run.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
