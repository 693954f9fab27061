// @hasten/eval: metrics, tasks, the benchmark harness and report rendering. Isomorphic (runs in a
// browser); file, git and CLI helpers are in @hasten/eval/node.

// Harness
export {
  type BenchmarkCase,
  type BenchmarkDefinition,
  type BenchSide,
  type CaseTiming,
  defineBenchmark,
  defineCase,
} from './harness/benchmark.js';
export {
  type CaseComparison,
  type CaseStatus,
  type CompareOptions,
  type Comparison,
  compareResults,
  formatComparison,
  type MethodTimeChange,
  sameMachine,
} from './harness/compareResults.js';
export { type CopyBandwidthOptions, measureCopyBandwidth } from './harness/copyBandwidth.js';
export { detectEnvironment, type EnvironmentInput, environmentInputSchema } from './harness/environment.js';
export { formatResultTable } from './harness/formatResultTable.js';
export { type BenchProgress, type RunOptions, runBenchmark } from './harness/runBenchmark.js';
export {
  BENCH_SCHEMA_VERSION,
  type BenchImage,
  type BenchResult,
  benchResultSchema,
  type CaseResult,
  type Environment,
  parseBenchResult,
  type QualityCheck,
  type Series,
  serializeBenchResult,
  seriesSchema,
} from './harness/schema.js';
export { type FeatureMatrix, type FeatureStatistics, featureStatistics } from './linalg/covariance.js';
// Linear algebra used by the metrics (float64, row-major)
export { type JacobiOptions, jacobiEigen, type SymmetricEigen } from './linalg/jacobiEigen.js';
export {
  type NewtonSchulzOptions,
  type NewtonSchulzResult,
  newtonSchulzSqrt,
} from './linalg/newtonSchulzSqrt.js';
export { type SymmetricEigenMethod, sqrtPsd, symmetricEigen } from './linalg/sqrtPsd.js';
export { type TridiagonalQrOptions, tridiagonalQrEigen } from './linalg/tridiagonalQrEigen.js';
export { acceptanceRate } from './metrics/acceptanceRate.js';
export {
  type AccuracyAgainstBudgetOptions,
  accuracyAgainstBudget,
  type BudgetMean,
  type BudgetPoint,
  type BudgetProblem,
  type BudgetRun,
  meanAgainstBudget,
  type ScoredSample,
} from './metrics/accuracyAgainstBudget.js';
export { bitsPerByte, utf8Bytes } from './metrics/bitsPerByte.js';
export {
  type CoveragePoint,
  coverageCurve,
  outcomesFromSamples,
  type ProblemOutcome,
} from './metrics/coverageCurve.js';
export { editSimilarity, levenshtein, prefixMatch } from './metrics/editSimilarity.js';
export {
  type FrechetOptions,
  frechetDistance,
  frechetDistanceFromStatistics,
} from './metrics/frechetDistance.js';
// Generation speed
export type { GenerationTrace } from './metrics/generationTrace.js';
export {
  type GoodputResult,
  goodput,
  type LatencyObjective,
  type RequestLatency,
} from './metrics/goodput.js';
// Images and samples
export type { ImageArray } from './metrics/image.js';
export { type KlKnnOptions, klDivergence, klDivergenceFromSamples } from './metrics/klDivergence.js';
export { type LatencyPercentiles, latencyPercentiles } from './metrics/latencyPercentiles.js';
export { meanAcceptanceLength } from './metrics/meanAcceptanceLength.js';
export { mse } from './metrics/mse.js';
export { argmaxTokens, nextTokenAccuracy } from './metrics/nextTokenAccuracy.js';
// Test-time scaling
export { passAtK } from './metrics/passAtK.js';
export { perPositionAcceptance } from './metrics/perPositionAcceptance.js';
export { perplexity } from './metrics/perplexity.js';
export { type PsnrOptions, psnr } from './metrics/psnr.js';
export { median, quantile } from './metrics/quantile.js';
export { type SlicedWassersteinOptions, slicedWasserstein } from './metrics/slicedWasserstein.js';
// Speculative decoding
export { type DraftStep, type SpecDecodeCounters, specDecodeCounters } from './metrics/specDecodeCounters.js';
export { type SpeedupEstimate, type SpeedupOptions, speedup } from './metrics/speedup.js';
export { type SsimOptions, ssim } from './metrics/ssim.js';
export { type SampleSummary, sampleSummarySchema, summarize } from './metrics/summarize.js';
export { timePerOutputToken } from './metrics/timePerOutputToken.js';
export { timeToFirstToken } from './metrics/timeToFirstToken.js';
// Language modelling
export { tokenNll } from './metrics/tokenNll.js';
export { tokensPerSecond, traceTokensPerSecond } from './metrics/tokensPerSecond.js';
export { type Canonicalize, majorityVote, type VoteResult, weightedVote } from './metrics/vote.js';
export { majorityVoteAccuracy, type VotedProblem, weightedVoteAccuracy } from './metrics/voteAccuracy.js';
// Reports
export {
  type RenderReportOptions,
  type Report,
  type ReportFile,
  renderReport,
} from './report/renderReport.js';
export { renderSvg } from './report/renderSvg.js';
export { seriesChartSpec } from './report/seriesChart.js';
export { type SpeedupBar, speedupBars, speedupChartSpec } from './report/speedupChart.js';
export {
  ARITHMETIC_VERSION,
  type ArithmeticItem,
  type ArithmeticOptions,
  arithmeticTask,
  checkArithmetic,
  parseFinalInteger,
} from './tasks/arithmetic.js';
export {
  CODE_COMPLETION_VERSION,
  type CodeCompletionItem,
  type CodeCompletionOptions,
  checkCodeCompletion,
  codeCompletionTask,
  type SourceFile,
} from './tasks/codeCompletion.js';
export { evaluateTask, type TaskEvaluation } from './tasks/evaluateTask.js';
export {
  type Classifier,
  IMAGE_CLASS_VERSION,
  type ImageClassItem,
  type ImageClassOptions,
  imageClassTask,
} from './tasks/imageClass.js';
// Tasks
export { type CheckResult, type Task, type TaskItem, taskId } from './tasks/task.js';

// Utilities
export { createRng, type Rng } from './util/seededRng.js';
