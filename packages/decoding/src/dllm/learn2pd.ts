/**
 * @file Learn2PD's learned commit filter for masked diffusion decoding ("Learning to Parallel:
 * Accelerating Diffusion Large Language Models via Learnable Parallel Decoding", arXiv 2509.25188):
 * a tiny model, trained in minutes after the fact on decoding traces, predicts for every masked
 * position of the current block whether its current prediction already equals the token that the
 * reference decoding finally commits there (the paper's "extremely greedy" oracle: commit a position
 * as soon as its prediction is final). A step commits every masked position the filter scores
 * >= tau, and at least one: with none above tau, the most confident position (ties: the lower
 * position), so tau = +Infinity is LLaDA's low-confidence decoding at one token per step. The
 * paper's End-of-Text Prediction is eos-fill.ts.
 *
 * Ours: the filter is a logistic regression or a one-hidden-layer MLP (tanh) over the
 * LEARN2PD_FEATURES of a position at a step (the paper's filter reads the confidences; we add the
 * margin, entropy, where the position sits and how far the block has come), standardised with the
 * training set's mean and standard deviation, trained with Adam on binary cross-entropy in float64
 * (learn2pd-train.ts). Its weights are a JSON object (`hasten.learn2pd/1`, e.g.
 * fixtures/code-mdlm/learn2pd.json, rebuilt by `npm run train:learn2pd -w @hasten/decoding`),
 * checked by parseLearn2pdFilter() when loaded.
 */
import { z } from 'zod';
import { DecodingError } from '../errors';
import { parseOptions } from '../options';

/** The per-position features, in the order the filter reads them. */
export const LEARN2PD_FEATURES = [
  /** softmax probability of the predicted token (the confidence). */
  'confidence',
  /** top-1 minus top-2 probability. */
  'margin',
  /** entropy of the softmax over log(vocab): in [0, 1]. */
  'entropy',
  /** (position - block start) / (block length - 1), 0 for a block of one. */
  'blockPosition',
  /** distance to the nearest non-mask token (prompt included) / block length, at most 1. */
  'committedDistance',
  /** committed positions of the block / block length (how far the block has come). */
  'blockProgress',
  /** 1 when the predicted token is the end-of-text token, else 0. */
  'predictsEos',
] as const;

export const LEARN2PD_FORMAT = 'hasten.learn2pd/1';

const F = LEARN2PD_FEATURES.length;
const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const Learn2pdFilterSchema = z
  .strictObject({
    format: z.literal(LEARN2PD_FORMAT),
    features: z.array(z.string()).refine((f) => f.join() === LEARN2PD_FEATURES.join(), {
      message: `must be [${LEARN2PD_FEATURES.join(', ')}]`,
    }),
    /** Hidden units (0: logistic regression). */
    hidden: z.number().int().min(0).max(256),
    /** Feature standardisation: x' = (x - mean) / std. */
    mean: z.array(finite).length(F),
    std: z.array(finite.refine((s) => s > 0, 'must be > 0')).length(F),
    /** hidden > 0: [hidden][F] row-major; else unused (empty). */
    w1: z.array(finite),
    b1: z.array(finite),
    /** Output weights: [hidden] (or [F] for logistic regression). */
    w2: z.array(finite),
    b2: finite,
    /** The tau chosen at training (see learn2pd-train.ts), the default of `learn2pdThreshold`. */
    threshold: z.number().gt(0).max(1),
    /** Free-form provenance (data, seed, metrics). */
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((f, ctx) => {
    const h = f.hidden;
    const want = h > 0 ? { w1: h * F, b1: h, w2: h } : { w1: 0, b1: 0, w2: F };
    for (const k of ['w1', 'b1', 'w2'] as const) {
      if (f[k].length !== want[k]) {
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: `must hold ${want[k]} numbers for hidden ${h} and ${F} features, got ${f[k].length}`,
        });
      }
    }
  });

export type Learn2pdFilter = z.output<typeof Learn2pdFilterSchema>;

/** Validates a filter (e.g. the parsed JSON of fixtures/code-mdlm/learn2pd.json); throws DecodingError. */
export function parseLearn2pdFilter(value: unknown): Learn2pdFilter {
  return parseOptions(Learn2pdFilterSchema, value, 'parseLearn2pdFilter');
}

/** The filter's probability that the position's prediction is final, in [0, 1]. */
export function learn2pdScore(f: Learn2pdFilter, features: ArrayLike<number>): number {
  const x = new Float64Array(F);
  for (let i = 0; i < F; i++) x[i] = (features[i] - f.mean[i]) / f.std[i];
  let z = f.b2;
  if (f.hidden === 0) {
    for (let i = 0; i < F; i++) z += f.w2[i] * x[i];
  } else {
    for (let j = 0; j < f.hidden; j++) {
      let a = f.b1[j];
      for (let i = 0; i < F; i++) a += f.w1[j * F + i] * x[i];
      z += f.w2[j] * Math.tanh(a);
    }
  }
  return sigmoid(z);
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

export interface Learn2pdContext {
  /** The sequence (prompt + generated region, masks where undecided). */
  x: Int32Array;
  /** Absolute position of the masked position. */
  position: number;
  /** The current block [lo, hi). */
  lo: number;
  hi: number;
  mask: number;
  /** End-of-text id (undefined: feature predictsEos is 0). */
  eos: number | undefined;
}

/**
 * The LEARN2PD_FEATURES of one masked position from its logits (float32 or float64), computed in
 * float64. `token` is the position's prediction (predict() of llada.ts; the mask token is never
 * one) and `confidence` its softmax probability.
 */
export function learn2pdFeatures(logits: ArrayLike<number>, token: number, c: Learn2pdContext): Float64Array {
  const V = logits.length;
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < V; v++) if (logits[v] > max) max = logits[v];
  let z = 0;
  for (let v = 0; v < V; v++) z += Math.exp(logits[v] - max);
  let entropy = 0;
  let second = 0;
  for (let v = 0; v < V; v++) {
    const p = Math.exp(logits[v] - max) / z;
    if (p > 0) entropy -= p * Math.log(p);
    if (v !== token && v !== c.mask && p > second) second = p;
  }
  const p1 = Math.exp(logits[token] - max) / z;
  const B = c.hi - c.lo;
  let dist = B;
  for (let d = 1; d < B; d++) {
    const l = c.position - d;
    const r = c.position + d;
    if ((l >= 0 && c.x[l] !== c.mask) || (r < c.x.length && c.x[r] !== c.mask)) {
      dist = d;
      break;
    }
  }
  let committed = 0;
  for (let i = c.lo; i < c.hi; i++) if (c.x[i] !== c.mask) committed++;
  return Float64Array.from([
    p1,
    p1 - second,
    V > 1 ? entropy / Math.log(V) : 0,
    B > 1 ? (c.position - c.lo) / (B - 1) : 0,
    Math.min(1, dist / B),
    committed / B,
    token === c.eos ? 1 : 0,
  ]);
}

export type Learn2pdReason = 'learn2pd' | 'low-confidence';

export interface Learn2pdPick {
  /** Index into the given candidates. */
  index: number;
  reason: Learn2pdReason;
}

/**
 * The candidates to commit: every one whose filter score is >= tau ('learn2pd'), in the order
 * given; with none, the most confident one (ties: the lower position; 'low-confidence').
 */
export function learn2pdCommits(
  candidates: readonly { position: number; confidence: number; score: number }[],
  tau: number,
): Learn2pdPick[] {
  if (Number.isNaN(tau)) throw new DecodingError('options', 'learn2pdCommits: tau is NaN');
  const picks: Learn2pdPick[] = [];
  candidates.forEach((c, index) => {
    if (c.score >= tau) picks.push({ index, reason: 'learn2pd' });
  });
  if (picks.length > 0 || candidates.length === 0) return picks;
  let best = 0;
  for (let i = 1; i < candidates.length; i++) {
    const a = candidates[i];
    const b = candidates[best];
    if (a.confidence > b.confidence || (a.confidence === b.confidence && a.position < b.position)) best = i;
  }
  return [{ index: best, reason: 'low-confidence' }];
}
