/**
 * @file Mean next-token negative log-likelihood (nats per token) of a causal LM on a token
 * sequence, in windows of at most `window` tokens (each window starts fresh, no cache):
 *   NLL = −(1/N) Σ_t log softmax(logits_t)[x_{t+1}],
 * computed in f64 from the f32 logits. The quality measure of AWQ and of the mixed-precision plans.
 */
import { tensor } from '@hasten/core-tensor';
import { z } from 'zod';
import type { CausalLM } from '../causal-lm';
import { parseOptions } from '../options';

const Options = z.strictObject({
  /** Tokens per forward pass (default 256). */
  window: z.number().int().min(2).default(256),
});
export type NextTokenNllOptions = z.input<typeof Options>;

export async function nextTokenNll(
  model: CausalLM,
  tokens: ArrayLike<number>,
  opts: NextTokenNllOptions = {},
): Promise<number> {
  const { window } = parseOptions(Options, opts, 'nextTokenNll');
  let sum = 0;
  let n = 0;
  for (let start = 0; start + 1 < tokens.length; start += window) {
    const ids = Array.from({ length: Math.min(window, tokens.length - start) }, (_, i) => tokens[start + i]);
    if (ids.length < 2) break;
    const out = await model.forward({
      tokens: tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'i32' }),
    });
    const logits = (await out.logits.data()) as Float32Array;
    out.logits.dispose();
    const V = logits.length / ids.length;
    for (let t = 0; t + 1 < ids.length; t++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(logits[t * V + v] - max);
      sum += max + Math.log(z) - logits[t * V + ids[t + 1]];
      n++;
    }
  }
  return sum / n;
}
