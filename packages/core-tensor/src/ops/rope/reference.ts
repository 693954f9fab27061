/** @file Reference RoPE: per (batch, head, position) row, rotate each feature pair in float64. */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import type { RopeAttrs } from './rope';

export function ropeReference(
  [x, positions]: Tensor[],
  { invFreq, rotaryDim, interleaved }: RopeAttrs,
  backend: Backend,
): Tensor {
  const [B, H, S, D] = x.shape;
  const v = readF64(x);
  const pos = readF64(positions);
  const perBatch = positions.rank === 2 && positions.shape[0] === B && B > 1;
  const half = rotaryDim / 2;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let s = 0; s < S; s++) {
        const p = pos[perBatch ? b * S + s : s];
        const row = ((b * H + h) * S + s) * D;
        for (let i = 0; i < half; i++) {
          const phi = p * invFreq[i];
          const c = Math.cos(phi);
          const sn = Math.sin(phi);
          const ia = row + (interleaved ? 2 * i : i);
          const ib = row + (interleaved ? 2 * i + 1 : i + half);
          const a = v[ia];
          const bb = v[ib];
          v[ia] = a * c - bb * sn;
          v[ib] = bb * c + a * sn;
        }
      }
    }
  }
  const out = Tensor.empty(backend, x.shape, x.dtype);
  writeValues(out, v);
  return out;
}
