/**
 * @file Fast f32 attention for the 'cpu' backend (arXiv:1706.03762; GQA arXiv:2305.13245). It reads
 * q, k, v and the mask straight from storage with their own strides, so the KV cache's views (a
 * prefix slice of a [B, Hkv, capacity, D] buffer) need no copy, and it visits only the keys a row
 * may see (0..T-S+i when causal). The query rows that share a KV head (GQA heads, then positions)
 * go in pairs, so each key and value element loaded serves two rows.
 *
 * Per query row: scores q·k · scale into a float64 row buffer (each dot product summed in the
 * reference's order), their maximum, then one pass of exp(score - max) that sums the weights, and a
 * pass that accumulates weight · v in float64; the output is the accumulator over the sum, rounded
 * once to f32. This is the reference's max-shifted (stable, two-pass) softmax with the division moved
 * after the weighted sum, so the two agree to float64 rounding before the final f32 rounding. Rows
 * whose scores hold a NaN or +Inf, or only -Inf, are NaN, as in the reference; a row that may attend
 * to no key (a padding row of a batch) is zero, as in the reference.
 * Other dtypes (f16, bf16) go to the reference kernel.
 */
import type { Backend } from '../../backend';
import { cpuStorage } from '../../backends/cpu';
import type { Tensor } from '../../tensor';
import { attendF32, denseOffsets } from './attention-rows';
import { sdpaReference } from './reference';
import type { SdpaAttrs } from './sdpa';

export function sdpaFast(inputs: Tensor[], attrs: SdpaAttrs, backend: Backend): Tensor {
  const [q, k, v] = inputs;
  if (q.dtype !== 'f32') return sdpaReference(inputs, attrs, backend);
  const { causal, scale, hasMask } = attrs;
  const [, Hkv, T] = k.shape;
  const [kb, kh, kt, kd] = k.strides;
  const [vb, vh, vt, vd] = v.strides;
  const kAt = denseOffsets(T, kt);
  const vAt = denseOffsets(T, vt);
  const K = cpuStorage(k) as Float32Array;
  const V = cpuStorage(v) as Float32Array;
  const mask = hasMask ? inputs[3] : null;
  return attendF32({ q, K, V, kd, vd, Hkv, T, Dv: v.shape[3], mask, causal, scale }, backend, (b, kvh) => ({
    kAt,
    kHead: k.offset + b * kb + kvh * kh,
    vAt,
    vHead: v.offset + b * vb + kvh * vh,
  }));
}
