import { z } from 'zod';
import { parseOptions } from '../util/check.js';

// The memory-bound ceiling a decode benchmark compares against, measured in the same run instead of
// assumed: single-thread copy bandwidth with TypedArray.set over a buffer much larger than the
// last-level cache (read + written bytes per second, best of `repeats`).

const copyBandwidthOptions = z.strictObject({
  /** Bytes copied per pass (default 256 MiB, well past any L3). */
  bytes: z
    .number()
    .int()
    .positive()
    .default(256 * 2 ** 20),
  repeats: z.number().int().positive().default(5),
});
export type CopyBandwidthOptions = z.input<typeof copyBandwidthOptions>;

/** GB/s (1e9 bytes) of read + written bytes, best of `repeats` passes of `TypedArray.set`. */
export function measureCopyBandwidth(options: CopyBandwidthOptions = {}): number {
  const { bytes, repeats } = parseOptions(copyBandwidthOptions, options, 'measureCopyBandwidth');
  const src = new Uint8Array(bytes);
  for (let i = 0; i < src.length; i += 4096) src[i] = i & 255; // touch every page
  const dst = new Uint8Array(bytes);
  dst.set(src);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t);
  }
  return (2 * bytes) / (Math.max(best, 1e-3) * 1e6);
}
