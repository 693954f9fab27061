/**
 * @file StreamingLLM (Xiao et al., "Efficient Streaming Language Models with Attention Sinks",
 * arXiv:2309.17453): keep the first `sinks` positions (the "attention sinks" that soak up attention
 * mass; the paper uses 4) and the most recent ones. As a score: sinks get +Infinity, every other
 * position its index (more recent = higher), so keeping `keep` positions keeps the sinks and a
 * recent window of `keep - sinks` positions (kvpress's StreamingLLMPress does the same).
 */
import { parseOptionsWith, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import type { ScoreInput, ScorePolicy } from './scorer';

export const StreamingLLMOptions = z.strictObject({
  /** Leading positions always kept. */
  sinks: z.number().int().nonnegative().default(4),
});
export type StreamingLLMOptions = z.input<typeof StreamingLLMOptions>;

export function streamingLLM(opts?: StreamingLLMOptions): ScorePolicy {
  const { sinks } = parseOptionsWith(StreamingLLMOptions, opts, (p) => new TensorError('streamingLLM', p));
  return {
    name: 'streaming-llm',
    score({ keys }: ScoreInput): Float64Array {
      const [B, H, T] = keys.shape;
      const out = new Float64Array(B * H * T);
      for (let r = 0; r < B * H; r++) for (let t = 0; t < T; t++) out[r * T + t] = t < sinks ? Infinity : t;
      return out;
    },
  };
}
