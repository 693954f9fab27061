/**
 * @file Rotary position embedding (RoFormer, arXiv:2104.09864) applied to x [B, H, S, D] (any
 * strides) at integer positions [S] or [B, S]. The first `rotaryDim` (default D) features rotate; the
 * rest pass through. Pairing:
 * - default, Hugging Face's rotate_half: feature i pairs with i + rotaryDim/2 at frequency i;
 * - interleaved (GPT-J / Meta's original Llama): features 2i and 2i + 1 pair at frequency i.
 * A pair (a, b) at position p becomes (a cos φ - b sin φ, b cos φ + a sin φ) with φ = p · inv_freq,
 * computed in float64. Frequencies come from ropeInvFreq (inv-freq.ts), so scaling is shared.
 */
import { z } from 'zod';
import { run1 } from '../../dispatch';
import { fmtShape, TensorError } from '../../errors';
import type { Tensor } from '../../tensor';
import { assertDTypeIn, assertFloatInput, parseOptions } from '../checks';
import { checkScaling, RopeScaling, ropeInvFreq } from './inv-freq';

const RopeOptions = z
  .object({
    theta: z.number().positive(),
    rotaryDim: z.number().int().positive().optional(),
    scaling: RopeScaling.optional(),
    interleaved: z.boolean().optional(),
  })
  .strict();
export type RopeOptions = z.input<typeof RopeOptions>;

// A decoder calls rope twice per layer per step with the same frequencies: compute them once per
// (rotaryDim, theta, scaling). Kernels only read attrs.invFreq, so sharing the array is safe.
const invFreqCache = new Map<string, Float64Array>();
function cachedInvFreq(rotaryDim: number, theta: number, scaling: RopeScaling | undefined): Float64Array {
  const key = `${rotaryDim}|${theta}|${JSON.stringify(scaling ?? null)}`;
  let inv = invFreqCache.get(key);
  if (!inv) {
    if (invFreqCache.size >= 64) invFreqCache.clear();
    inv = ropeInvFreq(rotaryDim, { theta, scaling });
    invFreqCache.set(key, inv);
  }
  return inv;
}

export interface RopeAttrs {
  /** rotaryDim / 2 inverse frequencies. */
  invFreq: Float64Array;
  rotaryDim: number;
  interleaved: boolean;
}

export function rope(x: Tensor, positions: Tensor, opts: RopeOptions): Tensor {
  const op = 'rope';
  assertFloatInput(op, x, 'x');
  assertDTypeIn(op, positions, ['i32'], 'positions');
  const o = parseOptions(op, RopeOptions, opts);
  checkScaling(op, o.scaling);
  if (x.rank !== 4)
    throw new TensorError(op, `x must be [batch, heads, seq, headDim], got ${fmtShape(x.shape)}`);
  const [b, , s, d] = x.shape;
  const okPositions =
    (positions.rank === 1 && positions.shape[0] === s) ||
    (positions.rank === 2 &&
      (positions.shape[0] === b || positions.shape[0] === 1) &&
      positions.shape[1] === s);
  if (!okPositions) {
    throw new TensorError(
      op,
      `positions must be [${s}] or [${b}, ${s}] for x ${fmtShape(x.shape)}, got ${fmtShape(positions.shape)}`,
    );
  }
  const rotaryDim = o.rotaryDim ?? d;
  if (rotaryDim % 2 !== 0 || rotaryDim > d) {
    throw new TensorError(
      op,
      `rotaryDim must be even and at most headDim ${d} (x ${fmtShape(x.shape)}), got ${rotaryDim}`,
    );
  }
  const invFreq = cachedInvFreq(rotaryDim, o.theta, o.scaling);
  return run1(op, [x, positions], {
    invFreq,
    rotaryDim,
    interleaved: o.interleaved ?? false,
  } satisfies RopeAttrs);
}
