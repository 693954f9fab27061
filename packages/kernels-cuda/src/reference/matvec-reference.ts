/**
 * @file The weight formats of the CUDA matvec kernel (native/kernels/matvec.cu) and their readable
 * reference: round-to-nearest weight-only quantization with f16 scales, and
 * y[m, n] = sum_k x[m, k] * W[n, k] in f64 over the dequantised weights.
 *
 *   int8 per output channel: scale_n = max_k |W[n, k]| / 127 (rounded to f16),
 *        q = clamp(round(W / scale_n), -127, 127), W ≈ q * scale_n
 *   int4 in groups of G along K (G = 32, 64, 128): scale = max |W| over the group / 7 (f16),
 *        q = clamp(round(W / scale), -8, 7), stored as the nibble q + 8, two a byte, the even k in the
 *        low nibble; W ≈ (nibble - 8) * scale
 * Symmetric (no zero points). Round-to-nearest weight-only quantization as in GPTQ's RTN baseline
 * (arXiv:2210.17323) and AWQ's group layout (arXiv:2306.00978).
 */
import { f16BitsToF32, f32ToF16Bits } from '@hasten/core-tensor';

export interface Int8Weights {
  /** int8 [N, K] */
  q: Int8Array;
  /** f16 bits [N] */
  scales: Uint16Array;
}

export interface Int4Weights {
  /** nibbles [N, K / 2] */
  q: Uint8Array;
  /** f16 bits [N, K / group] */
  scales: Uint16Array;
  group: number;
}

/** A scale rounded to f16 (what the kernel reads); 0 for an all-zero row or group. */
function f16Scale(maxAbs: number, levels: number): number {
  return f16BitsToF32(f32ToF16Bits(maxAbs / levels));
}

export function quantizeInt8(w: ArrayLike<number>, N: number, K: number): Int8Weights {
  const q = new Int8Array(N * K);
  const scales = new Uint16Array(N);
  for (let n = 0; n < N; n++) {
    let mx = 0;
    for (let k = 0; k < K; k++) mx = Math.max(mx, Math.abs(w[n * K + k]));
    const s = f16Scale(mx, 127);
    scales[n] = f32ToF16Bits(s);
    for (let k = 0; k < K; k++)
      q[n * K + k] = s === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(w[n * K + k] / s)));
  }
  return { q, scales };
}

export function dequantizeInt8({ q, scales }: Int8Weights, N: number, K: number): Float64Array {
  const out = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    const s = f16BitsToF32(scales[n]);
    for (let k = 0; k < K; k++) out[n * K + k] = q[n * K + k] * s;
  }
  return out;
}

export function quantizeInt4(w: ArrayLike<number>, N: number, K: number, group: number): Int4Weights {
  if (K % group !== 0 || K % 2 !== 0)
    throw new Error(`quantizeInt4: K=${K} must be even and a multiple of the group ${group}`);
  const q = new Uint8Array((N * K) / 2);
  const groups = K / group;
  const scales = new Uint16Array(N * groups);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < groups; g++) {
      let mx = 0;
      for (let k = g * group; k < (g + 1) * group; k++) mx = Math.max(mx, Math.abs(w[n * K + k]));
      const s = f16Scale(mx, 7);
      scales[n * groups + g] = f32ToF16Bits(s);
      for (let k = g * group; k < (g + 1) * group; k++) {
        const v = s === 0 ? 0 : Math.max(-8, Math.min(7, Math.round(w[n * K + k] / s)));
        const nibble = v + 8;
        const at = (n * K + k) >> 1;
        q[at] = k % 2 === 0 ? (q[at] & 0xf0) | nibble : (q[at] & 0x0f) | (nibble << 4);
      }
    }
  }
  return { q, scales, group };
}

export function dequantizeInt4({ q, scales, group }: Int4Weights, N: number, K: number): Float64Array {
  const out = new Float64Array(N * K);
  const groups = K / group;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const byte = q[(n * K + k) >> 1];
      const nibble = k % 2 === 0 ? byte & 0xf : byte >> 4;
      out[n * K + k] = (nibble - 8) * f16BitsToF32(scales[n * groups + Math.floor(k / group)]);
    }
  }
  return out;
}

/** y [M, N] = x [M, K] @ W^T with W [N, K] given dense (dequantise quantized weights first), in f64. */
export function matvecReference(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  M: number,
  N: number,
  K: number,
): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k];
      y[m * N + n] = acc;
    }
  }
  return y;
}
