/**
 * @file Random eviction: the baseline every eviction paper compares against (kvpress's RandomPress).
 * Scores are uniform draws from core-tensor's seeded Philox stream, one independent stream per layer
 * (`rng(seed).fold(layer)`), so a run reproduces.
 */
import { parseOptionsWith, rng, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import type { ScoreInput, ScorePolicy } from './scorer';

export const RandomScoresOptions = z.strictObject({
  seed: z.number().int().nonnegative(),
});
export type RandomScoresOptions = z.input<typeof RandomScoresOptions>;

export function randomScores(opts: RandomScoresOptions): ScorePolicy {
  const { seed } = parseOptionsWith(RandomScoresOptions, opts, (p) => new TensorError('randomScores', p));
  return {
    name: 'random',
    score({ layer, keys }: ScoreInput): Float64Array {
      const [B, H, T] = keys.shape;
      return rng(seed)
        .fold(layer)
        .uniform(B * H * T);
    },
  };
}
