/**
 * The first-hitting sampler against the exact distribution of LLaDA's step sampler with one token per
 * step and random remasking (each step unmasks a uniformly chosen masked position and draws its token
 * at temperature 1), on a tiny synthetic model whose predictions depend on the other tokens: 3
 * generated positions over 3 tokens (27 outcomes), probabilities summed over the 6 unmasking orders.
 * Chi-square at fixed seeds, 3,000 samples per sampler, pass at p > 1e-3; the same test rejects the
 * one-step sampler that draws all 3 tokens from one forward (p < 1e-6), so it has the power to fail.
 */

import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { chiSquare, softmaxRef } from '../testing';
import { firstHit } from './first-hitting';
import { generateDiffusion } from './generate-diffusion';
import type { DiffusionOptions } from './options';
import { SyntheticMDLM } from './testing';

const MASK = 3;
const V = 4;
const PROMPT = [0];
const N = 3000;

/** Logits at `pos`: a position bias, plus a strong pull to agree with the committed tokens. */
function logitsAt(pos: number, x: readonly number[]): number[] {
  const out = [0.3 * pos, 0.5 - 0.2 * pos, -0.4, -30];
  for (let j = 1; j < x.length; j++) {
    if (j !== pos && x[j] !== MASK) out[x[j]] += 1.5;
  }
  return out;
}

/** Exact outcome probabilities of the random-order one-token-per-step sampler (index = base-3 digits). */
function exactDistribution(): number[] {
  const probs = new Array(27).fill(0);
  const walk = (x: number[], weight: number) => {
    const masked = [1, 2, 3].filter((p) => x[p] === MASK);
    if (masked.length === 0) {
      probs[x[1] * 9 + x[2] * 3 + x[3]] += weight;
      return;
    }
    for (const p of masked) {
      const q = softmaxRef(logitsAt(p, x).slice(0, 3));
      for (let v = 0; v < 3; v++) {
        const y = [...x];
        y[p] = v;
        walk(y, (weight / masked.length) * q[v]);
      }
    }
  };
  walk([0, MASK, MASK, MASK], 1);
  return probs;
}

async function outcomes(opts: Partial<DiffusionOptions>): Promise<number[]> {
  const model = new SyntheticMDLM(MASK, V, logitsAt);
  const res = await generateDiffusion(model, {
    prompt: Array.from({ length: N }, () => PROMPT),
    genLength: 3,
    temperature: 1,
    eosFill: false,
    seed: 2024,
    ...opts,
  });
  const counts = new Array(27).fill(0);
  for (const r of res.rows) counts[r.canvas[0] * 9 + r.canvas[1] * 3 + r.canvas[2]]++;
  return counts;
}

describe('first-hitting sampler', () => {
  const exact = exactDistribution();

  it('the exact distribution sums to 1', () => {
    expect(exact.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('matches the step sampler (random remasking, one token per step) in distribution', async () => {
    const fhs = chiSquare(await outcomes({ sampler: 'first-hitting' }), exact);
    const step = chiSquare(await outcomes({ remasking: 'random', steps: 3 }), exact);
    expect(fhs.impossible).toBe(0);
    expect(fhs.p).toBeGreaterThan(1e-3);
    expect(step.p).toBeGreaterThan(1e-3);
  });

  it('has the power to reject a different sampler (all tokens from one forward)', async () => {
    const oneStep = chiSquare(await outcomes({ remasking: 'random', steps: 1 }), exact);
    expect(oneStep.p).toBeLessThan(1e-6);
  });

  it('hitting times decrease in (0, 1] and follow t * U^(1/n) (mean t * n / (n + 1))', () => {
    const gen = rng(9);
    let sum = 0;
    const n = 4;
    for (let i = 0; i < 20000; i++) {
      const h = firstHit(n, 0.8, gen);
      expect(h.time).toBeGreaterThan(0);
      expect(h.time).toBeLessThanOrEqual(0.8);
      expect(h.index).toBeLessThan(n);
      sum += h.time;
    }
    // sd of t * U^(1/4) is about 0.13; the mean of 20k is within 0.005 at 5 sigma.
    expect(Math.abs(sum / 20000 - (0.8 * n) / (n + 1))).toBeLessThan(0.005);
  });
});
