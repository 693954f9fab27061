import { checkTrace, type GenerationTrace } from './generationTrace.js';

// Time to first token (TTFT): first output token time minus request start, in ms; includes the prefill.
// Definition as in vLLM benchmark_serving and DistServe (arXiv 2401.09670).

export function timeToFirstToken(trace: GenerationTrace): number {
  checkTrace('timeToFirstToken', trace, 1);
  return trace.tokenTimesMs[0]! - trace.startMs;
}
