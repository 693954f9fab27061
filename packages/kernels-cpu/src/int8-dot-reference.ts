/**
 * @file The semantics of the integer-dot path (`configureCpuKernels({ dot: 'int8' })`), written
 * plainly: what the native kernels (native/qdot_impl.h, x quantized by binding.cc quantize_x)
 * compute, up to the order of the final float additions. After llama.cpp's CPU path for Q8_0 / Q4_0
 * weights (ggml-org/llama.cpp ggml/src/ggml-quants.c quantize_row_q8_0_ref; ggml-cpu's
 * ggml_vec_dot_q8_0_q8_0 / ggml_vec_dot_q4_0_q8_0), with the activation scale kept in f32.
 *
 * 1. Each row of x is cut into blocks of 32 along K (the last zero-padded). Per block: d = max|x| /
 *    127 in f32, q = round-half-away-from-zero(f32(x * f32(1 / d))), so |q| <= 127 and |x - d q| <= d / 2;
 *    S = Σ q. A block with a NaN or infinity gets d = NaN; one whose max |x| is below 2^-100 is all
 *    zeros with d = 0.
 * 2. Each weight block of 32 is integer codes c with a scale s and an integer zero point z
 *    (w = s (c - z)): Q8_0 c int8, z 0; Q4_0 c the nibble, z 8; int8 per channel c int8, s 1 (the
 *    row's scale multiplies the row's sum); int8 groups c int8 (z 0) or u8 (z the group's zero
 *    point); int4 groups c the nibble, z 8 or the group's zero point. The GGUF K-quants (super-blocks
 *    of 8 blocks): Q4_K c the nibble, s = d·sc_j, plus a min term m = −dmin·min_j per block
 *    (w = s c + m, contributing m·d_b·S_b); Q6_K c = q − 32 (q the 6-bit code), with one scale per
 *    16 weights: s for elements 0..15 of the block, sHi for 16..31.
 * 3. y[r, n] = rowScale · Σ_b d_b (s_b (Σ_{j<16} c_j q_j − z_b S_b,lo) + sHi_b (Σ_{j>=16} c_j q_j − z_b S_b,hi)
 *    + m_b S_b), sHi = s but for Q6_K, m = 0 but for Q4_K: the inner sums are exact integers.
 *
 * The kernels accumulate the float combination in f32; the difference from this float64 one is
 * within (blocks + 16) 2^-23 · magnitude, magnitude = |rowScale| Σ_b |d_b| (max(|s_b|, |sHi_b|)
 * (Σ_j |c_j q_j| + |z_b S_b|) + |m_b S_b|).
 */
import { f16BitsToF32, type QuantizedWeight } from '@hasten/core-tensor';

/** Formats with an integer-dot kernel; the others keep the float path with dot 'int8'. */
export const INT8_DOT_FORMATS = ['int8', 'int8-group', 'int4-group', 'q8_0', 'q4_0', 'q4_k', 'q6_k'] as const;

export const hasInt8Dot = (format: string): boolean =>
  (INT8_DOT_FORMATS as readonly string[]).includes(format);

/** x [m, K] quantized per block of 32: codes [m, kb·32], scales and code sums [m, kb]. */
export interface QuantizedActivations {
  kb: number;
  q: Int8Array;
  d: Float32Array;
  sums: Int32Array;
}

/** Below this max |x| a block is all zeros (1 / d could overflow f32). */
export const TINY_BLOCK = 2 ** -100;

/** Round half away from zero (C's roundf), exactly, for |v| < 2^23. */
function roundHalfAway(v: number): number {
  const t = Math.trunc(v);
  const f = v - t;
  return t + (f >= 0.5 ? 1 : f <= -0.5 ? -1 : 0);
}

export function quantizeActivations(x: Float32Array, m: number, k: number): QuantizedActivations {
  const kb = Math.ceil(k / 32);
  const q = new Int8Array(m * kb * 32);
  const d = new Float32Array(m * kb);
  const sums = new Int32Array(m * kb);
  for (let r = 0; r < m; r++)
    for (let b = 0; b < kb; b++) {
      const len = Math.min(32, k - 32 * b);
      const at = r * k + 32 * b;
      let amax = 0;
      let finite = true;
      for (let j = 0; j < len; j++) {
        const a = Math.abs(x[at + j]);
        if (!Number.isFinite(a)) finite = false;
        else amax = Math.max(amax, a);
      }
      const i = r * kb + b;
      if (!finite) d[i] = Number.NaN;
      if (!finite || amax < TINY_BLOCK) continue; // codes and sum stay 0
      d[i] = Math.fround(amax / 127);
      const id = Math.fround(1 / d[i]);
      let s = 0;
      for (let j = 0; j < len; j++) {
        const v = roundHalfAway(Math.fround(x[at + j] * id));
        q[i * 32 + j] = v;
        s += v;
      }
      sums[i] = s;
    }
  return { kb, q, d, sums };
}

const half = (bytes: Uint8Array, at: number) => f16BitsToF32(bytes[at] | (bytes[at + 1] << 8));

/** A weight block: w_j = s_j (c_j − z) + m, s_j = s for j < 16 and sHi for j >= 16. */
export interface WeightBlock {
  c: Int32Array;
  s: number;
  sHi: number;
  z: number;
  m: number;
}

/** The 6-bit scale and min j of a Q4_K super-block's 12 bytes at `at` (ggml-quants.c get_scale_min_k4). */
function scaleMinK4(data: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [data[at + j] & 63, data[at + j + 4] & 63];
  return [
    (data[at + j + 4] & 0xf) | ((data[at + j - 4] >> 6) << 4),
    (data[at + j + 4] >> 4) | ((data[at + j] >> 6) << 4),
  ];
}

/** Block b of row n: 32 codes (zero-padded past K), scales, zero point and min term. */
export function weightBlock(w: QuantizedWeight, n: number, b: number): WeightBlock {
  const one = weightBlock1(w, n, b);
  return 'sHi' in one ? one : { ...one, sHi: one.s, m: 0 };
}

function weightBlock1(
  w: QuantizedWeight,
  n: number,
  b: number,
): WeightBlock | { c: Int32Array; s: number; z: number } {
  const [, k] = w.shape;
  const c = new Int32Array(32);
  const nibbles = (at: number) => {
    for (let j = 0; j < 16; j++) {
      c[j] = w.data[at + j] & 15;
      c[j + 16] = w.data[at + j] >> 4;
    }
  };
  switch (w.format) {
    case 'q8_0': {
      const at = (n * (k / 32) + b) * 34;
      for (let j = 0; j < 32; j++) c[j] = (w.data[at + 2 + j] << 24) >> 24;
      return { c, s: half(w.data, at), z: 0 };
    }
    case 'q4_0': {
      const at = (n * (k / 32) + b) * 18;
      nibbles(at + 2);
      return { c, s: half(w.data, at), z: 8 };
    }
    case 'int8':
      for (let j = 0; j < 32 && 32 * b + j < k; j++) c[j] = (w.data[n * k + 32 * b + j] << 24) >> 24;
      return { c, s: 1, z: 0 };
    case 'int8-group':
    case 'int4-group': {
      const g = w.groupSize ?? 0;
      const groups = Math.ceil(k / g);
      const gi = n * groups + Math.floor((32 * b) / g);
      const s = half(w.scales ?? new Uint8Array(0), 2 * gi);
      if (w.format === 'int4-group') {
        nibbles((n * groups * g) / 2 + 16 * b);
        return { c, s, z: w.zeros ? w.zeros[gi] : 8 };
      }
      const at = n * groups * g + 32 * b;
      for (let j = 0; j < 32; j++) c[j] = w.zeros ? w.data[at + j] : (w.data[at + j] << 24) >> 24;
      return { c, s, z: w.zeros ? w.zeros[gi] : 0 };
    }
    case 'q4_k': {
      const at = (n * (k / 256) + (b >> 3)) * 144;
      const is = b & 7;
      const [sc, mn] = scaleMinK4(w.data, at + 4, is);
      const q = at + 16 + 32 * (is >> 1);
      for (let j = 0; j < 32; j++) c[j] = is & 1 ? w.data[q + j] >> 4 : w.data[q + j] & 15;
      const s = Math.fround(half(w.data, at) * sc);
      return { c, s, sHi: s, z: 0, m: Math.fround(-half(w.data, at + 2) * mn) };
    }
    case 'q6_k': {
      const at = (n * (k / 256) + (b >> 3)) * 210;
      const t = b & 7;
      const h = t >> 2;
      const qq = t & 3;
      const ql = at + 64 * h + 32 * (qq & 1);
      const qh = at + 128 + 32 * h;
      for (let j = 0; j < 32; j++)
        c[j] = (((w.data[ql + j] >> (4 * (qq >> 1))) & 15) | (((w.data[qh + j] >> (2 * qq)) & 3) << 4)) - 32;
      const d = half(w.data, at + 208);
      const sc = (i: number) => (w.data[at + 192 + i] << 24) >> 24;
      return {
        c,
        s: Math.fround(d * sc(8 * h + 2 * qq)),
        sHi: Math.fround(d * sc(8 * h + 2 * qq + 1)),
        z: 0,
        m: 0,
      };
    }
    default:
      throw new Error(`int8 dot: format '${w.format}' has no integer-dot path`);
  }
}

/** The per-channel scale of an 'int8' weight's row n (1 for the other formats). */
function rowScale(w: QuantizedWeight, n: number): number {
  if (w.format !== 'int8') return 1;
  const s = w.scales ?? new Uint8Array(0);
  return w.scaleDtype === 'f32'
    ? new DataView(s.buffer, s.byteOffset).getFloat32(4 * n, true)
    : half(s, 2 * n);
}

/**
 * y = x W^T on the integer-dot semantics (float64 combination of the exact integer sums), and per
 * output the magnitude that bounds the f32 combination's rounding (file comment).
 */
export function int8DotReference(
  w: QuantizedWeight,
  x: Float32Array,
  m: number,
): { y: Float64Array; magnitude: Float64Array } {
  if (!hasInt8Dot(w.format)) throw new Error(`int8 dot: format '${w.format}' has no integer-dot path`);
  const [n, k] = w.shape;
  const xa = quantizeActivations(x, m, k);
  const y = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let col = 0; col < n; col++) {
    const rs = rowScale(w, col);
    for (let b = 0; b < xa.kb; b++) {
      const { c, s, sHi, z, m: mb } = weightBlock(w, col, b);
      for (let r = 0; r < m; r++) {
        const i = r * xa.kb + b;
        // Exact integers: |dot| <= 16 · 255 · 127 per half.
        let dotLo = 0;
        let dotHi = 0;
        let sumLo = 0;
        let abs = 0;
        for (let j = 0; j < 32; j++) {
          const p = c[j] * xa.q[i * 32 + j];
          if (j < 16) {
            dotLo += p;
            sumLo += xa.q[i * 32 + j];
          } else dotHi += p;
          abs += Math.abs(p);
        }
        const sumHi = xa.sums[i] - sumLo;
        const dx = xa.d[i];
        y[r * n + col] += dx * (s * (dotLo - z * sumLo) + sHi * (dotHi - z * sumHi) + mb * xa.sums[i]);
        magnitude[r * n + col] +=
          Math.abs(rs * dx) *
          (Math.max(Math.abs(s), Math.abs(sHi)) * (abs + Math.abs(z * xa.sums[i])) +
            Math.abs(mb * xa.sums[i]));
      }
    }
    for (let r = 0; r < m; r++) y[r * n + col] *= rs;
  }
  return { y, magnitude };
}
