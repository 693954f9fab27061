/**
 * @file The options sdpa and pagedSdpa share (causal, mask, scale) and the checks both make of the
 * head counts and of those options against the call's shapes.
 */
import { z } from 'zod';
import { fmtShape, TensorError } from '../../errors';
import { broadcastShapes, shapesEqual } from '../../shape';
import { Tensor } from '../../tensor';
import { assertDTypeIn } from '../checks';

export const AttentionOptions = z
  .object({
    causal: z.boolean().optional(),
    mask: z.custom<Tensor>((m) => m instanceof Tensor, 'expected a bool Tensor').optional(),
    scale: z.number().optional(),
  })
  .strict();
export type AttentionOptions = z.input<typeof AttentionOptions>;

/** Grouped-query attention: Hq must be a positive multiple of Hkv. */
export function assertHeadGroups(op: string, Hq: number, Hkv: number, shapes: string): void {
  if (Hkv === 0 || Hq % Hkv !== 0) {
    throw new TensorError(
      op,
      `query heads (${Hq}) must be a multiple of key/value heads (${Hkv}); got ${shapes}`,
    );
  }
}

/**
 * The attributes of q [B, Hq, S, D] attending to T keys under the parsed options `o`: causal needs
 * S <= T, scale (default 1 / sqrt(D)) must be finite, and a mask must be bool and broadcast to
 * [B, Hq, S, T]; it is pushed onto `inputs`. `keys` is what the messages call T.
 */
export function attentionAttrs(
  op: string,
  o: z.output<typeof AttentionOptions>,
  [B, Hq, S, D]: readonly number[],
  T: number,
  keys: 'T' | 'length',
  shapes: string,
  inputs: Tensor[],
): { causal: boolean; scale: number; hasMask: boolean } {
  const causal = o.causal ?? false;
  if (causal && S > T) {
    throw new TensorError(
      op,
      `causal attention needs at least as many keys as queries (S=${S} <= ${keys}=${T}); got ${shapes}`,
    );
  }
  const scale = o.scale ?? 1 / Math.sqrt(D);
  if (!Number.isFinite(scale)) throw new TensorError(op, `option 'scale' must be finite, got ${scale}`);
  if (o.mask) {
    const mask = o.mask;
    assertDTypeIn(op, mask, ['bool'], 'mask');
    const full = [B, Hq, S, T];
    if (mask.rank > 4 || !shapesEqual(broadcastShapes(op, mask.shape, full), full)) {
      throw new TensorError(
        op,
        `mask ${fmtShape(mask.shape)} must broadcast to [B, Hq, S, ${keys}] = ${fmtShape(full)}`,
      );
    }
    inputs.push(mask);
  }
  return { causal, scale, hasMask: !!o.mask };
}
