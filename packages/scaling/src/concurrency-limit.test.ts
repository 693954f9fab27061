import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit } from './concurrency-limit';

describe('ConcurrencyLimit', () => {
  it('runs at most `limit` calls at once, in request order, even when callers arrive as a slot frees', async () => {
    const limit = new ConcurrencyLimit(2);
    let inFlight = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      order.push(i);
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      // A new caller arrives synchronously while this slot is being handed over.
      if (i < 3) void limit.run(task(10 + i));
      return i;
    };
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => limit.run(task(i))));
    await new Promise((r) => setTimeout(r, 20));
    expect(results).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(limit.peak).toBe(2);
    expect(order.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
  });
});
