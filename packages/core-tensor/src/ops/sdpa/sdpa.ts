/**
 * @file Scaled dot-product attention (arXiv:1706.03762): softmax(q kᵀ · scale + masking) v.
 * q [B, Hq, S, D], k [B, Hkv, T, D], v [B, Hkv, T, Dv] -> [B, Hq, S, Dv].
 * - Grouped-query attention (arXiv:2305.13245): Hq % Hkv == 0; query head h reads kv head
 *   floor(h / (Hq / Hkv)).
 * - causal: query i sits at position T - S + i (S <= T), so it fits decoding and chunked prefill with
 *   a cache of T - S earlier keys; it sees keys 0..T-S+i.
 * - mask: bool, broadcastable to [B, Hq, S, T], true = may attend (tree masks for speculative
 *   decoding). With causal, both must allow a key.
 * - scale defaults to 1 / sqrt(D).
 * A query row that may attend to no key at all (the padding rows of a left-padded batch) is defined
 * as zero: PyTorch returns NaN there, which would poison every later layer of that row.
 */
import { run1 } from '../../dispatch';
import { fmtShape, TensorError } from '../../errors';
import type { Tensor } from '../../tensor';
import { assertFloatInput, assertSameDType, parseOptions } from '../checks';
import { AttentionOptions, assertHeadGroups, attentionAttrs } from './attention-options';

export type SdpaOptions = AttentionOptions;

export interface SdpaAttrs {
  causal: boolean;
  scale: number;
  /** When true, inputs[3] is the bool mask (any shape broadcastable to [B, Hq, S, T]). */
  hasMask: boolean;
}

export function sdpa(q: Tensor, k: Tensor, v: Tensor, opts?: SdpaOptions): Tensor {
  const op = 'sdpa';
  assertFloatInput(op, q, 'q');
  assertFloatInput(op, k, 'k');
  assertFloatInput(op, v, 'v');
  assertSameDType(op, q, k, 'k');
  assertSameDType(op, q, v, 'v');
  const o = parseOptions(op, AttentionOptions, opts);
  const shapes = `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new TensorError(op, `q, k and v must be [batch, heads, seq, headDim]; got ${shapes}`);
  }
  const [B, Hq, , D] = q.shape;
  const [Bk, Hkv, T, Dk] = k.shape;
  const [Bv, Hv, Tv] = v.shape;
  if (Bk !== B || Bv !== B || Hv !== Hkv || Tv !== T || Dk !== D) {
    throw new TensorError(
      op,
      `expected k [${B}, Hkv, T, ${D}] and v [${B}, Hkv, T, Dv] with the same Hkv and T; got ${shapes}`,
    );
  }
  assertHeadGroups(op, Hq, Hkv, shapes);
  if (D === 0) throw new TensorError(op, `head dimension must be positive; got ${shapes}`);
  const inputs = [q, k, v];
  const attrs: SdpaAttrs = attentionAttrs(op, o, q.shape, T, 'T', shapes, inputs);
  return run1(op, inputs, attrs);
}
