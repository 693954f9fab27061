/**
 * @file @hasten/diffusion: noise schedules (beta schedules, timestep spacing, Karras / exponential /
 * beta / λ-uniform sigmas, flow-matching shifts, Align Your Steps), schedulers with diffusers'
 * contract (DDPM, DDIM, Euler, Euler ancestral, Heun, DPM-Solver++ 1/2M/3M/SDE and singlestep, UniPC, DEIS,
 * PNDM/PLMS, LCM, FlowMatch Euler and Heun), the `sample` loop with classifier-free guidance, and a Gaussian-mixture target with its
 * exact denoiser and probability-flow ODE for testing samplers.
 */

export type { BlockDenoiser, DenoiserPass, RunBlockOptions } from './block-denoiser';
export { fullForward } from './block-denoiser';
export {
  type BranchCounts,
  type CacheContext,
  type CachedDenoiser,
  CacheGuardOptions,
  type CachePolicy,
  type CacheStats,
  type CacheTraceEntry,
  cachedDenoiser,
  type SamplingCache,
} from './caches/cached-denoiser';
export { DeepCacheOptions, deepCache } from './caches/deep-cache';
export { DeltaDiTOptions, deltaDiT } from './caches/delta-dit';
export { FirstBlockCacheOptions, firstBlockCache } from './caches/first-block-cache';
export { ForaOptions, fora } from './caches/fora';
export {
  calibrateMagCache,
  MagCacheOptions,
  type MagRatios,
  magCache,
  magCacheCalibration,
} from './caches/mag-cache';
export { RasOptions, ras } from './caches/ras';
export { StaticScheduleOptions, staticSchedule } from './caches/static-schedule';
export { TaylorSeerOptions, taylorSeer } from './caches/taylor-seer';
export { TeaCacheOptions, teaCache } from './caches/tea-cache';
export { ToCaOptions, toCa } from './caches/to-ca';
export { DiT, DiTConfig } from './models/dit';
export { type ClassifierRows, GlyphClassifier, GlyphClassifierConfig } from './models/glyph-classifier';
export { UNet, UNetConfig } from './models/unet';
export { SampleOptions, type SampleResult, sample } from './sample';
export { DDIMScheduler, DDIMSchedulerOptions, type DDIMStepOptions } from './schedulers/ddim';
export { DDPMScheduler, DDPMSchedulerOptions } from './schedulers/ddpm';
export { DEISMultistepScheduler, DEISMultistepSchedulerOptions } from './schedulers/deis-multistep';
export {
  DPMSolverMultistepScheduler,
  DPMSolverMultistepSchedulerOptions,
} from './schedulers/dpm-solver-multistep';
export {
  DPMSolverSinglestepScheduler,
  DPMSolverSinglestepSchedulerOptions,
  singlestepOrderList,
} from './schedulers/dpm-solver-singlestep';
export { DPMSolverV3Scheduler, DPMSolverV3SchedulerOptions } from './schedulers/dpm-solver-v3';
export {
  ComputeDpmSolverV3EmsOptions,
  computeDpmSolverV3Ems,
  DPMSolverV3Ems,
  degeneratedDpmSolverV3Ems,
  dpmSolverV3EmsToJson,
  EMS_KIND as DPM_SOLVER_V3_EMS_KIND,
  type EmsProgress as DpmSolverV3EmsProgress,
  loadDpmSolverV3Ems,
} from './schedulers/dpm-solver-v3-ems';
export {
  EulerAncestralDiscreteScheduler,
  EulerAncestralDiscreteSchedulerOptions,
} from './schedulers/euler-ancestral-discrete';
export { EulerDiscreteScheduler, EulerDiscreteSchedulerOptions } from './schedulers/euler-discrete';
export {
  FlowMatchEulerDiscreteScheduler,
  FlowMatchEulerDiscreteSchedulerOptions,
} from './schedulers/flow-match-euler-discrete';
export {
  FlowMatchHeunDiscreteScheduler,
  FlowMatchHeunDiscreteSchedulerOptions,
} from './schedulers/flow-match-heun-discrete';
export { HeunDiscreteScheduler, HeunDiscreteSchedulerOptions } from './schedulers/heun-discrete';
export { LCMScheduler, LCMSchedulerOptions } from './schedulers/lcm';
export {
  MomentumDPMSolverMultistepScheduler,
  MomentumDPMSolverMultistepSchedulerOptions,
  PLMSMomentumScheduler,
  PLMSMomentumSchedulerOptions,
} from './schedulers/momentum';
export { PNDMScheduler, PNDMSchedulerOptions } from './schedulers/pndm';
export { TimeShiftOptions, TimeShiftScheduler, type TimeShiftTraceEntry } from './schedulers/time-shift';
export { UniPCMultistepScheduler, UniPCMultistepSchedulerOptions } from './schedulers/unipc-multistep';
export type { AysPreset } from './schedules/align-your-steps';
export { AYS_SCHEDULES, alignYourSteps, loglinearInterp } from './schedules/align-your-steps';
export {
  alphasCumprod,
  BetaSchedule,
  betasForAlphaBar,
  linspace,
  makeBetas,
  rescaleZeroTerminalSnr,
  vpSigmas,
} from './schedules/betas';
export { SigmaSpacing } from './schedules/discrete';
export {
  calculateShift,
  shiftSigma,
  stretchShiftToTerminal,
  timeShiftExponential,
  timeShiftLinear,
} from './schedules/flow';
export {
  betaCdf,
  betaPpf,
  betaSigmas,
  exponentialSigmas,
  karrasSigmas,
  luLambdaSigmas,
  sigmaToT,
  tToSigma,
  vpAlphaSigma,
} from './schedules/sigmas';
export { roundHalfEven, SpacingOptions, spacedTimesteps, TimestepSpacing } from './schedules/spacing';
export {
  CacheSchedulePreset,
  cachePresetPolicy,
  EcadOptions,
  type EcadResult,
  ecadSearch,
  foraSchedule,
  loadCachePreset,
  scheduleComputeFraction,
} from './search/ecad';
export {
  crowdingDistance,
  dominates,
  evolve,
  type Generation,
  GeneticOptions,
  type GeneticProblem,
  type GeneticResult,
  geneticSearch,
  type Individual,
  nonDominatedSort,
} from './search/genetic';
export {
  loadTimestepPreset,
  TimestepSchedulePreset,
  TimestepSearchOptions,
  type TimestepSearchResult,
  timestepPresetOptions,
  timestepSearch,
} from './search/timestep-search';
export { GaussianMixture, GaussianMixtureSpec, type NoiseParameterisation } from './testing/gaussian-mixture';
export { ToyBlockDenoiser, ToyBlockDenoiserOptions } from './testing/toy-block-denoiser';
export type {
  Denoiser,
  PredictionType,
  Sample,
  SampleLike,
  Scheduler,
  SetTimestepsOptions,
  StepOptions,
  StepOutput,
} from './types';
