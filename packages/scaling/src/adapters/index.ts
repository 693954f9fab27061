/**
 * @file @hasten/scaling/adapters: the model adapters (the only part of @hasten/scaling that imports
 * model packages). An LLM proposer over @hasten/decoding with its KV in @hasten/kv's paged cache, and
 * diffusion proposers over @hasten/diffusion (step-wise with the Tweedie estimate, and from a noise).
 */

export {
  type ArithPrm,
  ArithPrmOptions,
  arithPrm,
  type StepScoredState,
} from './arith-prm';
export {
  type DiffusionNoiseProposer,
  type DiffusionNoiseProposerOptions,
  diffusionNoiseProposer,
} from './diffusion-noise-proposer';
export {
  type DiffusionProposer,
  type DiffusionProposerOptions,
  type DiffusionState,
  diffusionProposer,
  tweedieReward,
} from './diffusion-proposer';
export {
  decodeBytes,
  type KvMemoryReport,
  type LlmProposer,
  type LlmProposerOptions,
  type LlmState,
  llmProposer,
  meanTokenProbability,
} from './llm-proposer';
