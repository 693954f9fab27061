import { describe, expect, it } from 'vitest';
import { keyFromSeed, openUniformFromWords, Philox, rng, uniformFromWords } from './generator';
import { philox4x32 } from './philox';
import { chiSquareSurvival, chiSquareTest, erf, ksCritical, ksStatistic, normalCdf } from './testing/stats';

// Distribution tests use fixed seeds, so they are deterministic; each asserts a goodness-of-fit
// p-value above ALPHA (or a KS statistic below its critical value at ALPHA), which a wrong transform
// fails by a wide margin (see the power checks).
const ALPHA = 1e-3;

const block = (key: readonly [number, number], c0: number) => philox4x32([c0, 0, 0, 0], key);

describe('stream layout (what other backends must reproduce)', () => {
  it('word j of a draw is word j % 4 of block base + floor(j / 4); draws start on fresh blocks', () => {
    const g = rng(42);
    const key = keyFromSeed(42);
    expect(Array.from(g.words(6))).toEqual([...block(key, 0), ...block(key, 1).slice(0, 2)]);
    expect(g.counter).toEqual([2, 0, 0, 0]); // the two unused words of block 1 are dropped
    expect(Array.from(g.words(4))).toEqual(block(key, 2));
  });

  it('uniform, uniformF32, gumbel and normal use the documented words', () => {
    const key = keyFromSeed(7);
    const b0 = block(key, 0);
    const b1 = block(key, 1);
    const u = rng(7).uniform(3);
    expect(Array.from(u)).toEqual([
      uniformFromWords(b0[0], b0[1]),
      uniformFromWords(b0[2], b0[3]),
      uniformFromWords(b1[0], b1[1]),
    ]);
    expect(u[0]).toBe(((b0[0] >>> 5) * 2 ** 26 + (b0[1] >>> 6)) / 2 ** 53);
    expect(Array.from(rng(7).uniformF32(2))).toEqual([(b0[0] >>> 8) / 2 ** 24, (b0[1] >>> 8) / 2 ** 24]);
    expect(rng(7).gumbel(2)[1]).toBe(-Math.log(-Math.log(openUniformFromWords(b0[2], b0[3]))));
    const z = rng(7).normal(3);
    const r0 = Math.sqrt(-2 * Math.log(openUniformFromWords(b0[0], b0[1])));
    const t0 = 2 * Math.PI * uniformFromWords(b0[2], b0[3]);
    const r1 = Math.sqrt(-2 * Math.log(openUniformFromWords(b1[0], b1[1])));
    const t1 = 2 * Math.PI * uniformFromWords(b1[2], b1[3]);
    expect(Array.from(z)).toEqual([r0 * Math.cos(t0), r0 * Math.sin(t0), r1 * Math.cos(t1)]);
  });

  it('reserve hands out the base counter and advances by whole blocks', () => {
    const g = new Philox([1, 2], [0xfffffffe, 0, 0, 0]);
    expect(g.reserve(9)).toEqual({ key: [1, 2], counter: [0xfffffffe, 0, 0, 0] });
    expect(g.counter).toEqual([1, 1, 0, 0]);
    expect(g.reserve(0).counter).toEqual([1, 1, 0, 0]);
    expect(g.counter).toEqual([1, 1, 0, 0]);
  });

  it('open uniforms stay strictly inside (0, 1) at the extreme words; uniform stays below 1', () => {
    expect(openUniformFromWords(0, 0)).toBe(2 ** -53);
    expect(openUniformFromWords(0xffffffff, 0xffffffff)).toBe(1 - 2 ** -53);
    expect(uniformFromWords(0xffffffff, 0xffffffff)).toBe(1 - 2 ** -53);
    expect(-Math.log(-Math.log(1 - 2 ** -53))).toBeGreaterThan(36); // the f64 Gumbel tail reach
  });
});

describe('seeds, fold and split', () => {
  it('maps seeds to 64-bit keys; numbers and bigints agree', () => {
    expect(keyFromSeed(0)).toEqual([0, 0]);
    expect(keyFromSeed(2 ** 32 + 5)).toEqual([5, 1]);
    expect(keyFromSeed(0xffffffffffffffffn)).toEqual([0xffffffff, 0xffffffff]);
    expect(Array.from(rng(123456789012n).words(8))).toEqual(Array.from(rng(123456789012).words(8)));
    expect(() => rng(-1)).toThrow(/seed/);
    expect(() => rng(1.5)).toThrow(/seed/);
    expect(() => rng(1n << 64n)).toThrow(/2\^64/);
    expect(() => new Philox([1, 2 ** 32])).toThrow(/32-bit/);
  });

  it('the same seed gives the same stream; nearby seeds give unrelated streams', () => {
    expect(Array.from(rng(3).uniform(100))).toEqual(Array.from(rng(3).uniform(100)));
    const a = rng(3).words(1000);
    const b = rng(4).words(1000);
    let equal = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) equal++;
    expect(equal).toBe(0);
  });

  it('fold/split streams are reproducible, distinct, and independent of the parent position', () => {
    const parent = rng(99);
    const kids = parent.split(4);
    parent.words(100);
    const again = parent.split(4);
    const draws = kids.map((k) => Array.from(k.words(16)));
    expect(again.map((k) => Array.from(k.words(16)))).toEqual(draws);
    expect(Array.from(parent.fold(2).words(16))).toEqual(draws[2]);
    const firstWords = new Set([...draws.map((d) => d[0]), rng(99).words(1)[0]]);
    expect(firstWords.size).toBe(5);
    expect(kids[0].key).not.toEqual(rng(98).fold(0).key);
    expect(parent.fold(2 ** 40).key).not.toEqual(parent.fold(0).key);
  });

  it('rejects bad counts with the op name', () => {
    expect(() => rng(1).uniform(-1)).toThrow(/rng.uniform/);
    expect(() => rng(1).randint(3, 5, 5)).toThrow(/low < high/);
    expect(() => rng(1).randint(3, 0, 2 ** 31 + 1)).toThrow(/2\^31/);
  });
});

describe('test statistics helpers', () => {
  it('chi-square survival and erf match tabulated values', () => {
    expect(chiSquareSurvival(61.098, 31)).toBeCloseTo(1e-3, 5); // critical value for df 31, alpha 1e-3
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 10);
    expect(chiSquareSurvival(124.342, 100)).toBeCloseTo(0.05, 4);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 13);
    expect(erf(-2.5)).toBeCloseTo(-0.999593047982555, 13);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 13);
  });
});

describe('distributions (fixed seeds; alpha = 1e-3)', () => {
  it('uniform: chi-square over 40 bins, mean and range', () => {
    const n = 200_000;
    const u = rng(2024).uniform(n);
    const counts = new Array<number>(40).fill(0);
    let sum = 0;
    let outside = 0;
    for (const x of u) {
      if (!(x >= 0 && x < 1)) outside++;
      counts[Math.floor(x * 40)]++;
      sum += x;
    }
    expect(outside).toBe(0);
    const { p } = chiSquareTest(counts, new Array(40).fill(n / 40));
    expect(p).toBeGreaterThan(ALPHA);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
  });

  it('uniformF32: chi-square over 32 bins; values on the 2^-24 grid', () => {
    const n = 100_000;
    const u = rng(5).uniformF32(n);
    const counts = new Array<number>(32).fill(0);
    let offGrid = 0;
    for (const x of u) {
      if (!(Number.isInteger(x * 2 ** 24) && x >= 0 && x < 1)) offGrid++;
      counts[Math.floor(x * 32)]++;
    }
    expect(offGrid).toBe(0);
    expect(chiSquareTest(counts, new Array(32).fill(n / 32)).p).toBeGreaterThan(ALPHA);
  });

  it('normal: KS against the erf-based CDF, and the first two moments', () => {
    const n = 100_000;
    const z = rng(11).normal(n);
    expect(ksStatistic(z, normalCdf)).toBeLessThan(ksCritical(n, ALPHA));
    let m = 0;
    let v = 0;
    for (const x of z) m += x;
    m /= n;
    for (const x of z) v += (x - m) ** 2;
    v /= n - 1;
    expect(Math.abs(m)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(v - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });

  it('gumbel: KS against exp(-exp(-x))', () => {
    const n = 100_000;
    const g = rng(12).gumbel(n);
    const cdf = (x: number) => Math.exp(-Math.exp(-x));
    expect(ksStatistic(g, cdf)).toBeLessThan(ksCritical(n, ALPHA));
  });

  it('the KS test has power: it rejects a normal with std 1.03 and a Gumbel shifted by 0.02', () => {
    const n = 100_000;
    const z = rng(11)
      .normal(n)
      .map((x) => 1.03 * x);
    expect(ksStatistic(z, normalCdf)).toBeGreaterThan(ksCritical(n, ALPHA));
    const g = rng(12)
      .gumbel(n)
      .map((x) => x + 0.02);
    expect(ksStatistic(g, (x) => Math.exp(-Math.exp(-x)))).toBeGreaterThan(ksCritical(n, ALPHA));
  });

  it('randint: chi-square over [-3, 7) and bounds', () => {
    const n = 50_000;
    const r = rng(13).randint(n, -3, 7);
    const counts = new Array<number>(10).fill(0);
    for (const x of r) counts[x + 3]++;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
    expect(chiSquareTest(counts, new Array(10).fill(n / 10)).p).toBeGreaterThan(ALPHA);
    const wide = rng(13).randint(1000, -(2 ** 31), 2 ** 31);
    expect(wide.some((x) => x < -(2 ** 30)) && wide.some((x) => x > 2 ** 30)).toBe(true);
  });
});
