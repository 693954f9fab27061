import { describe, expect, it } from 'vitest';
import { gemmLaunch } from './gemm';
import { fake } from './testing';

describe('cuda gemm argument checks', () => {
  it('builds the launch of a batched bf16 product with a transposed shared weight', () => {
    const a = fake('bf16', [3, 5, 8]);
    const b = fake('bf16', [7, 8]);
    const out = fake('bf16', [3, 5, 7]);
    const l = gemmLaunch({ a, b, out, transB: true });
    expect(l.kernel).toBe('gemm');
    expect(l.version).toBe(3);
    // dtype bf16 = 2, batch, M, N, K, strides (b shared: 0), transB
    expect(l.params).toEqual([2, 3, 5, 7, 8, 40, 0, 35, 1]);
    expect(l.buffers).toEqual([a.buffer.id, 0, b.buffer.id, 0, out.buffer.id, 0]);
  });

  it('rejects mismatched inner dimensions, naming both shapes', () => {
    expect(() =>
      gemmLaunch({ a: fake('f32', [4, 8]), b: fake('f32', [9, 3]), out: fake('f32', [4, 3]) }),
    ).toThrow(/cuda gemm: inner dimensions differ: a \[4, 8\] has K=8, b \[9, 3\] has K=9/);
  });

  it('rejects mixed dtypes, a wrong output shape and f32 on tensor cores', () => {
    expect(() =>
      gemmLaunch({ a: fake('f16', [4, 8]), b: fake('f32', [8, 3]), out: fake('f16', [4, 3]) }),
    ).toThrow(/b must have a's dtype f16, got f32/);
    expect(() =>
      gemmLaunch({ a: fake('f32', [4, 8]), b: fake('f32', [8, 3]), out: fake('f32', [3, 4]) }),
    ).toThrow(/out must be \[4, 3\], got \[3, 4\]/);
    expect(() =>
      gemmLaunch({ a: fake('f32', [4, 8]), b: fake('f32', [8, 3]), out: fake('f32', [4, 3]), version: 3 }),
    ).toThrow(/version 3 \(tensor cores\) takes f16 or bf16/);
  });

  it('rejects a tensor that does not fit its buffer, and unknown options', () => {
    expect(() =>
      gemmLaunch({
        a: fake('f32', [4, 8], { bytes: 100 }),
        b: fake('f32', [8, 3]),
        out: fake('f32', [4, 3]),
      }),
    ).toThrow(/a f32 \[4, 8\] at element offset 0 needs 128 bytes but its buffer has 100/);
    expect(() =>
      gemmLaunch({
        a: fake('f32', [4, 8]),
        b: fake('f32', [8, 3]),
        out: fake('f32', [4, 3]),
        alpha: 2,
      } as never),
    ).toThrow(/Unrecognized key: "alpha"; allowed: a, b, out, transB, version/);
  });
});
