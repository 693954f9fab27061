/**
 * @file Option fields the strategies share.
 */
import { z } from 'zod';
import { AGGREGATIONS } from './aggregate-scores';
import { fn, withMethods } from './options';
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
