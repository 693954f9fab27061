/**
 * @file Prompt-lookup decoding (Saxena, 2023, github.com/apoorvumang/prompt-lookup-decoding; vLLM's
 * 'ngram' method): find the trailing n-gram of the context earlier in the context and propose the
 * tokens that followed it. No weights, so it pays off when the output copies its input (code edits,
 * retrieval, summaries that quote).
 *
 * Rule: for n = max down to min, take the last n tokens; among their earlier occurrences (ones that
 * start before the trailing n-gram itself) use the most recent (`prefer: 'earliest'` takes the
 * first, as vLLM's KMP search does) and propose up to k tokens that follow it. The first n with a
 * match wins, so longer matches are preferred. The copy may run past the end of the context into the
 * tokens it proposes itself (an overlapping copy, as in LZ77): a repeating pattern keeps repeating
 * for all k tokens where vLLM would stop at the end of the context.
 *
 * Defaults follow vLLM's SpeculativeConfig: min = max = 5; if only one is given, the other equals it.
 */
import { z } from 'zod';
import { inputError, parseOptions } from '../errors';
import type { Draft, Drafter } from './drafter';

export interface PromptLookupOptions {
  /** Shortest n-gram to match (default: max, or 5). */
  min?: number;
  /** Longest n-gram to match (default: min, or 5). */
  max?: number;
  /** Which earlier occurrence to copy from (default 'latest'). */
  prefer?: 'latest' | 'earliest';
}

const Options = z.strictObject({
  min: z.number().int().positive().optional(),
  max: z.number().int().positive().optional(),
  prefer: z.enum(['latest', 'earliest']).optional(),
});

const WHERE = 'PromptLookupDrafter';

export class PromptLookupDrafter implements Drafter {
  readonly min: number;
  readonly max: number;
  readonly prefer: 'latest' | 'earliest';

  constructor(options: PromptLookupOptions = {}) {
    const o = parseOptions(Options, options, WHERE);
    this.min = o.min ?? o.max ?? 5;
    this.max = o.max ?? o.min ?? 5;
    this.prefer = o.prefer ?? 'latest';
    if (this.min > this.max) throw inputError(WHERE, `min ${this.min} is larger than max ${this.max}`);
  }

  propose(context: readonly number[], k: number): Draft {
    if (!Number.isInteger(k) || k < 0) throw inputError(WHERE, `k must be an integer >= 0, got ${k}`);
    const len = context.length;
    if (k === 0) return { tokens: [] };
    for (let n = Math.min(this.max, len - 1); n >= this.min; n--) {
      const start = this.findMatch(context, n);
      if (start < 0) continue;
      const tokens: number[] = [];
      for (let t = 0; t < k; t++) {
        const i = start + n + t;
        tokens.push(i < len ? context[i] : tokens[i - len]);
      }
      return { tokens };
    }
    return { tokens: [] };
  }

  /** Start of the chosen earlier occurrence of the trailing n-gram, or -1. */
  private findMatch(context: readonly number[], n: number): number {
    const len = context.length;
    const tail = len - n;
    const matches = (j: number) => {
      for (let t = 0; t < n; t++) if (context[j + t] !== context[tail + t]) return false;
      return true;
    };
    if (this.prefer === 'latest') {
      for (let j = tail - 1; j >= 0; j--) if (matches(j)) return j;
    } else {
      for (let j = 0; j < tail; j++) if (matches(j)) return j;
    }
    return -1;
  }
}
