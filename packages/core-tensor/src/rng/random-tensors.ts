/**
 * @file Random tensors: `randn` (normal) and `rand` (uniform), drawn from a Philox stream on the
 * host and uploaded once. A seed (or a generator) is required: a run is reproducible by design.
 *
 * Element i (row-major) of `randn` is element i of `rng.normal(size)` scaled to mean/std; element i
 * of `rand` uses word i: (w >>> (32 - m)) * 2^-m with m = 24 (f32), 11 (f16) or 8 (bf16) bits, a value
 * the dtype holds exactly and never 1; then low + (high - low) * u, rounded to the dtype.
 */
import { z } from 'zod';
import { encodeValues, fromStorageArray } from '../creation';
import type { FloatDType } from '../dtype';
import { parseOptions } from '../ops/checks';
import { assertShape, type Shape, sizeOf } from '../shape';
import type { Tensor } from '../tensor';
import { Philox, rng as seeded } from './generator';

const MANTISSA_BITS: Record<FloatDType, number> = { f32: 24, f16: 11, bf16: 8 };

const RandomBase = z.strictObject({
  seed: z.union([z.number().int().nonnegative(), z.bigint().nonnegative()]).optional(),
  rng: z.instanceof(Philox).optional(),
  dtype: z.enum(['f32', 'f16', 'bf16']).default('f32'),
  device: z.string().optional(),
});
const oneSource = (o: { seed?: unknown; rng?: unknown }) => (o.seed === undefined) !== (o.rng === undefined);
const oneSourceMessage = { message: 'pass exactly one of { seed } or { rng }', path: ['seed'] };

const RandnOptions = RandomBase.extend({
  mean: z.number().finite().default(0),
  std: z.number().finite().nonnegative().default(1),
}).refine(oneSource, oneSourceMessage);
const RandOptions = RandomBase.extend({
  low: z.number().finite().default(0),
  high: z.number().finite().default(1),
})
  .refine(oneSource, oneSourceMessage)
  .refine((o) => o.low < o.high, { message: 'low must be < high', path: ['low'] });

export type RandnOptions = z.input<typeof RandnOptions>;
export type RandOptions = z.input<typeof RandOptions>;

/** A tensor of normal variates N(mean, std^2). */
export function randn(shape: Shape, opts: RandnOptions): Tensor {
  const o = parseOptions('randn', RandnOptions, opts);
  const s = assertShape('randn', shape);
  const gen = o.rng ?? seeded(o.seed!);
  const v = gen.normal(sizeOf(s));
  for (let i = 0; i < v.length; i++) v[i] = o.mean + o.std * v[i];
  return fromStorageArray(encodeValues(v, o.dtype), s, o.dtype, o.device);
}

/** A tensor of uniform variates in [low, high) (before rounding to the dtype). */
export function rand(shape: Shape, opts: RandOptions): Tensor {
  const o = parseOptions('rand', RandOptions, opts);
  const s = assertShape('rand', shape);
  const gen = o.rng ?? seeded(o.seed!);
  const m = MANTISSA_BITS[o.dtype];
  const w = gen.words(sizeOf(s));
  const v = new Float64Array(w.length);
  const scale = 2 ** -m;
  for (let i = 0; i < w.length; i++) v[i] = o.low + (o.high - o.low) * ((w[i] >>> (32 - m)) * scale);
  return fromStorageArray(encodeValues(v, o.dtype), s, o.dtype, o.device);
}
