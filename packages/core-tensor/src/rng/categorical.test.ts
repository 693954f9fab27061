import { describe, expect, it } from 'vitest';
import { rng } from './generator';
import { chiSquareTest } from './testing/stats';

const ALPHA = 1e-3;

function softmax(logits: number[], t: number): number[] {
  const m = Math.max(...logits);
  const e = logits.map((x) => Math.exp((x - m) / t));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

function counts(samples: Int32Array, v: number): number[] {
  const c = new Array<number>(v).fill(0);
  for (const s of samples) c[s]++;
  return c;
}

describe('categorical', () => {
  const logits = [2, 1, 0.5, 0, -1, -3];

  it.each(['inverse-cdf', 'gumbel-max'] as const)(
    '%s: frequencies match softmax(logits / T) (chi-square, T = 0.7)',
    (method) => {
      const n = 60_000;
      const s = rng(31).categorical(logits, { n, temperature: 0.7, method });
      const expected = softmax(logits, 0.7).map((p) => p * n);
      expect(chiSquareTest(counts(s, logits.length), expected).p).toBeGreaterThan(ALPHA);
    },
  );

  it('the chi-square check has power: sampling at T = 0.7 is rejected against T = 0.75', () => {
    const n = 60_000;
    const s = rng(31).categorical(logits, { n, temperature: 0.7 });
    const wrong = softmax(logits, 0.75).map((p) => p * n);
    expect(chiSquareTest(counts(s, logits.length), wrong).p).toBeLessThan(ALPHA);
  });

  it('probabilities (unnormalized, with zeros) and temperature on probabilities', () => {
    const probs = [0.2, 0, 1.2, 0.6];
    const n = 40_000;
    for (const t of [1, 0.5]) {
      const s = rng(32).categorical(probs, { n, probs: true, temperature: t });
      const c = counts(s, 4);
      expect(c[1]).toBe(0);
      const w = [0.2, 1.2, 0.6].map((p) => p ** (1 / t));
      const z = w.reduce((a, b) => a + b, 0);
      expect(
        chiSquareTest(
          [c[0], c[2], c[3]],
          w.map((x) => (x / z) * n),
        ).p,
      ).toBeGreaterThan(ALPHA);
    }
  });

  it.each(['inverse-cdf', 'gumbel-max'] as const)('%s: -Infinity logits are never sampled', (method) => {
    const masked = [Number.NEGATIVE_INFINITY, 0, Number.NEGATIVE_INFINITY, 0.5, Number.NEGATIVE_INFINITY];
    const s = rng(33).categorical(masked, { n: 5000, method });
    expect(s.every((x) => x === 1 || x === 3)).toBe(true);
  });

  it('temperature 0 is argmax (first on ties) and advances the stream as a sampled draw does', () => {
    const a = rng(34);
    const b = rng(34);
    expect(Array.from(a.categorical([0, 3, 1, 3], { n: 3, temperature: 0 }))).toEqual([1, 1, 1]);
    b.categorical([0, 3, 1, 3], { n: 3 });
    expect(a.counter).toEqual(b.counter);
    const g = rng(35);
    g.categorical([1, 2, 3], { n: 2, method: 'gumbel-max', temperature: 0 });
    expect(g.counter).toEqual([4, 0, 0, 0]); // 2 samples x ceil(3 / 2) blocks
  });

  it('is reproducible and accepts typed arrays', () => {
    const l = Float32Array.from(logits);
    expect(Array.from(rng(36).categorical(l, { n: 50 }))).toEqual(
      Array.from(rng(36).categorical(logits, { n: 50 })),
    );
  });

  it('rejects bad input with a clear message', () => {
    const g = rng(1);
    expect(() => g.categorical([])).toThrow(/at least one category/);
    expect(() => g.categorical([0, Number.NaN])).toThrow(/index 1 is NaN/);
    expect(() => g.categorical([0, Number.POSITIVE_INFINITY])).toThrow(/Infinity/);
    expect(() => g.categorical([Number.NEGATIVE_INFINITY])).toThrow(/all logits are -Infinity/);
    expect(() => g.categorical([0.5, -0.1], { probs: true })).toThrow(/index 1 is -0.1/);
    expect(() => g.categorical([0, 0], { probs: true })).toThrow(/all probabilities are 0/);
    expect(() => g.categorical([1, 2], { temperature: -1 })).toThrow(/temperature/);
    expect(() => g.categorical([1, 2], { method: 'top-k' as never })).toThrow(/method/);
    expect(() => g.categorical([1, 2], { temp: 0.5 } as never)).toThrow(
      'categorical: options is invalid: Unrecognized key: "temp"; allowed: n, temperature, probs, method',
    );
  });

  // arXiv:2409.02908 §2.5: Gumbel-max with float32 noise under-samples tokens far below the top
  // (no f32 Gumbel exceeds ~16.6). Here a peak token and 2^17 tokens 16 nats below it (at T = 2,
  // logits 0 and -32): each rare token has probability ~1e-7, together 1.45%.
  it('samples rare tokens of a peaked large-vocabulary distribution at their true rate (the f32-Gumbel pitfall)', () => {
    const rare = 2 ** 17;
    const gap = 16;
    const values = new Float64Array(rare + 1).fill(-2 * gap);
    values[0] = 0;
    const pTrue = (rare * Math.exp(-gap)) / (1 + rare * Math.exp(-gap));
    const n = 60_000;
    const s = rng(37).categorical(values, { n, temperature: 2 });
    let hits = 0;
    const distinct = new Set<number>();
    for (const x of s) {
      if (x !== 0) {
        hits++;
        distinct.add(x);
      }
    }
    const sd = Math.sqrt(n * pTrue * (1 - pTrue));
    expect(Math.abs(hits - n * pTrue)).toBeLessThan(4 * sd);
    expect(distinct.size).toBeGreaterThan(0.9 * hits); // spread over the rare tokens, not one

    // What a float32 Gumbel-max sampler would give on the same input (u = k / 2^24, noise computed in
    // f32; the peak's noise taken as a continuous Gumbel): P(max rare noise - gap > peak noise),
    // summed over the value k of the largest of the 2^17 rare uniforms. It is ~24% low, more than
    // 6 standard deviations below the truth, so the tolerance above would catch an f32 sampler.
    const K = 2 ** 24;
    const f = Math.fround;
    let p32 = 0;
    for (let k = K - 20_000; k < K; k++) {
      const pMax = Math.exp(rare * Math.log1p(-(K - k - 1) / K)) - Math.exp(rare * Math.log1p(-(K - k) / K));
      const g32 = f(-f(Math.log(f(-f(Math.log(f(k / K)))))));
      p32 += pMax * Math.exp(-Math.exp(-(g32 - gap)));
    }
    expect(p32).toBeLessThan(0.8 * pTrue);
    expect((n * pTrue - n * p32) / sd).toBeGreaterThan(6);
  });
});
