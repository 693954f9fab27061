import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { concat, tensor } from '../../index';
import { sizeOf } from '../../shape';
import {
  expectClose,
  LAYOUTS,
  makeTensor,
  mulberry32,
  randint,
  randn,
  ravel,
  roundTo,
  tolFor,
} from '../../test-utils';
import type { AttentionCase } from '../fast-testing';
import { sdpa } from './sdpa';

interface Case extends Omit<AttentionCase, 'mask'> {
  maskShape?: number[];
}

/** Explicit formula: scores matrix with -Inf where not allowed, softmax, then P·V, per (b, h). */
function expected(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  mask: Float64Array | null,
  c: Case,
): number[] {
  const { B, Hq, Hkv, S, T, D, Dv } = c;
  const scale = c.scale ?? 1 / Math.sqrt(D);
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor((h * Hkv) / Hq);
      for (let i = 0; i < S; i++) {
        const scores = Array.from({ length: T }, (_, j) => {
          const causalOk = !c.causal || j <= i + (T - S);
          const maskOk =
            !mask ||
            !!mask[
              ravel(
                c.maskShape!.map((d, ax) => (d === 1 ? 0 : [b, h, i, j][ax + 4 - c.maskShape!.length])),
                c.maskShape!,
              )
            ];
          if (!causalOk || !maskOk) return -Infinity;
          let s = 0;
          for (let d = 0; d < D; d++)
            s += q[((b * Hq + h) * S + i) * D + d] * k[((b * Hkv + g) * T + j) * D + d];
          return s * scale;
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, x) => a + x, 0);
        for (let d = 0; d < Dv; d++)
          out.push(e.reduce((a, p, j) => a + (p / z) * v[((b * Hkv + g) * T + j) * Dv + d], 0));
      }
    }
  return out;
}

const CASES: Case[] = [
  { B: 1, Hq: 2, Hkv: 2, S: 4, T: 4, D: 8, Dv: 8 },
  { B: 2, Hq: 4, Hkv: 2, S: 5, T: 5, D: 8, Dv: 6, causal: true },
  { B: 1, Hq: 6, Hkv: 1, S: 1, T: 9, D: 4, Dv: 4, causal: true }, // decode with a cache, multi-query
  { B: 2, Hq: 3, Hkv: 3, S: 3, T: 7, D: 5, Dv: 3, causal: true }, // chunked prefill
  { B: 2, Hq: 4, Hkv: 2, S: 3, T: 6, D: 4, Dv: 4, maskShape: [3, 6] },
  { B: 2, Hq: 2, Hkv: 1, S: 4, T: 6, D: 4, Dv: 4, maskShape: [2, 1, 4, 6], causal: true },
  { B: 1, Hq: 2, Hkv: 2, S: 2, T: 3, D: 4, Dv: 2, maskShape: [1, 2, 1, 3], scale: 0.3 },
  { B: 2, Hq: 4, Hkv: 2, S: 3, T: 5, D: 4, Dv: 4, maskShape: [2, 1, 1, 5], causal: true }, // padding
];

describe('sdpa vs the explicit formula', () => {
  const rng = mulberry32(91);

  it('MHA, GQA, MQA, causal with a cache, broadcast masks, custom scale; dtypes and layouts', async () => {
    let n = 0;
    for (const dtype of ['f32', 'f16', 'bf16'] as DType[]) {
      for (const c of CASES) {
        const { B, Hq, Hkv, S, T, D, Dv } = c;
        const q = roundTo(randn(rng, B * Hq * S * D), dtype);
        const k = roundTo(randn(rng, B * Hkv * T * D), dtype);
        const v = roundTo(randn(rng, B * Hkv * T * Dv), dtype);
        let mask: Float64Array | null = null;
        if (c.maskShape) {
          mask = randint(rng, sizeOf(c.maskShape), 0, 2);
          // Keep the diagonal key (T - S + i) visible so no row is fully masked (tested separately).
          const rows = c.maskShape.length > 1 ? c.maskShape[c.maskShape.length - 2] : 1;
          for (let r = 0; r < mask.length / T; r++) mask[r * T + T - S + (rows === 1 ? 0 : r % rows)] = 1;
        }
        const y = sdpa(
          makeTensor(q, [B, Hq, S, D], dtype, LAYOUTS[n % 3]),
          makeTensor(k, [B, Hkv, T, D], dtype, LAYOUTS[(n + 1) % 3]),
          makeTensor(v, [B, Hkv, T, Dv], dtype, LAYOUTS[(n + 2) % 3]),
          {
            causal: c.causal,
            scale: c.scale,
            mask: mask ? makeTensor(mask, c.maskShape!, 'bool', LAYOUTS[n % 3]) : undefined,
          },
        );
        n++;
        expect(y.shape).toEqual([B, Hq, S, Dv]);
        expect(y.dtype).toBe(dtype);
        expectClose(
          await y.data(),
          expected(q, k, v, mask, c),
          tolFor(dtype),
          tolFor(dtype),
          `${dtype} ${JSON.stringify(c)}`,
        );
      }
    }
  });

  it('a tree mask equals separate causal attention per branch', async () => {
    // Context of P tokens, then a draft tree: branch A = (a1, a2), branch B = (b1), all children of the context.
    const [P, D] = [4, 8];
    const row = () => randn(rng, D);
    const ctxK = randn(rng, P * D);
    const ctxV = randn(rng, P * D);
    const [qa1, qa2, qb1, ka1, ka2, kb1, va1, va2, vb1] = Array.from({ length: 9 }, row);
    const t4 = (parts: Float64Array[], len: number) =>
      tensor(Float64Array.from(parts.flatMap((p) => Array.from(p))), [1, 1, len, D]);
    // Tree: queries a1, a2, b1 over keys ctx, a1, a2, b1.
    const visible = [
      [1, 1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1, 1, 0],
      [1, 1, 1, 1, 0, 0, 1],
    ].flat();
    const tree = sdpa(
      t4([qa1, qa2, qb1], 3),
      t4([ctxK, ka1, ka2, kb1], P + 3),
      t4([ctxV, va1, va2, vb1], P + 3),
      {
        mask: tensor(visible, [3, P + 3], { dtype: 'bool' }),
      },
    );
    const a = sdpa(t4([qa1, qa2], 2), t4([ctxK, ka1, ka2], P + 2), t4([ctxV, va1, va2], P + 2), {
      causal: true,
    });
    const b = sdpa(t4([qb1], 1), t4([ctxK, kb1], P + 1), t4([ctxV, vb1], P + 1), { causal: true });
    expectClose(await tree.array(), await concat([a, b], 2).array(), 1e-6, 1e-7, 'tree vs branches');
  });

  it('a padding mask [B, 1, 1, T] equals attention over each sequence without its padding', async () => {
    // Left-padded batch: sequence b starts after pads[b] padding keys; decode (S = 1) and a chunk (S = 2).
    const [Hq, Hkv, T, D] = [4, 2, 7, 8];
    const pads = [0, 3, 5];
    const B = pads.length;
    for (const S of [1, 2]) {
      const q = randn(rng, B * Hq * S * D);
      const k = randn(rng, B * Hkv * T * D);
      const v = randn(rng, B * Hkv * T * D);
      const keep = pads.flatMap((p) => Array.from({ length: T }, (_, j) => +(j >= p)));
      const padded = sdpa(
        makeTensor(q, [B, Hq, S, D], 'f32', 'permuted'),
        makeTensor(k, [B, Hkv, T, D], 'f32', 'strided'),
        makeTensor(v, [B, Hkv, T, D]),
        { causal: true, mask: tensor(keep, [B, 1, 1, T], { dtype: 'bool' }) },
      );
      const got = await padded.array();
      for (const [b, p] of pads.entries()) {
        const kb = tensor(k.subarray(b * Hkv * T * D, (b + 1) * Hkv * T * D), [1, Hkv, T, D]).slice(2, p);
        const vb = tensor(v.subarray(b * Hkv * T * D, (b + 1) * Hkv * T * D), [1, Hkv, T, D]).slice(2, p);
        const qb = tensor(q.subarray(b * Hq * S * D, (b + 1) * Hq * S * D), [1, Hq, S, D]);
        const want = await sdpa(qb, kb, vb, { causal: true }).array();
        const n = Hq * S * D;
        expectClose(got.slice(b * n, (b + 1) * n), want, 1e-6, 1e-7, `S ${S} batch ${b} pads ${p}`);
      }
    }
  });

  it('softmax weights sum to one: attending to constant values returns that constant', async () => {
    const v = tensor(new Float32Array(1 * 1 * 6 * 2).fill(2.5), [1, 1, 6, 2]);
    const y = sdpa(tensor(randn(rng, 3 * 4), [1, 1, 3, 4]), tensor(randn(rng, 6 * 4), [1, 1, 6, 4]), v, {
      causal: true,
    });
    expectClose(await y.array(), new Array(6).fill(2.5), 1e-6, 0, 'constant');
  });

  it('a query row that may attend to nothing is zero (padding rows), not NaN', async () => {
    const q = tensor([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 2, 4]);
    const k = tensor([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [1, 1, 3, 4]);
    const v = tensor([10, 20, 30, 40, 50, 60], [1, 1, 3, 2]);
    // Query 1 sits at position 2 under causal; the mask hides every key from it.
    const none = tensor([1, 1, 1, 0, 0, 0], [2, 3], { dtype: 'bool' });
    const y = await sdpa(q, k, v, { mask: none, causal: true }).array();
    expect(y.slice(2)).toEqual([0, 0]);
    // Query 0 (position 1) sees keys 0 and 1: scores q·k / 2 = 0.5 and 1.
    const w0 = 1 / (1 + Math.exp(0.5));
    expect(y[0]).toBeCloseTo(w0 * 10 + (1 - w0) * 30, 4);
    expect(y[1]).toBeCloseTo(w0 * 20 + (1 - w0) * 40, 4);
  });

  it('rejects bad shapes, dtypes, masks and options', () => {
    const x = (shape: number[], dtype: DType = 'f32') =>
      tensor(new Float32Array(sizeOf(shape)), shape, { dtype });
    const q = x([1, 4, 2, 8]);
    const k = x([1, 2, 3, 8]);
    expect(() => sdpa(q, x([1, 3, 3, 8]), x([1, 3, 3, 8]))).toThrow(
      /sdpa: query heads \(4\) must be a multiple of key\/value heads \(3\)/,
    );
    expect(() => sdpa(q, x([1, 2, 3, 4]), k)).toThrow(/sdpa: expected k \[1, Hkv, T, 8\]/);
    expect(() => sdpa(q, k, x([1, 2, 4, 8]))).toThrow(/sdpa: expected k .* same Hkv and T/);
    expect(() => sdpa(x([1, 4, 5, 8]), k, k, { causal: true })).toThrow(
      /sdpa: causal attention needs at least as many keys as queries \(S=5 <= T=3\)/,
    );
    expect(() => sdpa(q, x([1, 2, 3, 8], 'f16'), k)).toThrow(/sdpa: k has dtype f16 but the input is f32/);
    expect(() => sdpa(q, k, k, { mask: x([2, 3]) })).toThrow(
      /sdpa: mask \[2, 3\] has dtype f32; expected bool/,
    );
    expect(() => sdpa(q, k, k, { mask: x([3, 3], 'bool') })).toThrow(
      /sdpa: (mask \[3, 3\] must broadcast|cannot broadcast)/,
    );
    expect(() => sdpa(q, k, k, { mask: x([2, 1, 1, 3], 'bool') })).toThrow(
      /sdpa: mask \[2, 1, 1, 3\] must broadcast to \[B, Hq, S, T\] = \[1, 4, 2, 3\]/,
    );
    expect(() => sdpa(q, k, k, { scale: Number.NaN })).toThrow(/sdpa: option 'scale'/);
    expect(() => sdpa(q, k, k, { casual: true } as never)).toThrow(/sdpa: options is invalid/);
    expect(() => sdpa(q.reshape([4, 2, 8]), k, k)).toThrow(
      /sdpa: q, k and v must be \[batch, heads, seq, headDim\]/,
    );
  });
});
