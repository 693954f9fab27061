/**
 * @file Verification of a chain of K draft tokens against the target's K+1 distributions:
 * speculative sampling (Leviathan et al., arXiv 2211.17192; Chen et al., arXiv 2302.01318) with
 * the three rules of vLLM's rejection sampler (vllm/v1/sample/rejection_sampler.py):
 *
 * - 'greedy': accept draft i while it equals argmax(target row i); at the first mismatch emit that
 *   argmax and stop; if all K match, emit argmax(row K) as the bonus token. Rows may be logits.
 * - 'sampled': accept draft x at position i iff q(x) > 0 and p(x) / q(x) >= u_i, u_i ~ U[0, 1); on the
 *   first rejection emit a recovered token ~ normalize(max(p - q, 0)) and stop; if all K are
 *   accepted, emit a bonus token ~ target row K. p and q are the processed distributions (after
 *   temperature, top-k, top-p, ...), exactly those the target and the drafter sample from.
 * - 'ngram' (drafts without probabilities: prompt lookup, n-gram tables): q is one-hot at the draft,
 *   so accept iff p(x) >= u_i; the recovered token ~ p with p(x) zeroed.
 *
 * One deliberate difference from vLLM: acceptance also needs p(x) > 0. u is drawn from [0, 1) and is
 * exactly 0 with probability 2^-53; vLLM would then accept a token the target forbids (a top-k or
 * grammar mask zero). Every ratio, residual and sample is computed in f64 from f32 or f64 rows.
 *
 * Random stream (fixed, so a seed reproduces a run and a kernel can replay it): 'sampled' and
 * 'ngram' draw `rng.uniform(K)` (u_i is element i, drawn even for positions after a rejection), then
 * exactly one categorical sample (recovered or bonus). 'greedy' draws nothing.
 */
import type { Philox } from '@hasten/core-tensor';
import { z } from 'zod';
import {
  argmax,
  checkRows,
  checkTokens,
  type ProbRow,
  RngSchema,
  RowSchema,
  rowSum,
  sampleWeights,
  TokensSchema,
} from './distributions';
import { inputError, parseOptions } from './errors';

export type VerifyMode = 'greedy' | 'sampled' | 'ngram';

export interface VerifyInput {
  mode: VerifyMode;
  /** The K draft tokens. */
  draftTokens: readonly number[] | Int32Array;
  /** K + 1 target rows: row i is the distribution after the context and drafts 0..i-1. */
  targetProbs: readonly ProbRow[];
  /** 'sampled' only: K rows, row i the distribution draft i was sampled from. */
  draftProbs?: readonly ProbRow[];
  /** Required for 'sampled' and 'ngram'. */
  rng?: Philox;
}

export interface VerifyResult {
  /** Number of draft tokens accepted (0..K). */
  accepted: number;
  /** The accepted drafts, then one recovered (after a rejection) or bonus (all accepted) token. */
  tokens: number[];
  /** Per draft position: true iff accepted (false after the first rejection too). */
  acceptedMask: boolean[];
  /** True when all K drafts were accepted and the last token is the bonus. */
  bonus: boolean;
}

const VerifyInputSchema = z.strictObject({
  mode: z.enum(['greedy', 'sampled', 'ngram']),
  draftTokens: TokensSchema,
  targetProbs: z.array(RowSchema).readonly(),
  draftProbs: z.array(RowSchema).readonly().optional(),
  rng: RngSchema.optional(),
});

const WHERE = 'verify';

export function verify(input: VerifyInput): VerifyResult {
  const { mode, draftTokens, targetProbs, draftProbs, rng } = parseOptions(VerifyInputSchema, input, WHERE);
  const k = draftTokens.length;
  if (targetProbs.length !== k + 1) {
    throw inputError(
      WHERE,
      `'targetProbs' has ${targetProbs.length} rows; expected K + 1 = ${k + 1} for ${k} draft tokens`,
    );
  }
  const vocab = targetProbs[0].length;
  checkRows(WHERE, targetProbs, vocab, 'targetProbs');
  checkTokens(WHERE, draftTokens, vocab, 'draftTokens');
  if (mode === 'sampled') {
    if (!draftProbs || draftProbs.length !== k) {
      throw inputError(
        WHERE,
        `mode 'sampled' needs 'draftProbs' with K = ${k} rows, got ${draftProbs ? draftProbs.length : 'none'}`,
      );
    }
    checkRows(WHERE, draftProbs, vocab, 'draftProbs');
  } else if (draftProbs) {
    throw inputError(WHERE, `'draftProbs' is only used by mode 'sampled', not '${mode}'`);
  }
  if (mode !== 'greedy' && !rng) throw inputError(WHERE, `mode '${mode}' needs 'rng'`);

  if (mode === 'greedy') return verifyGreedy(draftTokens, targetProbs);
  return verifyStochastic(mode, draftTokens, targetProbs, draftProbs, rng as Philox);
}

function verifyGreedy(draft: ArrayLike<number>, target: readonly ProbRow[]): VerifyResult {
  const k = draft.length;
  const tokens: number[] = [];
  const acceptedMask = new Array<boolean>(k).fill(false);
  for (let i = 0; i < k; i++) {
    const best = argmax(WHERE, target[i], `targetProbs[${i}]`);
    tokens.push(best);
    if (best !== draft[i]) return { accepted: i, tokens, acceptedMask, bonus: false };
    acceptedMask[i] = true;
  }
  tokens.push(argmax(WHERE, target[k], `targetProbs[${k}]`));
  return { accepted: k, tokens, acceptedMask, bonus: true };
}

function verifyStochastic(
  mode: 'sampled' | 'ngram',
  draft: ArrayLike<number>,
  target: readonly ProbRow[],
  draftRows: readonly ProbRow[] | undefined,
  gen: Philox,
): VerifyResult {
  const k = draft.length;
  const vocab = target[0].length;
  const u = gen.uniform(k);
  const tokens: number[] = [];
  const acceptedMask = new Array<boolean>(k).fill(false);
  for (let i = 0; i < k; i++) {
    const x = draft[i];
    const p = target[i];
    const pSum = rowSum(WHERE, p, `targetProbs[${i}]`);
    const px = p[x] / pSum;
    let accept: boolean;
    let residual: Float64Array;
    if (mode === 'sampled') {
      const q = (draftRows as readonly ProbRow[])[i];
      const qSum = rowSum(WHERE, q, `draftProbs[${i}]`);
      const qx = q[x] / qSum;
      accept = qx > 0 && px > 0 && px / qx >= u[i];
      if (accept) {
        acceptedMask[i] = true;
        tokens.push(x);
        continue;
      }
      residual = new Float64Array(vocab);
      let mass = 0;
      for (let j = 0; j < vocab; j++) {
        const d = p[j] / pSum - q[j] / qSum;
        if (d > 0) {
          residual[j] = d;
          mass += d;
        }
      }
      // Only rounding can leave no residual mass (p and q equal to the last bit): p itself is then exact.
      if (!(mass > 0)) for (let j = 0; j < vocab; j++) residual[j] = p[j];
    } else {
      accept = px > 0 && px >= u[i];
      if (accept) {
        acceptedMask[i] = true;
        tokens.push(x);
        continue;
      }
      residual = Float64Array.from(p);
      residual[x] = 0;
    }
    tokens.push(sampleWeights(gen, residual));
    return { accepted: i, tokens, acceptedMask, bonus: false };
  }
  rowSum(WHERE, target[k], `targetProbs[${k}]`);
  tokens.push(sampleWeights(gen, target[k]));
  return { accepted: k, tokens, acceptedMask, bonus: true };
}
