/**
 * @file The four resamplers by name (Douc & Cappé 2005, arXiv:cs/0507025), for options that pick one.
 */
import type { Philox } from '@hasten/core-tensor';
import { resampleMultinomial } from './resample-multinomial';
import { resampleResidual } from './resample-residual';
import { resampleStratified } from './resample-stratified';
import { resampleSystematic } from './resample-systematic';

export const RESAMPLERS = ['multinomial', 'systematic', 'stratified', 'residual'] as const;
export type ResamplerName = (typeof RESAMPLERS)[number];
export type Resampler = (weights: ArrayLike<number>, n: number, rng: Philox) => Int32Array;

export const resamplers: Record<ResamplerName, Resampler> = {
  multinomial: resampleMultinomial,
  systematic: resampleSystematic,
  stratified: resampleStratified,
  residual: resampleResidual,
};
