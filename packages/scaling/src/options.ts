/**
 * @file How @hasten/scaling rejects a bad options object: strict zod schemas through core-tensor's
 * `parseOptionsWith`, so a misspelt key is an error naming it and the allowed keys, and a bad value
 * names the field and what is allowed.
 */
import { parseOptionsWith } from '@hasten/core-tensor';
import { z } from 'zod';
import { ScalingError } from './errors';

/** Parse `value` (undefined means `{}`); throws ScalingError('options') "<where>: option 'x' is invalid: why". */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  return parseOptionsWith(schema, value, (problem) => new ScalingError('options', `${where}: ${problem}`));
}

const isFn = (v: unknown) => typeof v === 'function';
/** A function-valued option (zod checks only that it is callable). */
export const fn = <T>(what: string) => z.custom<T>(isFn, { message: `must be ${what}` });

/** An object with the named methods (a proposer, a noise proposer): checked by shape only. */
export const withMethods = <T>(what: string, methods: readonly string[]) =>
  z.custom<T>(
    (v) =>
      typeof v === 'object' && v !== null && methods.every((m) => isFn((v as Record<string, unknown>)[m])),
    { message: `must be ${what} (an object with ${methods.join(', ')})` },
  );

/** Options every strategy accepts besides its own: seed, concurrency limit, abort signal. */
export const runOptionsShape = {
  /** Seed of the run's Philox stream: same seed, same trace. */
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  /** Most proposer/scorer calls in flight at once. */
  concurrency: z.number().int().min(1).default(8),
  signal: z
    .custom<AbortSignal>((v) => v === undefined || (typeof v === 'object' && v !== null && 'aborted' in v), {
      message: 'must be an AbortSignal',
    })
    .optional(),
};

/** Per-run overrides of `strategy.run(options)`. */
export const RunOptions = z.strictObject({
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  concurrency: z.number().int().min(1).optional(),
  signal: runOptionsShape.signal,
});
export type RunOptions = z.input<typeof RunOptions>;
