/**
 * @file The checks prefill, decode and paged attention share: q [B, Hq, S, D] and out [B, Hq, S, Dv],
 * grouped-query head counts, causal against T keys, the scale, and a u8 mask (1 = may attend)
 * broadcast to [B, Hq, S, T], turned into the kernels' four mask strides (0 where broadcast).
 * Conventions of core-tensor's sdpa (arXiv:1706.03762; GQA arXiv:2305.13245).
 */
import { TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import type { CudaTensor } from '../cuda-tensor';
import { CUDA_FLOAT_DTYPES } from '../dtype-codes';
import { checkInt32, checkSameDType, checkShape, checkTensor, fmt, tensorArg } from './checks';

/** The kernels keep D and Dv features in registers / shared memory: at most 256. */
export const MAX_HEAD_DIM = 256;

export const attentionOptionFields = {
  mask: tensorArg.optional(),
  causal: z.boolean().default(false),
  scale: z.number().finite().optional(),
};

export interface AttentionDims {
  B: number;
  Hq: number;
  Hkv: number;
  S: number;
  T: number;
  D: number;
  Dv: number;
}

export function checkHeads(op: string, Hq: number, Hkv: number, shapes: string): void {
  if (Hkv === 0 || Hq % Hkv !== 0) {
    throw new TensorError(
      op,
      `query heads (${Hq}) must be a multiple of key/value heads (${Hkv}); got ${shapes}`,
    );
  }
}

/**
 * Checks q, out, the mask and causal for dims `d`, and returns the attention params the addon takes
 * after the dtype code: B, Hq, Hkv, S, T, D, Dv, scale, causal, mask strides (4).
 */
export function attentionParams(
  op: string,
  q: CudaTensor,
  out: CudaTensor,
  d: AttentionDims,
  o: { mask?: CudaTensor; causal: boolean; scale?: number },
  shapes: string,
): number[] {
  checkTensor(op, 'out', out, CUDA_FLOAT_DTYPES);
  checkSameDType(op, 'out', out, q, 'q');
  checkShape(op, 'out', out, [d.B, d.Hq, d.S, d.Dv]);
  checkHeads(op, d.Hq, d.Hkv, shapes);
  if (d.D === 0 || d.Dv === 0) throw new TensorError(op, `head dimensions must be positive; got ${shapes}`);
  if (d.D > MAX_HEAD_DIM || d.Dv > MAX_HEAD_DIM) {
    throw new TensorError(
      op,
      `head dimensions up to ${MAX_HEAD_DIM} are supported, got D=${d.D}, Dv=${d.Dv}`,
    );
  }
  checkInt32(op, 'B * Hq * S', d.B * d.Hq * d.S);
  if (o.causal && d.S > d.T) {
    throw new TensorError(
      op,
      `causal attention needs at least as many keys as queries (S=${d.S} <= T=${d.T}); got ${shapes}`,
    );
  }
  const scale = o.scale ?? 1 / Math.sqrt(d.D);
  const strides = [0, 0, 0, 0];
  if (o.mask) {
    const m = o.mask;
    checkTensor(op, 'mask', m, ['u8']);
    const full = [d.B, d.Hq, d.S, d.T];
    if (m.shape.length > 4) throw new TensorError(op, `mask ${fmt(m.shape)} must broadcast to ${fmt(full)}`);
    const shape = [...Array(4 - m.shape.length).fill(1), ...m.shape];
    let stride = 1;
    for (let i = 3; i >= 0; i--) {
      if (shape[i] !== 1 && shape[i] !== full[i]) {
        throw new TensorError(op, `mask ${fmt(m.shape)} must broadcast to [B, Hq, S, T] = ${fmt(full)}`);
      }
      strides[i] = shape[i] === 1 ? 0 : stride;
      stride *= shape[i];
    }
  }
  return [d.B, d.Hq, d.Hkv, d.S, d.T, d.D, d.Dv, scale, o.causal ? 1 : 0, ...strides];
}
