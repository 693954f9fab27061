import { rng } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { fullForward } from '../block-denoiser';
import { ToyBlockDenoiser } from './toy-block-denoiser';

describe('ToyBlockDenoiser', () => {
  const dit = new ToyBlockDenoiser({ seed: 1 });
  const unet = new ToyBlockDenoiser({ architecture: 'unet', seed: 1 });

  it('computes each item independently: a batch equals its items run alone, bit for bit', () => {
    for (const model of [dit, unet]) {
      const x = rng(2).normal(3 * model.sampleSize);
      const f = fullForward(model);
      const batched = f(x, 420, [0, null, 3]);
      const alone = [0, null, 3].flatMap((c, b) =>
        Array.from(f(x.slice(b * model.sampleSize, (b + 1) * model.sampleSize), 420, [c])),
      );
      expect(Array.from(batched)).toEqual(alone);
      expect(batched.every(Number.isFinite)).toBe(true);
    }
  });

  it('runBlock with tokens updates exactly the selected rows, as the full block would', () => {
    const x = rng(3).normal(2 * dit.sampleSize);
    const full = dit.begin(x, 300, [1, null]);
    const part = dit.begin(x, 300, [1, null]);
    const before = part.hidden.slice();
    full.runBlock(0);
    part.runBlock(0, { tokens: Int32Array.of(1, 5) });
    const W = dit.width;
    for (let b = 0; b < 2; b++)
      for (let tok = 0; tok < dit.tokens; tok++) {
        const o = (b * dit.tokens + tok) * W;
        const got = Array.from(part.hidden.subarray(o, o + W));
        const want = tok === 1 || tok === 5 ? full.hidden.subarray(o, o + W) : before.subarray(o, o + W);
        expect(got).toEqual(Array.from(want));
      }
    expect(() => part.runBlock(1, { tokens: Int32Array.of(3, 2) })).toThrow(
      /ascending, distinct rows in \[0, 8\)/,
    );
  });

  it('is smooth in t: block outputs at neighbouring timesteps differ little', () => {
    const x = rng(4).normal(dit.sampleSize);
    const f = fullForward(dit);
    const a = f(x, 500, [2]);
    const b = f(x, 510, [2]);
    const far = f(x, 900, [2]);
    const dist = (p: Float64Array, q: Float64Array) => Math.hypot(...p.map((v, i) => v - q[i]));
    expect(dist(a, b)).toBeLessThan(0.1 * dist(a, far));
    expect(dist(a, far)).toBeGreaterThan(0);
  });

  it('UNet: skips are pushed by down blocks and popped by up blocks; balanced spans are symmetric about the middle', () => {
    expect(unet.numBlocks).toBe(5);
    expect([
      unet.balancedSpan(1, 4),
      unet.balancedSpan(2, 3),
      unet.balancedSpan(0, 5),
      unet.balancedSpan(3, 3),
    ]).toEqual([true, true, true, true]);
    expect([
      unet.balancedSpan(1, 3),
      unet.balancedSpan(2, 4),
      unet.balancedSpan(0, 1),
      unet.balancedSpan(4, 5),
    ]).toEqual([false, false, false, false]);
    const pass = unet.begin(new Float64Array(unet.sampleSize), 100, [null]);
    expect(pass.shape).toEqual([1, 8, 8, 8]);
    pass.runBlock(0);
    expect(pass.shape).toEqual([1, 8, 4, 4]);
    pass.runBlock(1);
    pass.runBlock(2);
    expect(pass.shape).toEqual([1, 8, 2, 2]);
    pass.runBlock(3);
    pass.runBlock(4);
    expect(pass.shape).toEqual([1, 8, 8, 8]);
    expect(() => pass.runBlock(4)).toThrow(/found no skip feature/);
    expect(dit.balancedSpan(1, 3)).toBe(true);
  });

  it('checks its inputs and options', () => {
    expect(() => dit.begin(new Float64Array(3), 0, [null])).toThrow(/x has 3 values, expected 1 items × 32/);
    expect(() => dit.begin(new Float64Array(32), 0, [7])).toThrow(/class label 7/);
    expect(() => new ToyBlockDenoiser({ architecture: 'unet', resolution: 6 })).toThrow(
      /'resolution' \(6\) must be divisible by 2\^levels = 4/,
    );
    expect(() => new ToyBlockDenoiser({ depth: 3 } as never)).toThrow(/Unrecognized key: "depth"/);
    expect(() => unet.balancedSpan(2, 9)).toThrow(/not a span of \[0, 5\)/);
  });
});
