import { z } from 'zod';
import { parseOptions } from '../util/check.js';
import { mse } from './mse.js';

// Peak signal-to-noise ratio in dB: 10 * log10(dataRange^2 / MSE) (as skimage.metrics.
// peak_signal_noise_ratio). `dataRange` is required because guessing it (1 vs 255) silently changes the
// answer by 48 dB. Identical inputs give +Infinity, as in skimage.

const psnrOptions = z.object({ dataRange: z.number().positive() }).strict();
export type PsnrOptions = z.input<typeof psnrOptions>;

export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, options: PsnrOptions): number {
  const { dataRange } = parseOptions(psnrOptions, options, 'psnr');
  const err = mse(a, b);
  if (err === 0) return Infinity;
  return 10 * Math.log10((dataRange * dataRange) / err);
}
