/**
 * @file Training Learn2PD's commit filter (arXiv 2509.25188; learn2pd.ts): decoding traces and a
 * small float64 trainer.
 *
 * - learn2pdTrace(): the reference decoding the filter imitates, LLaDA greedy low-confidence at one
 *   token per step (arXiv 2502.09992; no cache, no early stop), written as a plain loop. At every
 *   step it records each masked position of the current block: its LEARN2PD_FEATURES and the label
 *   "its current prediction equals the token finally committed there" (the paper's oracle).
 * - trainLearn2pdFilter(): logistic regression or a one-hidden-layer tanh MLP, features standardised,
 *   binary cross-entropy with an L2 penalty, full-batch Adam (Kingma & Ba, arXiv 1412.6980; beta
 *   0.9 / 0.999), weights initialised from a seeded Philox stream: the same data and seed give the
 *   same weights.
 * - chooseLearn2pdThreshold(): the smallest tau on a grid whose commits, on held-out traces, are
 *   final with at least the asked precision.
 */
import { rng, tensor } from '@hasten/core-tensor';
import type { MaskedDiffusionLM } from '@hasten/models';
import { DecodingError } from '../errors';
import {
  LEARN2PD_FEATURES,
  LEARN2PD_FORMAT,
  type Learn2pdFilter,
  learn2pdFeatures,
  learn2pdScore,
  sigmoid,
} from './learn2pd';
import { predict } from './llada';

export interface Learn2pdTrace {
  /** One row of LEARN2PD_FEATURES per (step, masked position). */
  features: Float64Array[];
  /** 1 when that prediction equals the final token. */
  labels: number[];
  /** The generated region at the end. */
  tokens: number[];
  forwards: number;
}

/** LLaDA greedy, low-confidence, one token per step; records the filter's training rows. */
export async function learn2pdTrace(
  model: MaskedDiffusionLM,
  prompt: readonly number[],
  o: { genLength: number; blockLength: number; eos?: number },
): Promise<Learn2pdTrace> {
  if (o.genLength % o.blockLength !== 0) {
    throw new DecodingError('options', 'learn2pdTrace: blockLength must divide genLength');
  }
  const mask = model.maskTokenId;
  const V = model.config.vocabSize;
  const P0 = prompt.length;
  const L = P0 + o.genLength;
  const x = new Int32Array(L).fill(mask);
  x.set(prompt);
  const rows: { features: Float64Array; position: number; token: number }[] = [];
  let forwards = 0;
  for (let lo = P0; lo < L; lo += o.blockLength) {
    const hi = lo + o.blockLength;
    for (let s = 0; s < o.blockLength; s++) {
      const ids = tensor(Int32Array.from(x), [1, L], { dtype: 'i32' });
      const out = await model.forward({ tokens: ids });
      ids.dispose();
      const logits = (await out.logits.data()) as Float32Array;
      out.logits.dispose();
      forwards++;
      let best = -1;
      let bestConf = -1;
      let bestTok = -1;
      for (let p = lo; p < hi; p++) {
        if (x[p] !== mask) continue;
        const row = logits.subarray(p * V, (p + 1) * V);
        const pr = predict(row, 0, 'low-confidence', mask, null, 'learn2pdTrace');
        const features = learn2pdFeatures(row, pr.token, { x, position: p, lo, hi, mask, eos: o.eos });
        rows.push({ features, position: p, token: pr.token });
        if (pr.confidence > bestConf) {
          bestConf = pr.confidence;
          best = p;
          bestTok = pr.token;
        }
      }
      x[best] = bestTok;
    }
  }
  return {
    features: rows.map((r) => r.features),
    labels: rows.map((r) => (r.token === x[r.position] ? 1 : 0)),
    tokens: Array.from(x.subarray(P0)),
    forwards,
  };
}

export interface TrainOptions {
  /** Hidden units (0: logistic regression; default 16). */
  hidden?: number;
  /** Full-batch Adam steps (default 400). */
  epochs?: number;
  /** Adam step size (default 0.05). */
  learningRate?: number;
  /** L2 penalty on the weights, not the biases (default 1e-4). */
  l2?: number;
  seed?: number;
  /** Stored as the filter's threshold (default 0.9). */
  threshold?: number;
}

/** Fits the filter on rows of LEARN2PD_FEATURES and 0/1 labels. */
export function trainLearn2pdFilter(
  X: readonly ArrayLike<number>[],
  y: readonly number[],
  opts: TrainOptions = {},
): Learn2pdFilter {
  const F = LEARN2PD_FEATURES.length;
  const N = X.length;
  if (N === 0 || y.length !== N) {
    throw new DecodingError(
      'input',
      `trainLearn2pdFilter: need as many labels as rows (> 0), got ${N} / ${y.length}`,
    );
  }
  const H = opts.hidden ?? 16;
  const epochs = opts.epochs ?? 400;
  const lr = opts.learningRate ?? 0.05;
  const l2 = opts.l2 ?? 1e-4;
  const mean = new Array<number>(F).fill(0);
  const std = new Array<number>(F).fill(0);
  for (const r of X) for (let i = 0; i < F; i++) mean[i] += r[i] / N;
  for (const r of X) for (let i = 0; i < F; i++) std[i] += (r[i] - mean[i]) ** 2 / N;
  for (let i = 0; i < F; i++) std[i] = Math.sqrt(std[i]) || 1;
  const Z = X.map((r) => Float64Array.from({ length: F }, (_, i) => (r[i] - mean[i]) / std[i]));
  // Parameters in one vector: [w1 (H*F), b1 (H), w2 (H or F), b2].
  const nOut = H > 0 ? H : F;
  const nW1 = H * F;
  const size = nW1 + H + nOut + 1;
  const theta = new Float64Array(size);
  const init = rng(opts.seed ?? 0).normal(size);
  const s1 = 1 / Math.sqrt(F);
  const s2 = H > 0 ? 1 / Math.sqrt(H) : 0;
  for (let k = 0; k < nW1; k++) theta[k] = init[k] * s1;
  for (let k = 0; k < nOut; k++) theta[nW1 + H + k] = init[nW1 + H + k] * s2;
  const m = new Float64Array(size);
  const v = new Float64Array(size);
  const grad = new Float64Array(size);
  const a = new Float64Array(H);
  for (let t = 1; t <= epochs; t++) {
    grad.fill(0);
    for (let n = 0; n < N; n++) {
      const x = Z[n];
      let z = theta[size - 1];
      if (H > 0) {
        for (let j = 0; j < H; j++) {
          let s = theta[nW1 + j];
          for (let i = 0; i < F; i++) s += theta[j * F + i] * x[i];
          a[j] = Math.tanh(s);
          z += theta[nW1 + H + j] * a[j];
        }
      } else {
        for (let i = 0; i < F; i++) z += theta[nW1 + H + i] * x[i];
      }
      const d = (sigmoid(z) - y[n]) / N; // dBCE/dz, averaged
      grad[size - 1] += d;
      if (H > 0) {
        for (let j = 0; j < H; j++) {
          grad[nW1 + H + j] += d * a[j];
          const dj = d * theta[nW1 + H + j] * (1 - a[j] * a[j]);
          grad[nW1 + j] += dj;
          for (let i = 0; i < F; i++) grad[j * F + i] += dj * x[i];
        }
      } else {
        for (let i = 0; i < F; i++) grad[nW1 + H + i] += d * x[i];
      }
    }
    for (let k = 0; k < nW1; k++) grad[k] += l2 * theta[k];
    for (let k = 0; k < nOut; k++) grad[nW1 + H + k] += l2 * theta[nW1 + H + k];
    const c1 = 1 - 0.9 ** t;
    const c2 = 1 - 0.999 ** t;
    for (let k = 0; k < size; k++) {
      m[k] = 0.9 * m[k] + 0.1 * grad[k];
      v[k] = 0.999 * v[k] + 0.001 * grad[k] * grad[k];
      theta[k] -= (lr * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + 1e-8);
    }
  }
  return {
    format: LEARN2PD_FORMAT,
    features: [...LEARN2PD_FEATURES],
    hidden: H,
    mean,
    std,
    w1: Array.from(theta.subarray(0, nW1)),
    b1: Array.from(theta.subarray(nW1, nW1 + H)),
    w2: Array.from(theta.subarray(nW1 + H, nW1 + H + nOut)),
    b2: theta[size - 1],
    threshold: opts.threshold ?? 0.9,
  };
}

/** Binary cross-entropy (mean) and accuracy at 0.5 of a filter on rows. */
export function evaluateLearn2pdFilter(
  f: Learn2pdFilter,
  X: readonly ArrayLike<number>[],
  y: readonly number[],
): { loss: number; accuracy: number } {
  let loss = 0;
  let right = 0;
  for (let n = 0; n < X.length; n++) {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, learn2pdScore(f, X[n])));
    loss -= y[n] ? Math.log(p) : Math.log(1 - p);
    if (p >= 0.5 === (y[n] === 1)) right++;
  }
  return { loss: loss / X.length, accuracy: right / X.length };
}

/**
 * The smallest tau of `grid` at which the rows scored >= tau are final (label 1) with precision >=
 * `precision`, with how many rows it passes; the grid's last value when none reaches it.
 */
export function chooseLearn2pdThreshold(
  f: Learn2pdFilter,
  X: readonly ArrayLike<number>[],
  y: readonly number[],
  precision: number,
  grid: readonly number[] = Array.from({ length: 50 }, (_, i) => 0.5 + i * 0.01),
): { threshold: number; precision: number; passed: number } {
  const scores = X.map((r) => learn2pdScore(f, r));
  for (const tau of grid) {
    let pass = 0;
    let good = 0;
    for (let n = 0; n < scores.length; n++) {
      if (scores[n] >= tau) {
        pass++;
        good += y[n];
      }
    }
    if (pass > 0 && good / pass >= precision) return { threshold: tau, precision: good / pass, passed: pass };
  }
  return { threshold: grid[grid.length - 1], precision: Number.NaN, passed: 0 };
}
