import { describe, expect, it } from 'vitest';
import type { DType } from '../../dtype';
import { tensor } from '../../index';
import {
  expectClose,
  LAYOUTS,
  makeTensor,
  mulberry32,
  randint,
  randn,
  roundTo,
  tolFor,
} from '../../test-utils';
import { ropeInvFreq } from './inv-freq';
import { rope } from './rope';

/**
 * Hugging Face's formulation, written independently: emb = cat(freqs, freqs),
 * out = x·cos(emb) + rotate_half(x)·sin(emb) with rotate_half(x) = cat(-x2, x1); interleaved pairs
 * (2i, 2i+1) instead. Only the first `rd` features rotate.
 */
function ropeExpected(
  x: Float64Array,
  shape: number[],
  pos: (b: number, s: number) => number,
  inv: ArrayLike<number>,
  rd: number,
  interleaved: boolean,
): number[] {
  const [B, H, S, D] = shape;
  const out = Array.from(x);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let s = 0; s < S; s++) {
        const row = ((b * H + h) * S + s) * D;
        const xs = Array.from(x.subarray(row, row + rd));
        const rot = interleaved
          ? xs.map((_, j) => (j % 2 ? xs[j - 1] : -xs[j + 1]))
          : [...xs.slice(rd / 2).map((v) => -v), ...xs.slice(0, rd / 2)];
        for (let j = 0; j < rd; j++) {
          const f = inv[interleaved ? Math.floor(j / 2) : j % (rd / 2)];
          out[row + j] = xs[j] * Math.cos(pos(b, s) * f) + rot[j] * Math.sin(pos(b, s) * f);
        }
      }
  return out;
}

/** HF `_compute_llama3_parameters`, in its torch.where form. */
function llama3Expected(
  dim: number,
  theta: number,
  factor: number,
  low: number,
  high: number,
  orig: number,
): number[] {
  const inv = Array.from({ length: dim / 2 }, (_, i) => 1 / theta ** ((2 * i) / dim));
  const wavelen = inv.map((f) => (2 * Math.PI) / f);
  const llama = inv.map((f, i) => (wavelen[i] > orig / low ? f / factor : f));
  const smooth = wavelen.map((w) => (orig / w - low) / (high - low));
  const smoothed = llama.map((f, i) => ((1 - smooth[i]) * f) / factor + smooth[i] * f);
  return llama.map((f, i) => (!(wavelen[i] < orig / high) && !(wavelen[i] > orig / low) ? smoothed[i] : f));
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

describe('ropeInvFreq', () => {
  it('is theta^(-2i/dim), and linear scaling divides by the factor', () => {
    const inv = ropeInvFreq(8, { theta: 10000 });
    expectClose(inv, [1, 0.1, 0.01, 0.001], 1e-15, 0, 'plain');
    expectClose(
      ropeInvFreq(8, { theta: 10000, scaling: { type: 'linear', factor: 4 } }),
      [0.25, 0.025, 0.0025, 0.00025],
      1e-15,
      0,
      'linear',
    );
  });

  it('llama3 scaling matches HF in all three wavelength regimes', () => {
    const got = ropeInvFreq(128, {
      theta: 500000,
      scaling: {
        type: 'llama3',
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 8192,
      },
    });
    const want = llama3Expected(128, 500000, 8, 1, 4, 8192);
    expectClose(got, want, 1e-14, 0, 'llama3');
    const plain = ropeInvFreq(128, { theta: 500000 });
    const wl = Array.from(plain, (f) => (2 * Math.PI) / f);
    // High frequencies are kept, low ones divided by 8, the middle band strictly in between.
    const kept = wl.findIndex((w) => w >= 8192 / 4);
    const divided = wl.findIndex((w) => w > 8192);
    expect(kept).toBeGreaterThan(0);
    expect(divided).toBeGreaterThan(kept);
    for (let i = 0; i < 64; i++) {
      if (i < kept) expect(got[i]).toBe(plain[i]);
      else if (i >= divided) expect(got[i]).toBeCloseTo(plain[i] / 8, 15);
      else expect(got[i] < plain[i] && got[i] > plain[i] / 8).toBe(true);
    }
  });

  it('validates dim and options', () => {
    expect(() => ropeInvFreq(7, { theta: 1e4 })).toThrow(
      /ropeInvFreq: dim must be a positive even integer, got 7/,
    );
    expect(() => ropeInvFreq(8, { theta: -1 })).toThrow(/ropeInvFreq: option 'theta' is invalid/);
    expect(() => ropeInvFreq(8, { theta: 1e4, scaling: { type: 'yarn' } as never })).toThrow(
      /ropeInvFreq: option 'scaling.type' is invalid/,
    );
    const bad = {
      type: 'llama3' as const,
      factor: 8,
      lowFreqFactor: 4,
      highFreqFactor: 1,
      originalMaxPositionEmbeddings: 8192,
    };
    expect(() => ropeInvFreq(8, { theta: 1e4, scaling: bad })).toThrow(
      /'scaling.highFreqFactor' \(1\) must be greater than 'scaling.lowFreqFactor' \(4\)/,
    );
  });
});

describe('rope', () => {
  const rng = mulberry32(31);

  it('matches HF rotate_half and interleaved formulas on random inputs, dtypes and layouts', async () => {
    let c = 0;
    for (const dtype of ['f32', 'f16', 'bf16'] as DType[]) {
      for (const [shape, rd, interleaved, batched] of [
        [[1, 2, 5, 8], 8, false, false],
        [[2, 3, 4, 16], 16, true, true],
        [[2, 2, 3, 12], 8, false, true],
        [[1, 1, 6, 10], 4, true, false],
      ] as [number[], number, boolean, boolean][]) {
        const [B, H, S, D] = shape;
        const x = roundTo(randn(rng, B * H * S * D), dtype);
        const p = randint(rng, batched ? B * S : S, 0, 5000);
        const theta = c % 2 ? 10000 : 500000;
        const y = rope(
          makeTensor(x, shape, dtype, LAYOUTS[c++ % 3]),
          makeTensor(p, batched ? [B, S] : [S], 'i32', 'strided'),
          {
            theta,
            rotaryDim: rd,
            interleaved,
          },
        );
        expect(y.shape).toEqual(shape);
        expect(y.dtype).toBe(dtype);
        const inv = Array.from({ length: rd / 2 }, (_, i) => theta ** (-(2 * i) / rd));
        const want = ropeExpected(x, shape, (b, s) => p[batched ? b * S + s : s], inv, rd, interleaved);
        expectClose(
          await y.data(),
          want,
          tolFor(dtype),
          tolFor(dtype) * 4,
          `${dtype} [${shape}] rd ${rd} interleaved ${interleaved}`,
        );
      }
    }
  });

  it('works on the usual transposed view of a [B, S, H, D] projection', async () => {
    const [B, S, H, D] = [2, 3, 2, 4];
    const raw = randn(rng, B * S * H * D);
    const bshd = tensor(raw, [B, S, H, D]);
    const view = bshd.transpose(1, 2); // [B, H, S, D], non-contiguous
    expect(view.isContiguous()).toBe(false);
    const pos = tensor([0, 1, 2], [3], { dtype: 'i32' });
    const got = await rope(view, pos, { theta: 10000 }).array();
    const want = await rope(view.contiguous(), pos, { theta: 10000 }).array();
    expect(got).toEqual(want);
  });

  it('<rope(q, m), rope(k, n)> depends only on m - n, and norms are preserved', async () => {
    const D = 16;
    for (const interleaved of [false, true]) {
      const q = tensor(randn(rng, D), [1, 1, 1, D]);
      const k = tensor(randn(rng, D), [1, 1, 1, D]);
      const at = async (t: typeof q, p: number) =>
        rope(t, tensor([p], [1], { dtype: 'i32' }), { theta: 10000, interleaved }).array();
      const d1 = dot(await at(q, 7), await at(k, 3));
      const d2 = dot(await at(q, 1004), await at(k, 1000));
      expect(Math.abs(d1 - d2)).toBeLessThan(1e-4);
      const d3 = dot(await at(q, 3), await at(k, 7)); // m - n = -4: a different value
      expect(Math.abs(d1 - d3)).toBeGreaterThan(1e-3);
      const qv = await q.array();
      expect(dot(await at(q, 123), await at(q, 123))).toBeCloseTo(dot(qv, qv), 4);
    }
  });

  it('linear scaling at position p equals no scaling at p / factor; position 0 is the identity', async () => {
    const x = tensor(randn(rng, 8), [1, 1, 1, 8]);
    const scaled = await rope(x, tensor([12], [1], { dtype: 'i32' }), {
      theta: 100,
      scaling: { type: 'linear', factor: 4 },
    }).array();
    const plain = await rope(x, tensor([3], [1], { dtype: 'i32' }), { theta: 100 }).array();
    expectClose(scaled, plain, 1e-6, 1e-7, 'linear');
    expect(await rope(x, tensor([0], [1], { dtype: 'i32' }), { theta: 100 }).array()).toEqual(
      await x.array(),
    );
  });

  it('rejects bad positions, dims and options', () => {
    const x = tensor(new Float32Array(2 * 2 * 3 * 4), [2, 2, 3, 4]);
    const p = tensor([0, 1, 2], [3], { dtype: 'i32' });
    expect(() => rope(x, tensor([0, 1, 2]), { theta: 1e4 })).toThrow(
      /rope: positions \[3\] has dtype f32; expected i32/,
    );
    expect(() => rope(x, tensor([0, 1], [2], { dtype: 'i32' }), { theta: 1e4 })).toThrow(
      /rope: positions must be \[3\] or \[2, 3\] for x \[2, 2, 3, 4\], got \[2\]/,
    );
    expect(() => rope(x, p, { theta: 1e4, rotaryDim: 3 })).toThrow(
      /rope: rotaryDim must be even and at most headDim 4/,
    );
    expect(() => rope(x, p, { theta: 1e4, rotaryDim: 6 })).toThrow(/rope: rotaryDim must be even/);
    expect(() => rope(x, p, { theta: 0 })).toThrow(/rope: option 'theta' is invalid/);
    expect(() => rope(x, p, { theta: 1e4, inteleaved: true } as never)).toThrow(
      'rope: options is invalid: Unrecognized key: "inteleaved"; allowed: theta, rotaryDim, scaling, interleaved',
    );
    expect(() => rope(x.reshape([4, 3, 4]), p, { theta: 1e4 })).toThrow(
      /rope: x must be \[batch, heads, seq, headDim\]/,
    );
  });
});
