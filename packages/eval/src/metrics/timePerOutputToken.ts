import { fail } from '../util/check.js';
import { checkTrace, type GenerationTrace } from './generationTrace.js';

// Time per output token (TPOT): (last token time - first token time) / (tokens - 1), in ms. The first
// token is excluded because its latency is the TTFT (vLLM benchmark_serving; DistServe arXiv 2401.09670).

export function timePerOutputToken(trace: GenerationTrace): number {
  checkTrace('timePerOutputToken', trace, 1);
  const t = trace.tokenTimesMs;
  if (t.length < 2)
    fail('timePerOutputToken', 'trace.tokenTimesMs', 'needs at least 2 tokens to define TPOT');
  return (t[t.length - 1]! - t[0]!) / (t.length - 1);
}
