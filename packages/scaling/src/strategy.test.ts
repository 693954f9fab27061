import { describe, expect, it } from 'vitest';
import type { Proposer } from './proposer';
import { bestOfN } from './strategies/best-of-n';
import { particleFiltering } from './strategies/particle-filtering';
import { runStrategy } from './strategy';
import { hmmLikelihood, hmmProposer } from './testing/toys';
import type { StrategyEvent } from './trace';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An async proposer over a counter that records how many calls run at once. */
function slowProposer(delay: (call: number) => number) {
  const stats = { inFlight: 0, peak: 0, started: 0 };
  const proposer: Proposer<number> = {
    initial: () => 0,
    async propose(s) {
      const call = stats.started++;
      stats.inFlight++;
      stats.peak = Math.max(stats.peak, stats.inFlight);
      await tick(delay(call));
      stats.inFlight--;
      return s + 1;
    },
    done: (s) => s >= 5,
    answer: (s) => String(s),
  };
  return { proposer, stats };
}

describe('Strategy runs', () => {
  it('stream progress events and end with a done event that holds the trace', async () => {
    const events: StrategyEvent<number[]>[] = [];
    const pf = particleFiltering({
      proposer: hmmProposer,
      scorer: hmmLikelihood,
      budget: 8,
      weighting: 'log',
    });
    for await (const e of pf.run({ seed: 4 })) events.push(e);
    expect(events.map((e) => e.type)).toEqual(['progress', 'progress', 'progress', 'done']);
    expect(events.slice(0, 3).map((e) => (e.type === 'progress' ? e.step : -1))).toEqual([1, 2, 3]);
    const last = events[3];
    expect(last.type === 'done' && last.trace.candidates.length).toBe(25);
  });

  it('are reproducible: same seed, same trace, whatever the concurrency and call timing', async () => {
    const run = async (seed: number, concurrency: number, jitter: boolean) => {
      let calls = 0;
      const proposer: Proposer<number[]> = {
        ...hmmProposer,
        async propose(path, ctx) {
          // Later calls finish first when jitter is on.
          if (jitter) await tick(3 - (calls++ % 3));
          return hmmProposer.propose(path, ctx);
        },
      };
      const trace = await runStrategy(
        particleFiltering({
          proposer,
          scorer: hmmLikelihood,
          budget: 16,
          weighting: 'log',
          select: 'sample',
        }),
        { seed, concurrency },
      );
      return JSON.stringify(trace);
    };
    const a = await run(7, 1, false);
    expect(await run(7, 16, true)).toBe(a);
    expect(await run(7, 3, true)).toBe(a);
    expect(await run(8, 1, false)).not.toBe(a);
  });

  it('never run more proposer calls at once than the concurrency limit', async () => {
    const { proposer, stats } = slowProposer(() => 2);
    const trace = await runStrategy(bestOfN({ proposer, scorer: (s) => s, budget: 12, concurrency: 3 }));
    expect(stats.peak).toBe(3);
    expect(trace.calls.propose).toBe(60);
  });

  it('abort: rejects with an AbortError carrying the trace so far, and starts no call after the abort', async () => {
    const { proposer, stats } = slowProposer(() => 5);
    const controller = new AbortController();
    const pf = particleFiltering({
      proposer,
      scorer: () => 0.5,
      budget: 6,
      concurrency: 2,
      maxSteps: 100,
      signal: controller.signal,
    });
    let startedAtAbort = -1;
    let error: unknown;
    try {
      for await (const e of pf.run()) {
        if (e.type === 'progress' && e.step === 2) {
          controller.abort();
          startedAtAbort = stats.started;
        }
      }
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ name: 'AbortError' });
    const trace = (error as { trace: { aborted: boolean; candidates: unknown[]; spent: number } }).trace;
    expect(trace.aborted).toBe(true);
    expect(trace.candidates.length).toBe(1 + 2 * 6);
    await tick(30);
    expect(stats.started).toBe(startedAtAbort);
  });

  it('abort while calls are queued rejects promptly, before the queued calls run', async () => {
    const { proposer, stats } = slowProposer(() => 20);
    const controller = new AbortController();
    const run = runStrategy(
      bestOfN({ proposer, scorer: (s) => s, budget: 50, concurrency: 2, signal: controller.signal }),
    );
    await tick(5);
    controller.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    // Only the two calls in flight had started; the 48 queued rollouts never called the proposer.
    expect(stats.started).toBe(2);
  });

  it('an already-aborted signal rejects at once with an empty trace', async () => {
    const pf = particleFiltering({
      proposer: hmmProposer,
      scorer: hmmLikelihood,
      budget: 4,
      weighting: 'log',
    });
    await expect(runStrategy(pf, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
      trace: { aborted: true, candidates: [], spent: 0 },
    });
  });

  it('rejects unknown run options', async () => {
    const pf = particleFiltering({ proposer: hmmProposer, scorer: hmmLikelihood, budget: 4 });
    await expect(runStrategy(pf, { seeds: 3 } as never)).rejects.toThrow(
      /Unrecognized key: "seeds"; allowed: seed, concurrency, signal/,
    );
  });
});
