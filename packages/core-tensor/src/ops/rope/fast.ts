/**
 * @file Fast f32 RoPE (arXiv:2104.09864) for the 'cpu' backend: x [B, H, S, D] read with its own
 * strides (the heads view of a projection needs no copy), cos/sin computed once per (batch, position)
 * and shared by all heads. Same float64 formulas as the reference, one rounding to f32, so the result
 * equals it bit for bit. Other dtypes go to the reference kernel.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import { Tensor } from '../../tensor';
import { ropeReference } from './reference';
import type { RopeAttrs } from './rope';

export function ropeFast(inputs: Tensor[], attrs: RopeAttrs, backend: Backend): Tensor {
  const [x, positions] = inputs;
  if (x.dtype !== 'f32') return ropeReference(inputs, attrs, backend);
  const { invFreq, rotaryDim, interleaved } = attrs;
  const [B, H, S, D] = x.shape;
  const [xb, xh, xs, xd] = x.strides;
  const X = cpuStorage(x) as Float32Array;
  const P = cpuStorage(positions) as Int32Array;
  // As the reference: [B, S] positions with B > 1 are per batch row, anything else is shared.
  const perBatch = positions.rank === 2 && positions.shape[0] === B && B > 1;
  const pb = perBatch ? positions.strides[0] : 0;
  const ps = positions.strides[positions.rank - 1];
  const half = rotaryDim / 2;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  const out = Tensor.empty(backend, x.shape, 'f32');
  const O = cpuStorage(out) as Float32Array;
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const p = P[positions.offset + b * pb + s * ps];
      for (let i = 0; i < half; i++) {
        const phi = p * invFreq[i];
        cos[i] = Math.cos(phi);
        sin[i] = Math.sin(phi);
      }
      for (let h = 0; h < H; h++) {
        const xo = x.offset + b * xb + h * xh + s * xs;
        const oo = ((b * H + h) * S + s) * D;
        for (let i = 0; i < half; i++) {
          const ia = interleaved ? 2 * i : i;
          const ib = interleaved ? 2 * i + 1 : i + half;
          const a = X[xo + ia * xd];
          const c = X[xo + ib * xd];
          O[oo + ia] = a * cos[i] - c * sin[i];
          O[oo + ib] = c * cos[i] + a * sin[i];
        }
        for (let d = rotaryDim; d < D; d++) O[oo + d] = X[xo + d * xd];
      }
    }
  }
  return out;
}
