/**
 * @file 2-D convolution (cross-correlation, as torch.nn.functional.conv2d with groups = 1 and
 * dilation 1): x [N, C, H, W], weight [O, C, KH, KW], bias [O] (optional),
 *
 *   out[n, o, i, j] = bias[o] + Σ_{c, p, q} x[n, c, i·sh + p − ph, j·sw + q − pw] · weight[o, c, p, q]
 *
 * with zeros outside the input (zero padding), OH = ⌊(H + 2·ph − KH) / sh⌋ + 1 and likewise OW.
 * The reference kernel is the literal sum in float64; the fast 'cpu' kernel (fast.ts) lowers it to
 * one matrix product (im2col).
 */
import { z } from 'zod';
import { run1 } from '../../dispatch';
import { fmtShape, TensorError } from '../../errors';
import type { Tensor } from '../../tensor';
import { assertFloatInput, assertSameDType, parseOptions } from '../checks';

const Pair = z.union([z.number().int(), z.tuple([z.number().int(), z.number().int()])]);
const Conv2dOptions = z
  .object({
    /** Step between output positions, one number or [rows, columns]; >= 1. Default 1. */
    stride: Pair.optional(),
    /** Zero padding added on each side, one number or [rows, columns]; >= 0. Default 0. */
    padding: Pair.optional(),
  })
  .strict();
export type Conv2dOptions = z.input<typeof Conv2dOptions>;

export interface Conv2dAttrs {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  outH: number;
  outW: number;
  hasBias: boolean;
}

function pair(v: number | readonly [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  assertFloatInput(op, x, 'x');
  assertFloatInput(op, weight, 'weight');
  assertSameDType(op, x, weight, 'weight');
  const o = parseOptions(op, Conv2dOptions, options);
  const [strideH, strideW] = pair(o.stride, 1);
  const [padH, padW] = pair(o.padding, 0);
  if (strideH < 1 || strideW < 1) throw new TensorError(op, `stride must be >= 1, got ${o.stride}`);
  if (padH < 0 || padW < 0) throw new TensorError(op, `padding must be >= 0, got ${o.padding}`);
  if (x.rank !== 4)
    throw new TensorError(op, `x must be [batch, channels, height, width], got ${fmtShape(x.shape)}`);
  if (weight.rank !== 4) {
    throw new TensorError(op, `weight must be [out, in, kernelH, kernelW], got ${fmtShape(weight.shape)}`);
  }
  const [n, c, h, w] = x.shape;
  const [oc, ic, kh, kw] = weight.shape;
  if (ic !== c) {
    throw new TensorError(
      op,
      `weight ${fmtShape(weight.shape)} expects ${ic} input channels, x ${fmtShape(x.shape)} has ${c} (groups = 1 only)`,
    );
  }
  const outH = Math.floor((h + 2 * padH - kh) / strideH) + 1;
  const outW = Math.floor((w + 2 * padW - kw) / strideW) + 1;
  if (kh < 1 || kw < 1 || outH < 1 || outW < 1) {
    throw new TensorError(
      op,
      `kernel ${kh}x${kw} does not fit input ${h}x${w} with padding ${padH},${padW} (output ${outH}x${outW})`,
    );
  }
  if (bias) {
    bias.assertLive(op);
    assertSameDType(op, x, bias, 'bias');
    if (bias.rank !== 1 || bias.shape[0] !== oc) {
      throw new TensorError(op, `bias must be [${oc}] (output channels), got ${fmtShape(bias.shape)}`);
    }
  }
  const attrs: Conv2dAttrs = {
    n,
    c,
    h,
    w,
    o: oc,
    kh,
    kw,
    strideH,
    strideW,
    padH,
    padW,
    outH,
    outW,
    hasBias: !!bias,
  };
  return run1(op, bias ? [x, weight, bias] : [x, weight], attrs);
}
