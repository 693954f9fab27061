import { describe, expect, it } from 'vitest';
import { FK_POTENTIALS, type FkParticleState, fkLogPotential } from './fk-potentials';

/** Apply the potentials of one particle over rewards r_1..r_T (the last is final). */
function run(potential: (typeof FK_POTENTIALS)[number], rewards: number[], lambda: number, rmin = 0) {
  let s: FkParticleState = { accumulated: rmin, logProduct: 0 };
  const logGs: number[] = [];
  rewards.forEach((r, i) => {
    const { logG, next } = fkLogPotential(potential, r, s, lambda, i === rewards.length - 1);
    logGs.push(logG);
    s = next;
  });
  return logGs;
}

describe('FK steering potentials', () => {
  const r = [0.2, 0.5, 0.3, 0.9];
  const lambda = 2;

  it('computes each intermediate potential by hand', () => {
    expect(run('difference', r, lambda).slice(0, 3)).toEqual(
      [0.4, 0.6, -0.4].map((v) => expect.closeTo(v, 12)),
    );
    expect(run('max', r, lambda).slice(0, 3)).toEqual([0.4, 1.0, 1.0].map((v) => expect.closeTo(v, 12)));
    expect(run('sum', r, lambda).slice(0, 3)).toEqual([0.4, 1.4, 2.0].map((v) => expect.closeTo(v, 12)));
    expect(run('immediate', r, lambda).slice(0, 3)).toEqual(
      [0.4, 1.0, 0.6].map((v) => expect.closeTo(v, 12)),
    );
  });

  it('makes the product of all potentials exp(λ r(x0)) (the final correction; difference telescopes)', () => {
    for (const p of FK_POTENTIALS) {
      const total = run(p, r, lambda).reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(lambda * 0.9, 12);
    }
    // max, final: λ r_T − Σ earlier = 1.8 − 2.4.
    expect(run('max', r, lambda)[3]).toBeCloseTo(1.8 - 2.4, 12);
  });
});
