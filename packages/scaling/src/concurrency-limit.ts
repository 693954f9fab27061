/**
 * @file A counting semaphore: at most `limit` calls in flight; queued calls start in FIFO order, so
 * the order in which calls start is the order they were requested (reproducible runs).
 */
export class ConcurrencyLimit {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  /** Highest number of calls in flight seen so far (the tests read it). */
  peak = 0;

  constructor(readonly limit: number) {}

  async run<T>(fn: () => T | Promise<T>): Promise<T> {
    // A finishing call hands its slot straight to the next queued one (no decrement in between), so
    // a caller arriving meanwhile cannot take the slot too.
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}
