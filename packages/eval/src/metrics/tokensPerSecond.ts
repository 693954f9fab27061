import { checkFiniteNumber, checkPositive, fail } from '../util/check.js';
import { checkTrace, type GenerationTrace } from './generationTrace.js';

// Output throughput: generated tokens / wall seconds (vLLM "output token throughput").

export function tokensPerSecond(tokens: number, seconds: number): number {
  const n = checkFiniteNumber('tokensPerSecond', 'tokens', tokens);
  if (n < 0) fail('tokensPerSecond', 'tokens', `must be >= 0 (got ${n})`);
  return n / checkPositive('tokensPerSecond', 'seconds', seconds);
}

/** Throughput of one request over its whole duration (start to last token). */
export function traceTokensPerSecond(trace: GenerationTrace): number {
  checkTrace('traceTokensPerSecond', trace, 1);
  const t = trace.tokenTimesMs;
  const seconds = (t[t.length - 1]! - trace.startMs) / 1000;
  if (seconds <= 0) fail('traceTokensPerSecond', 'trace', 'spans zero time, so the rate is undefined');
  return t.length / seconds;
}
