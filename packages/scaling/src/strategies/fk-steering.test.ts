import { describe, expect, it } from 'vitest';
import type { Proposer } from '../proposer';
import { runStrategy } from '../strategy';
import { fkSteering } from './fk-steering';

/** A 3-step chain: from t, particle draws a value in [0, 1); the state is the list of draws. */
const chain: Proposer<number[]> = {
  initial: () => [],
  propose: (s, { rng }) => [...s, rng.uniform(1)[0]],
  done: (s) => s.length === 3,
};
const meanReward = (s: number[]) => s.reduce((a, b) => a + b, 0) / s.length;

describe('FK steering', () => {
  it.each(['difference', 'max', 'sum', 'immediate'] as const)(
    '%s: the potentials along every final lineage multiply to exp(λ r(x0))',
    async (potential) => {
      const trace = await runStrategy(
        fkSteering({ proposer: chain, scorer: meanReward, budget: 6, potential, lambda: 3 }),
        {
          seed: 5,
        },
      );
      // Resampling at every step resets the weights, so a candidate's logWeight is that step's log G.
      for (const c of trace.candidates.filter((x) => x.step === 3)) {
        let sum = 0;
        for (let id: number | undefined = c.id; id !== undefined; id = trace.candidates[id].parent) {
          sum += trace.candidates[id].logWeight ?? 0;
        }
        expect(sum).toBeCloseTo(3 * (c.score as number), 10);
      }
    },
  );

  it('resamples ∝ exp(log G): immediate potential with rewards 0 and ln 3 / λ weighs 1 : 3', async () => {
    let k = 0;
    const two: Proposer<number> = { initial: () => -1, propose: () => k++ % 2, done: () => true };
    const lambda = 2;
    const trace = await runStrategy(
      fkSteering({
        proposer: two,
        scorer: (s) => (s === 0 ? 0 : Math.log(3) / lambda),
        budget: 2,
        potential: 'immediate',
        lambda,
        concurrency: 1,
      }),
    );
    // 'immediate' at the final step is corrected to exp(λ r)/∏G = exp(λ r): the same here.
    expect(trace.candidates.slice(1).map((c) => c.weight)).toEqual(
      [0.25, 0.75].map((v) => expect.closeTo(v, 12)),
    );
  });

  it('adaptive: resamples only when the ESS falls below half the particles', async () => {
    const trace = await runStrategy(
      fkSteering({ proposer: chain, scorer: meanReward, budget: 8, lambda: 0.01, adaptive: true }),
      { seed: 6 },
    );
    // λ = 0.01 keeps the weights nearly uniform: no resampling.
    expect(trace.decisions.filter((d) => d.kind === 'resample')).toHaveLength(0);
    expect(trace.decisions.filter((d) => d.kind === 'skip-resample')).toHaveLength(3);
  });

  it('resamples only at the scheduled steps and the final one', async () => {
    const trace = await runStrategy(
      fkSteering({
        proposer: { ...chain, done: (s) => s.length === 6 },
        scorer: meanReward,
        budget: 4,
        every: 2,
        tStart: 1,
        tEnd: 3,
        maxSteps: 6,
      }),
      { seed: 7 },
    );
    // 0-based step indices 1 and 3, plus the final index 5 → steps 2, 4, 6.
    expect(trace.decisions.filter((d) => d.kind === 'resample').map((d) => d.step)).toEqual([2, 4, 6]);
  });
});
