/**
 * @file LLaDA's reverse-process sampler pieces (Nie et al., "Large Language Diffusion Models", arXiv
 * 2502.09992, Algorithms 4-5; ML-GSAI/LLaDA generate.py):
 *
 * - The transfer schedule `get_num_transfer_tokens`: a block with M masked positions decoded in
 *   `steps` steps commits k_i = floor(M / steps) + (i < M mod steps ? 1 : 0) tokens at step i (the
 *   linear noise schedule unmasks the same expected number of tokens per step).
 * - The prediction at a masked position: x0 = argmax_v exp(l_v) / (-log U_v)^T, i.e.
 *   argmax_v (l_v + T g_v) with Gumbel noise g = -log(-log U), computed in float64 (the float32
 *   Gumbel-max truncation lowers the effective temperature: Zheng et al., arXiv 2409.02908 §2.5);
 *   T = 0 is the plain argmax. The mask token itself is never predicted (its logit is skipped).
 * - Its confidence: 'low-confidence' remasking uses softmax(l)[x0] in float64 (the untempered
 *   logits, as generate.py does); 'random' remasking uses a uniform draw.
 * - The commit of a step: the k masked positions of the current block with the highest confidence
 *   (ties: the lower position first); committed tokens are never re-masked.
 *
 * Random numbers: per step, for each masked position of the current block in increasing order,
 * `V` Gumbel draws (only when T > 0) then one uniform (only for 'random' remasking), from the row's
 * Philox stream. The plain-loop reference (reference.ts) draws in the same order.
 */
import type { Philox } from '@hasten/core-tensor';
import { DecodingError } from '../errors';

export type Remasking = 'low-confidence' | 'random';

/** LLaDA's get_num_transfer_tokens for one row: tokens committed at each of `steps` steps. */
export function numTransferTokens(masked: number, steps: number): number[] {
  if (!Number.isInteger(masked) || masked < 0 || !Number.isInteger(steps) || steps < 1) {
    throw new DecodingError(
      'input',
      `numTransferTokens: need integers masked >= 0 and steps >= 1, got ${masked}, ${steps}`,
    );
  }
  const base = Math.floor(masked / steps);
  const rem = masked % steps;
  return Array.from({ length: steps }, (_, i) => base + (i < rem ? 1 : 0));
}

export interface Prediction {
  token: number;
  /** softmax probability of `token` (low-confidence) or a uniform draw (random). */
  confidence: number;
}

/**
 * x0 and its confidence at one position from its logits (float32 or float64), in float64.
 * `gen` is needed when temperature > 0 or remasking is 'random'.
 */
export function predict(
  logits: ArrayLike<number>,
  temperature: number,
  remasking: Remasking,
  maskTokenId: number,
  gen: Philox | null,
  where = 'predict',
): Prediction {
  const V = logits.length;
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < V; v++) {
    const x = logits[v];
    if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) {
      throw new DecodingError('logits', `${where}: the model's logit of token ${v} is ${x}`);
    }
    if (x > max) max = x;
  }
  const noise = temperature > 0 ? need(gen, where).gumbel(V) : null;
  let token = -1;
  let best = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < V; v++) {
    if (v === maskTokenId) continue;
    const s = noise ? logits[v] + temperature * noise[v] : logits[v];
    if (s > best) {
      best = s;
      token = v;
    }
  }
  if (token < 0) throw new DecodingError('logits', `${where}: every token's logit is -Infinity`);
  if (remasking === 'random') return { token, confidence: need(gen, where).uniform(1)[0] };
  let z = 0;
  for (let v = 0; v < V; v++) z += Math.exp(logits[v] - max);
  return { token, confidence: Math.exp(logits[token] - max) / z };
}

function need(gen: Philox | null, where: string): Philox {
  if (!gen) throw new DecodingError('input', `${where}: sampling needs a random generator`);
  return gen;
}

/** Indices of `items` sorted by confidence, highest first (ties: lower position first). */
export function byConfidence(items: readonly { position: number; confidence: number }[]): number[] {
  return items
    .map((_, i) => i)
    .sort((a, b) => items[b].confidence - items[a].confidence || items[a].position - items[b].position);
}
