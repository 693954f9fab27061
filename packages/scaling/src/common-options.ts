/**
 * @file Option fields the strategies share.
 */
import { z } from 'zod';
import { AGGREGATIONS } from './aggregate-scores';
import { ScalingError } from './errors';
import { fn, parseOptions, runOptionsShape, withMethods } from './options';
import type { TemperatureSchedule } from './particles/temperature-schedule';
import type { NoiseProposer, Proposer, Scorer } from './proposer';

export const proposerOption = withMethods<Proposer<unknown>>('a proposer', ['initial', 'propose', 'done']);
export const noiseProposerOption = withMethods<NoiseProposer<unknown>>('a noise proposer', ['generate']);
export const scorerOption = fn<Scorer<unknown>>('a scorer function (state, ctx) => number');
/** Most steps a generation may take before it is cut (sal's num_iterations is 40). */
export const maxStepsOption = z.number().int().positive().default(40);
export const aggregationOption = z.enum(AGGREGATIONS).default('last');

/** A temperature schedule (particles/temperature-schedule.ts) or a fixed softmax temperature. */
export const temperatureOption = z
  .union([z.number().positive().finite(), fn<TemperatureSchedule>('a temperature schedule function')])
  .default(1);

/** The options beam search and DVTS share: N = budget, beam width M, N a multiple of M. */
const TreeSearchOptions = z.strictObject({
  proposer: proposerOption,
  scorer: scorerOption,
  /** N, the number of beams (beam search) or of kept candidates (DVTS). */
  budget: z.number().int().positive(),
  /** M: N/M beams survive each step (beam search); N/M subtrees expand M each (DVTS). */
  beamWidth: z.number().int().positive().default(4),
  aggregation: aggregationOption,
  maxSteps: maxStepsOption,
  ...runOptionsShape,
});
export type TreeSearchOptions<S> = Omit<z.input<typeof TreeSearchOptions>, 'proposer' | 'scorer'> & {
  proposer: Proposer<S>;
  scorer: Scorer<S>;
};

/** Parses `options` as TreeSearchOptions and checks that budget is a multiple of beamWidth. */
export function parseTreeSearchOptions(options: unknown, where: string): z.output<typeof TreeSearchOptions> {
  const o = parseOptions(TreeSearchOptions, options, where);
  if (o.budget % o.beamWidth !== 0) {
    throw new ScalingError(
      'options',
      `${where}: option 'budget' (${o.budget}) must be a multiple of 'beamWidth' (${o.beamWidth})`,
    );
  }
  return o;
}
