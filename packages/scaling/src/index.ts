/**
 * @file @hasten/scaling: test-time search strategies over any proposer and scorer, one particle
 * kernel, composition and budget controllers. No model imports here (adapters live in src/adapters/).
 */

// the coverage ceiling: unbiased pass@k (Chen et al. 2021) lives in @hasten/eval
export { coverageCurve, passAtK } from '@hasten/eval';
export { type Aggregation, aggregateScores } from './aggregate-scores';
export { BUDGET_UNITS, type BudgetUnit } from './budget';
// composition and controllers
export { type NestedRun, scoreSelected, strategyAsProposer } from './compose/strategy-as-proposer';
export {
  type AllocateBudgetOptions,
  allocateBudget,
  type Query,
  type QuerySample,
  queryAnswers,
} from './controllers/allocate-budget';
export { type BanditOptions, banditController } from './controllers/bandit-controller';
export type { Controller, Pick, QueryStats } from './controllers/controller';
export { type EarlyStoppingOptions, earlyStoppingController } from './controllers/early-stopping-controller';
export { uniformController } from './controllers/uniform-controller';
export { isAbortError, ScalingError, type ScalingErrorCode, StrategyAbortError } from './errors';
export type { NoiseSample } from './noise-search';
export type { RunOptions } from './options';
// particle kernel
export { effectiveSampleSize, effectiveSampleSizeOfLogWeights } from './particles/effective-sample-size';
export { type EntropicAnnealingOptions, entropicAnnealing } from './particles/entropic-annealing';
export {
  FK_POTENTIALS,
  type FkParticleState,
  type FkPotential,
  fkLogPotential,
} from './particles/fk-potentials';
export { logit, logSumExp, normalizeLogWeights, normalizeWeights } from './particles/log-weights';
export { resampleMultinomial } from './particles/resample-multinomial';
export { resampleResidual } from './particles/resample-residual';
export { resampleStratified } from './particles/resample-stratified';
export { resampleSystematic } from './particles/resample-systematic';
export { RESAMPLERS, type Resampler, type ResamplerName, resamplers } from './particles/resampler';
export type { TemperatureInput, TemperatureSchedule } from './particles/temperature-schedule';
export { type AdaptiveTemperingOptions, adaptiveTemperingStep } from './particles/tempering-adaptive-ess';
export { fixedTemperature } from './particles/tempering-fixed';
export { type LinearTemperatureOptions, linearTemperature } from './particles/tempering-linear';
export type { NoiseProposer, ProposeContext, Proposer, ScoreContext, Scorer } from './proposer';
export { RunContext } from './run-context';
// stopping rules
export { betaProbabilityLeaderIsBest, betaShouldStop } from './stopping/beta-stopping-rule';
export { supermajorityReached } from './stopping/supermajority-stopping-rule';
export { type AdaptiveSamplingOptions, adaptiveSampling } from './strategies/adaptive-sampling';
// strategies
export { type BeamSearchOptions, beamSearch } from './strategies/beam-search';
export { type BestOfNOptions, bestOfN } from './strategies/best-of-n';
export {
  type DiffusionTreeSamplingOptions,
  diffusionTreeSampling,
  diffusionTreeSearch,
} from './strategies/diffusion-tree-sampling';
export { type DvtsOptions, dvts } from './strategies/dvts';
export {
  type EntropicParticleFilteringOptions,
  entropicParticleFiltering,
} from './strategies/entropic-particle-filtering';
export { type EvoSearchOptions, evoSearch } from './strategies/evosearch';
export { type FkSteeringOptions, fkSteering } from './strategies/fk-steering';
export { type ParticleFilteringOptions, particleFiltering } from './strategies/particle-filtering';
export { type ParticleGibbsOptions, particleGibbs } from './strategies/particle-gibbs';
export { type RandomSearchOptions, randomSearch } from './strategies/random-search';
export {
  type RolloverBudgetForcingOptions,
  rolloverBudgetForcing,
} from './strategies/rollover-budget-forcing';
export {
  type PathProposer,
  type SearchOverPathsOptions,
  searchOverPaths,
} from './strategies/search-over-paths';
export { type SelfConsistencyOptions, selfConsistency } from './strategies/self-consistency';
export { type SelfEvalPruningOptions, selfEvalPruning } from './strategies/self-eval-pruning';
export { type WeightedBestOfNOptions, weightedBestOfN } from './strategies/weighted-best-of-n';
export { type ZeroOrderSearchOptions, zeroOrderSearch } from './strategies/zero-order-search';
export { defineStrategy, runStrategy, type StepReport, type Strategy, type StrategySpec } from './strategy';
export {
  bestCandidate,
  type Candidate,
  type CandidateStatus,
  type Decision,
  type StrategyEvent,
  type Trace,
} from './trace';
