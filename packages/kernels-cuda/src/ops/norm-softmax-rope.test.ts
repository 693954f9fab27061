import { describe, expect, it } from 'vitest';
import { elementwiseLaunch } from './elementwise';
import { layernormLaunch } from './layernorm';
import { rmsnormLaunch } from './rmsnorm';
import { ropeLaunch } from './rope';
import { softmaxLaunch } from './softmax';
import { fake } from './testing';

describe('cuda rmsnorm / layernorm / softmax / rope / elementwise argument checks', () => {
  it('rmsnorm: rows and D from the shape, eps default 1e-6; weight must be [D] of x dtype', () => {
    const l = rmsnormLaunch({
      x: fake('bf16', [2, 3, 64]),
      weight: fake('bf16', [64]),
      out: fake('bf16', [2, 3, 64]),
    });
    expect(l.params).toEqual([2, 6, 64, 1e-6]);
    expect(() =>
      rmsnormLaunch({ x: fake('f32', [2, 64]), weight: fake('f32', [32]), out: fake('f32', [2, 64]) }),
    ).toThrow(/cuda rmsnorm: weight must be \[64\], got \[32\]/);
    expect(() =>
      rmsnormLaunch({ x: fake('f32', [2, 64]), weight: fake('f16', [64]), out: fake('f32', [2, 64]) }),
    ).toThrow(/weight must have x's dtype f32, got f16/);
    expect(() =>
      rmsnormLaunch({
        x: fake('f32', [2, 64]),
        weight: fake('f32', [64]),
        out: fake('f32', [2, 64]),
        eps: -1,
      }),
    ).toThrow(/option 'eps' is invalid/);
  });

  it('layernorm: optional weight and bias become null buffers', () => {
    const l = layernormLaunch({ x: fake('f32', [4, 8]), out: fake('f32', [4, 8]) });
    expect(l.buffers.slice(2, 6)).toEqual([-1, 0, -1, 0]);
    expect(l.params).toEqual([0, 4, 8, 1e-5]);
  });

  it('softmax: rejects an empty last dimension and a different output shape', () => {
    expect(() => softmaxLaunch({ x: fake('f32', [3, 0]), out: fake('f32', [3, 0]) })).toThrow(
      /non-empty last dimension/,
    );
    expect(() => softmaxLaunch({ x: fake('f32', [3, 4]), out: fake('f32', [4, 3]) })).toThrow(
      /out must be \[3, 4\], got \[4, 3\]/,
    );
  });

  it('rope: positions [S] or [B, S], invFreq f64 giving an even rotaryDim <= D', () => {
    const x = fake('f16', [2, 4, 5, 16]);
    const l = ropeLaunch({
      x,
      positions: fake('i32', [2, 5]),
      invFreq: fake('f64', [4]),
      out: fake('f16', [2, 4, 5, 16]),
    });
    expect(l.params).toEqual([1, 5, 2, 4, 5, 16, 8, 0]);
    expect(() =>
      ropeLaunch({
        x,
        positions: fake('i32', [3, 5]),
        invFreq: fake('f64', [8]),
        out: fake('f16', [2, 4, 5, 16]),
      }),
    ).toThrow(/positions must be \[5\] or \[2, 5\] for x \[2, 4, 5, 16\], got \[3, 5\]/);
    expect(() =>
      ropeLaunch({
        x,
        positions: fake('i32', [5]),
        invFreq: fake('f64', [9]),
        out: fake('f16', [2, 4, 5, 16]),
      }),
    ).toThrow(/gives rotaryDim 18; it must be in 2..16/);
    expect(() =>
      ropeLaunch({
        x,
        positions: fake('f32', [5]),
        invFreq: fake('f64', [8]),
        out: fake('f16', [2, 4, 5, 16]),
      }),
    ).toThrow(/positions must be i32, got f32/);
  });

  it('elementwise: same shapes only (no broadcasting), known ops only', () => {
    const l = elementwiseLaunch({
      op: 'siluMul',
      a: fake('f32', [2, 8]),
      b: fake('f32', [2, 8]),
      out: fake('f32', [2, 8]),
    });
    expect(l.params).toEqual([0, 2, 16]);
    expect(() =>
      elementwiseLaunch({ op: 'add', a: fake('f32', [2, 8]), b: fake('f32', [8]), out: fake('f32', [2, 8]) }),
    ).toThrow(/b must be \[2, 8\], got \[8\]/);
    expect(() =>
      elementwiseLaunch({
        op: 'gelu' as never,
        a: fake('f32', [2]),
        b: fake('f32', [2]),
        out: fake('f32', [2]),
      }),
    ).toThrow(/option 'op' is invalid/);
  });
});
