import { describe, expect, it } from 'vitest';
import { f16BitsToF32 } from '../f16';
import { rand, randn } from '../index';
import { rng } from './generator';

describe('randn / rand', () => {
  it('randn: element i is normal element i, scaled; reproducible from the seed', async () => {
    const t = randn([3, 5], { seed: 8, mean: 2, std: 0.5 });
    expect(t.shape).toEqual([3, 5]);
    expect(t.dtype).toBe('f32');
    expect(t.device).toBe('cpu');
    const want = Float32Array.from(rng(8).normal(15), (z) => 2 + 0.5 * z);
    expect(Array.from(await t.data())).toEqual(Array.from(want));
    expect(await randn([3, 5], { seed: 8, mean: 2, std: 0.5 }).array()).toEqual(Array.from(want));
  });

  it('rand: f32 uses 24 bits per word (the uniformF32 stream), never 1', async () => {
    const t = rand([1000], { seed: 9 });
    const d = await t.data();
    expect(Array.from(d)).toEqual(Array.from(rng(9).uniformF32(1000)));
    const s = rand([4], { seed: 9, low: -2, high: 2 });
    expect(Array.from(await s.data())).toEqual(Array.from(rng(9).uniformF32(4), (u) => -2 + 4 * u));
  });

  it('rand in f16/bf16 stays below 1 and on the dtype grid; randn in f16 is the rounded f32 stream', async () => {
    const h = await rand([5000], { seed: 10, dtype: 'f16' }).raw();
    const vals = Array.from(h, f16BitsToF32);
    expect(vals.every((x) => x >= 0 && x < 1 && Number.isInteger(x * 2048))).toBe(true);
    const b = await rand([5000], { seed: 10, dtype: 'bf16' }).data();
    expect(b.every((x) => x >= 0 && x < 1 && Number.isInteger(x * 256))).toBe(true);
    const n16 = randn([7], { seed: 3, dtype: 'f16', device: 'reference' });
    expect(n16.device).toBe('reference');
    const n32 = await randn([7], { seed: 3 }).data();
    const widened = await n16.data();
    for (let i = 0; i < 7; i++)
      expect(Math.abs(widened[i] - n32[i])).toBeLessThanOrEqual(Math.abs(n32[i]) * 2 ** -11);
  });

  it('a shared generator advances: two draws differ and match one longer stream', async () => {
    const g = rng(4);
    const a = await randn([4], { rng: g }).data();
    const b = await randn([4], { rng: g }).data();
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect([...a, ...b]).toEqual(Array.from(Float32Array.from(rng(4).normal(8))));
  });

  it('empty and 0-d shapes', async () => {
    expect((await randn([0, 3], { seed: 1 }).data()).length).toBe(0);
    expect(rand([], { seed: 1 }).size).toBe(1);
  });

  it('rejects missing or double seeds and bad options', () => {
    expect(() => randn([2], {} as never)).toThrow(/exactly one of \{ seed \} or \{ rng \}/);
    expect(() => randn([2], { seed: 1, rng: rng(1) })).toThrow(/exactly one/);
    expect(() => rand([2], { seed: 1, low: 1, high: 1 })).toThrow(/low must be < high/);
    expect(() => randn([2], { seed: 1, dtype: 'i32' as never })).toThrow(/dtype/);
    expect(() => randn([2, -1], { seed: 1 })).toThrow(/randn: shape/);
    expect(() => randn([2], { seed: 1, sd: 2 } as never)).toThrow(
      'randn: options is invalid: Unrecognized key: "sd"; allowed: seed, rng, dtype, device, mean, std',
    );
    expect(() => rand([2], { seed: 1, hi: 2 } as never)).toThrow(/"hi"; allowed: .*low, high/);
  });
});
