/**
 * @file @hasten/decoding: logits processors, sampling, generate/stream and beam search on any
 * CausalLM from @hasten/models. (Speculative decoding lives in ./speculative.)
 */

export { gatherCacheRows } from './batch/cache-rows';
export type { LeftPadded } from './batch/left-pad';
export { leftPad } from './batch/left-pad';
export type { BeamSearchOptions, BeamSearchResult, BeamSequence } from './beam/beam-search';
export { BeamSearchOptionsSchema, beamSearch } from './beam/beam-search';
// Learn2PD's learned commit filter and AR-guided diffusion (commit 'learn2pd' / 'ar-guided').
export type { ArFallback, ArGuidedReason } from './dllm/ar-guided';
export type {
  CommitReason,
  DiffusionCommit,
  DiffusionEvent,
  DiffusionFinishEvent,
  DiffusionFinishReason,
  DiffusionResult,
  DiffusionRow,
  DiffusionStats,
  DiffusionStepEvent,
} from './dllm/generate-diffusion';
// Masked diffusion LMs (LLaDA, Fast-dLLM, first-hitting sampler).
export { generateDiffusion, streamDiffusion } from './dllm/generate-diffusion';
export type { Learn2pdFilter } from './dllm/learn2pd';
export { LEARN2PD_FEATURES, Learn2pdFilterSchema, parseLearn2pdFilter } from './dllm/learn2pd';
export type { Learn2pdTrace, TrainOptions as Learn2pdTrainOptions } from './dllm/learn2pd-train';
export {
  chooseLearn2pdThreshold,
  evaluateLearn2pdFilter,
  learn2pdTrace,
  trainLearn2pdFilter,
} from './dllm/learn2pd-train';
export type { DiffusionOptions } from './dllm/options';
export { DiffusionOptionsSchema } from './dllm/options';
export type { DecodingErrorCode } from './errors';
export { DecodingError } from './errors';
export { IncrementalDetokenizer } from './generation/detokenizer';
export { generate } from './generation/generate';
export type { KVCompressionOptions, KVCompressionStats } from './generation/kv-compression';
export type { GenerateOptions } from './generation/options';
export { GenerateOptionsSchema } from './generation/options';
export { StopStrings } from './generation/stop-strings';
export type {
  FinishEvent,
  FinishReason,
  GenerateResult,
  GenerationRow,
  GenerationStats,
  StreamEvent,
  TokenEvent,
} from './generation/stream';
export { stream } from './generation/stream';
export type { ContrastiveOptions } from './processors/contrastive';
export { ContrastiveProcessor } from './processors/contrastive';
export { FrequencyPresencePenaltyProcessor } from './processors/frequency-presence-penalty';
export type { ProcessorOptions } from './processors/from-options';
export {
  ProcessorOptionsSchema,
  processorShape,
  processorsFromOptions,
  SAMPLING_OPTIONS,
} from './processors/from-options';
export { LogitBiasProcessor } from './processors/logit-bias';
export { MinNewTokensProcessor } from './processors/min-new-tokens';
export { MinPProcessor } from './processors/min-p';
export { NoRepeatNGramProcessor } from './processors/no-repeat-ngram';
export { logSoftmax, softmax } from './processors/probabilities';
export type { LogitsProcessor, RowContext, StepInput } from './processors/processor';
export { applyProcessors } from './processors/processor';
export { RepetitionPenaltyProcessor } from './processors/repetition-penalty';
export { SuppressTokensProcessor } from './processors/suppress-tokens';
export { TemperatureProcessor } from './processors/temperature';
export { TopKProcessor } from './processors/top-k';
export { TopPProcessor } from './processors/top-p';
export { TypicalPProcessor } from './processors/typical-p';
export { argmax, rowGenerators, sampleToken } from './sampling/select';

// Speculative decoding: verification rules, drafters, the draft-then-verify loop and its metrics.
export type { DraftModelOptions } from './speculative/drafters/draft-model';
export { DraftModelDrafter } from './speculative/drafters/draft-model';
export type { Draft, Drafter, DraftSetup } from './speculative/drafters/drafter';
export type { LookaheadOptions } from './speculative/drafters/lookahead';
export { LookaheadDrafter } from './speculative/drafters/lookahead';
export type { MedusaOptions } from './speculative/drafters/medusa';
export { MedusaDrafter } from './speculative/drafters/medusa';
export type { NgramTrieOptions } from './speculative/drafters/ngram-trie';
export { NgramTrieDrafter } from './speculative/drafters/ngram-trie';
export type { PromptLookupOptions } from './speculative/drafters/prompt-lookup';
export { PromptLookupDrafter } from './speculative/drafters/prompt-lookup';
export type { SpecDecodeStep, SpecDecodeSummary } from './speculative/metrics';
export { SpecDecodeMetrics } from './speculative/metrics';
export type { DraftScheme } from './speculative/multi-draft/draft-sampling';
export { sampleDrafts } from './speculative/multi-draft/draft-sampling';
export { verifyGreedyDrafts } from './speculative/multi-draft/greedy-draft';
export type { MultiDraftInput, MultiDraftResult } from './speculative/multi-draft/input';
export { verifyKSeq } from './speculative/multi-draft/k-seq';
export type { OptimalAcceptanceOptions } from './speculative/multi-draft/optimal-acceptance';
export { optimalAcceptance } from './speculative/multi-draft/optimal-acceptance';
export { verifyRecursiveRejection } from './speculative/multi-draft/recursive-rejection';
export type { MultiDraftTreeInput, MultiDraftTreeResult } from './speculative/multi-draft/tree-multi-draft';
export { verifyMultiDraftTree } from './speculative/multi-draft/tree-multi-draft';
export type { SpeculativeOptions, SpeculativeResult } from './speculative/speculative-decode';
export { SpeculativeOptionsSchema, speculativeDecode } from './speculative/speculative-decode';
export type { TokenTree, TreeAttention } from './speculative/token-tree';
export { pathIndices, treeAttention, treePaths } from './speculative/token-tree';
export type { TreeVerifyInput, TreeVerifyMode, TreeVerifyResult } from './speculative/tree-verify';
export { treeVerify } from './speculative/tree-verify';
export type { TypicalAcceptanceInput, TypicalAcceptanceResult } from './speculative/typical-acceptance';
export { typicalAcceptance } from './speculative/typical-acceptance';
export type { VerifyInput, VerifyMode, VerifyResult } from './speculative/verify';
export { verify } from './speculative/verify';
