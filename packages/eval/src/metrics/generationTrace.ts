import { checkFiniteArray, checkFiniteNumber, fail } from '../util/check.js';

/**
 * Timing of one generation request: when it was submitted and when each output token arrived
 * (same clock, milliseconds). What a streaming generator records.
 */
export interface GenerationTrace {
  startMs: number;
  tokenTimesMs: ArrayLike<number>;
}

/** Validates a trace: finite, at least one token, times non-decreasing and not before the start. */
export function checkTrace(where: string, trace: GenerationTrace, minTokens = 1): GenerationTrace {
  if (trace === null || typeof trace !== 'object') fail(where, 'trace', 'must be { startMs, tokenTimesMs }');
  checkFiniteNumber(where, 'trace.startMs', trace.startMs);
  const times = checkFiniteArray(where, 'trace.tokenTimesMs', trace.tokenTimesMs, { minLength: minTokens });
  let prev = trace.startMs;
  for (let i = 0; i < times.length; i++) {
    if (times[i]! < prev) {
      fail(where, `trace.tokenTimesMs[${i}]`, `must be >= the previous time ${prev} (got ${times[i]})`);
    }
    prev = times[i]!;
  }
  return trace;
}
