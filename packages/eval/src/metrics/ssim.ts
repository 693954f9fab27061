import { z } from 'zod';
import { fail, parseOptions } from '../util/check.js';
import { checkSameShape, type ImageArray, imagePlanes } from './image.js';

// Structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004, "Image quality assessment: from error
// visibility to structural similarity", IEEE TIP 13(4)):
//   SSIM(x, y) = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))
// with C1 = (K1 L)^2, C2 = (K2 L)^2, statistics from a sliding window, averaged over the windows that
// fit inside the image (the 'valid' region, as the authors' ssim_index.m and skimage, which crops the
// padded border). Default: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03 (the paper).
// `window: 'uniform'` with size 7 and sample covariance is skimage.metrics.structural_similarity's default.
// Multi-channel images: the mean of the per-channel SSIMs (skimage with channel_axis).

const ssimOptions = z
  .object({
    dataRange: z.number().positive(),
    window: z.enum(['gaussian', 'uniform']).default('gaussian'),
    /** Odd window side. Default 11 (gaussian) or 7 (uniform). */
    windowSize: z
      .number()
      .int()
      .min(3)
      .refine((v) => v % 2 === 1, { message: 'must be odd' })
      .optional(),
    sigma: z.number().positive().default(1.5),
    k1: z.number().positive().default(0.01),
    k2: z.number().positive().default(0.03),
    /** Scale variances by N/(N-1). Default false for gaussian (the paper), true for uniform (skimage). */
    sampleCovariance: z.boolean().optional(),
  })
  .strict();
export type SsimOptions = z.input<typeof ssimOptions>;

export function ssim(a: ImageArray, b: ImageArray, options: SsimOptions): number {
  const where = 'ssim';
  const opts = parseOptions(ssimOptions, options, where);
  checkSameShape(where, a, b);
  const pa = imagePlanes(where, 'a', a);
  const pb = imagePlanes(where, 'b', b);
  const size = opts.windowSize ?? (opts.window === 'gaussian' ? 11 : 7);
  if (a.width < size || a.height < size) {
    fail(
      where,
      'a',
      `is ${a.width}x${a.height}, smaller than the ${size}x${size} window (set options.windowSize)`,
    );
  }
  const taps =
    opts.window === 'gaussian' ? gaussianTaps(size, opts.sigma) : new Float64Array(size).fill(1 / size);
  const np = size * size;
  const covNorm = (opts.sampleCovariance ?? opts.window === 'uniform') ? np / (np - 1) : 1;
  const c1 = (opts.k1 * opts.dataRange) ** 2;
  const c2 = (opts.k2 * opts.dataRange) ** 2;
  let total = 0;
  for (let ch = 0; ch < pa.length; ch++) {
    total += meanSsimPlane(pa[ch]!, pb[ch]!, a.width, a.height, taps, covNorm, c1, c2);
  }
  return total / pa.length;
}

/** Normalised 1-D Gaussian taps; the 2-D window is their outer product (separable). */
export function gaussianTaps(size: number, sigma: number): Float64Array {
  const r = (size - 1) / 2;
  const t = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    t[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
    sum += t[i]!;
  }
  for (let i = 0; i < size; i++) t[i]! /= sum;
  return t;
}

function meanSsimPlane(
  x: Float64Array,
  y: Float64Array,
  w: number,
  h: number,
  taps: Float64Array,
  covNorm: number,
  c1: number,
  c2: number,
): number {
  const n = w * h;
  const xx = new Float64Array(n);
  const yy = new Float64Array(n);
  const xy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xx[i] = x[i]! * x[i]!;
    yy[i] = y[i]! * y[i]!;
    xy[i] = x[i]! * y[i]!;
  }
  const [mx, my, mxx, myy, mxy] = [x, y, xx, yy, xy].map((p) => filterValid(p, w, h, taps));
  let sum = 0;
  const m = mx!.length;
  for (let i = 0; i < m; i++) {
    const ux = mx![i]!;
    const uy = my![i]!;
    const vx = covNorm * (mxx![i]! - ux * ux);
    const vy = covNorm * (myy![i]! - uy * uy);
    const vxy = covNorm * (mxy![i]! - ux * uy);
    sum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  }
  return sum / m;
}

/** Separable 'valid' correlation: output (h-k+1) x (w-k+1). */
function filterValid(p: Float64Array, w: number, h: number, taps: Float64Array): Float64Array {
  const k = taps.length;
  const ow = w - k + 1;
  const oh = h - k + 1;
  const rows = new Float64Array(h * ow);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < ow; c++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += taps[t]! * p[r * w + c + t]!;
      rows[r * ow + c] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += taps[t]! * rows[(r + t) * ow + c]!;
      out[r * ow + c] = s;
    }
  }
  return out;
}
