/**
 * @file A slot for a learned scorer (Locret, Huang et al., arXiv:2410.01805: small "retaining
 * heads" trained to predict each cached position's causal importance, used to evict between prefill
 * chunks). `learnedScorer({ score })` turns any function of per-position features into a
 * `ScorePolicy`; a trained retaining head plugs in as that function. `linearHead` is a tiny example
 * (a linear function of key norm, value norm and attention received), and `fitLinearHead` fits its
 * weights by least squares to importance targets (e.g. the attention a position receives from later
 * queries), the simplest analogue of training a retaining head.
 *
 * Feature contract (`PositionFeatures`), per layer, all row-major over (batch row b, kv head h,
 * cached slot t):
 * - `keys`, `values`: f64 [B, Hkv, T, D] (keys after RoPE, as cached);
 * - `queries` / `numHeads`: the caller's queries [B, Hq, W, D] of the last W positions, when given;
 * - `attention`: f64 [B, Hkv, T], the attention weight each slot received from those W queries,
 *   summed over the queries and averaged over the query heads that read the kv head (exactly what
 *   H2O accumulates; computed only when the scorer says `needsQueries`);
 * - `positionOffset`: slot t holds true position t + positionOffset.
 * The function returns f64 scores [B, Hkv, T] (higher = keep). `window` keeps the last slots at
 * +Infinity (`'queries'`: as many as queries were given, H2O's default).
 */
import { parseOptionsWith, TensorError } from '@hasten/core-tensor';
import { z } from 'zod';
import { windowAttention } from './attention-weights';
import { readF64, type ScoreInput, type ScorePolicy } from './scorer';

/** What a learned scorer sees for one layer (see the file comment). */
export interface PositionFeatures {
  layer: number;
  batch: number;
  numKvHeads: number;
  /** T: cached slots. */
  length: number;
  headDim: number;
  /** [B, Hkv, T, D] f64. */
  keys: Float64Array;
  /** [B, Hkv, T, D] f64. */
  values: Float64Array;
  /** [B, Hq, W, D] f32, when the caller gave queries. */
  queries?: Float32Array;
  numHeads?: number;
  /** [B, Hkv, T] f64: attention received from the W queries (H2O's sum), when `needsQueries`. */
  attention?: Float64Array;
  positionOffset: number;
}

export type ScoreFunction = (features: PositionFeatures) => Float64Array;

export const LearnedScorerOptions = z.strictObject({
  /** features → scores [B, Hkv, T] (higher = keep). */
  score: z.custom<ScoreFunction>((v) => typeof v === 'function', { message: 'expected a function' }),
  name: z.string().default('learned'),
  /** The scorer reads `attention` / `queries` (compress then requires queries). */
  needsQueries: z.boolean().default(false),
  /** Last slots always kept: a count, or 'queries' (as many as queries were given). */
  window: z.union([z.number().int().nonnegative(), z.literal('queries')]).default(0),
});
export type LearnedScorerOptions = z.input<typeof LearnedScorerOptions>;

/** The per-layer features of the contract, from a policy's input. */
export function positionFeatures(op: string, input: ScoreInput, withAttention: boolean): PositionFeatures {
  const [B, Hkv, T, D] = input.keys.shape;
  let attention: Float64Array | undefined;
  if (withAttention) {
    const { weights, Hq, W } = windowAttention(op, input);
    const group = Hq / Hkv;
    attention = new Float64Array(B * Hkv * T);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < Hq; h++) {
        const r = (b * Hkv + Math.floor(h / group)) * T;
        for (let w = 0; w < W; w++) {
          const base = ((b * Hq + h) * W + w) * T;
          for (let t = 0; t < T; t++) attention[r + t] += weights[base + t] / group;
        }
      }
  }
  return {
    layer: input.layer,
    batch: B,
    numKvHeads: Hkv,
    length: T,
    headDim: D,
    keys: readF64(input.keys),
    values: readF64(input.values),
    queries: input.queries,
    numHeads: input.numHeads,
    attention,
    positionOffset: input.positionOffset ?? 0,
  };
}

export function learnedScorer(opts: LearnedScorerOptions): ScorePolicy {
  const op = 'learnedScorer';
  const o = parseOptionsWith(LearnedScorerOptions, opts, (p) => new TensorError(op, p));
  return {
    name: o.name,
    needsQueries: o.needsQueries,
    score(input: ScoreInput): Float64Array {
      const f = positionFeatures(o.name, input, o.needsQueries);
      const { batch: B, numKvHeads: Hkv, length: T, headDim: D } = f;
      const out = o.score(f);
      if (!(out instanceof Float64Array) || out.length !== B * Hkv * T) {
        throw new TensorError(
          op,
          `${o.name}: the score function must return a Float64Array of ${B * Hkv * T} scores [B, Hkv, T]`,
        );
      }
      const W = input.queries && input.numHeads ? input.queries.length / (B * input.numHeads * D) : 0;
      const window = o.window === 'queries' ? W : o.window;
      for (let r = 0; r < B * Hkv; r++)
        for (let t = Math.max(0, T - window); t < T; t++) out[r * T + t] = Infinity;
      return out;
    },
  };
}

/** Columns of `linearFeatures`: ‖k‖₂, ‖v‖₂, attention received (0 without queries). */
export const LINEAR_FEATURES = ['keyNorm', 'valueNorm', 'attention'] as const;

/** [B·Hkv·T, 3] row-major: per slot, its key norm, value norm and attention received. */
export function linearFeatures(f: PositionFeatures): Float64Array {
  const { batch: B, numKvHeads: Hkv, length: T, headDim: D } = f;
  const n = B * Hkv * T;
  const X = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    let kk = 0;
    let vv = 0;
    for (let e = 0; e < D; e++) {
      kk += f.keys[i * D + e] ** 2;
      vv += f.values[i * D + e] ** 2;
    }
    X[i * 3] = Math.sqrt(kk);
    X[i * 3 + 1] = Math.sqrt(vv);
    X[i * 3 + 2] = f.attention ? f.attention[i] : 0;
  }
  return X;
}

export const LinearHeadOptions = z.strictObject({
  /** Weights of ‖k‖, ‖v‖ and attention received (LINEAR_FEATURES). */
  weights: z.tuple([z.number(), z.number(), z.number()]),
  bias: z.number().default(0),
  window: z.union([z.number().int().nonnegative(), z.literal('queries')]).default(0),
});
export type LinearHeadOptions = z.input<typeof LinearHeadOptions>;

/**
 * A linear retaining head: score = w·[‖k‖, ‖v‖, attention] + bias. Needs queries when the attention
 * weight is non-zero. With weights [0, 0, 1] and window 'queries' it is H2O.
 */
export function linearHead(opts: LinearHeadOptions): ScorePolicy {
  const o = parseOptionsWith(LinearHeadOptions, opts, (p) => new TensorError('linearHead', p));
  const [wk, wv, wa] = o.weights;
  return learnedScorer({
    name: 'linear-head',
    needsQueries: wa !== 0,
    window: o.window,
    score(f) {
      const X = linearFeatures(f);
      const out = new Float64Array(X.length / 3);
      for (let i = 0; i < out.length; i++)
        out[i] = wk * X[i * 3] + wv * X[i * 3 + 1] + wa * X[i * 3 + 2] + o.bias;
      return out;
    },
  });
}

/**
 * Least squares: the weights and bias minimising Σ (w·x_i + bias − y_i)² over rows x_i of X
 * ([n, 3], `linearFeatures`) and targets y (normal equations, solved by Gaussian elimination with
 * partial pivoting, in f64). `ridge` adds λ‖w‖² (not on the bias) for features that are constant.
 */
export function fitLinearHead(
  X: ArrayLike<number>,
  y: ArrayLike<number>,
  ridge = 0,
): { weights: [number, number, number]; bias: number } {
  const n = y.length;
  if (X.length !== n * 3 || n < 4) {
    throw new TensorError(
      'fitLinearHead',
      `X must be [n, 3] with n = y.length >= 4; got ${X.length} and ${n}`,
    );
  }
  const P = 4; // three features and the bias
  const A = Array.from({ length: P }, () => new Float64Array(P + 1));
  const row = new Float64Array(P);
  for (let i = 0; i < n; i++) {
    row[0] = X[i * 3];
    row[1] = X[i * 3 + 1];
    row[2] = X[i * 3 + 2];
    row[3] = 1;
    for (let a = 0; a < P; a++) {
      for (let b = 0; b < P; b++) A[a][b] += row[a] * row[b];
      A[a][P] += row[a] * y[i];
    }
  }
  for (let a = 0; a < 3; a++) A[a][a] += ridge;
  for (let c = 0; c < P; c++) {
    let piv = c;
    for (let r = c + 1; r < P; r++) if (Math.abs(A[r][c]) > Math.abs(A[piv][c])) piv = r;
    [A[c], A[piv]] = [A[piv], A[c]];
    if (Math.abs(A[c][c]) < 1e-300) {
      throw new TensorError(
        'fitLinearHead',
        `the features are linearly dependent (column ${c}); pass a ridge > 0`,
      );
    }
    for (let r = 0; r < P; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      for (let k = c; k <= P; k++) A[r][k] -= f * A[c][k];
    }
  }
  const sol = A.map((r, i) => r[P] / r[i]);
  return { weights: [sol[0], sol[1], sol[2]], bias: sol[3] };
}
