/**
 * @file Activation-aware weight scaling, AWQ (Lin et al., "AWQ: Activation-aware Weight
 * Quantization for LLM Compression and Acceleration", arXiv:2306.00978, §3.2; reference code
 * mit-han-lab/llm-awq awq/quantize/auto_scale.py).
 *
 * For a group of linears W_j sharing an input X [T, K], AWQ scales input channel c by s_c:
 *   Q(W · diag(s)) · (diag(s)⁻¹ X)   ≈   W X,
 * where the 1/s is folded into the operator that produces X, so the model computes the same thing
 * before quantization. The scales come from the mean activation magnitude and one exponent:
 *   s = mean_t |X[t, :]| ^ α,  s ← s / sqrt(max(s) · min(s)),  α ∈ {0, 1/n, ..., (n-1)/n} (n = 20),
 * keeping the α that minimises ‖Q(W·diag(s))·diag(s)⁻¹·X − W·X‖² over the group's outputs on the
 * calibration tokens (α = 0 is plain RTN, so the search never does worse on them).
 *
 * Groups of a Llama layer and where 1/s goes (as auto_scale.py does for LlamaDecoderLayer):
 *   q, k, v    (input: RMSNorm(x)·γ_in)    → γ_in ← γ_in / s
 *   o          (input: attention output)    → rows of v (and v's bias) ← / s, only when v and o
 *                                              have matching shapes (no GQA; llm-awq's condition)
 *   gate, up   (input: RMSNorm(x1)·γ_post)  → γ_post ← γ_post / s
 *   down       (input: silu(gate)·up)       → rows of up (and up's bias) ← / s
 * Differences from llm-awq: the loss is measured on the group's own outputs (llm-awq measures the
 * whole attention / MLP block), and the weight-clipping search (auto_clip) is not done.
 *
 * `awqScale` folds the scales into the model's f32 weights IN PLACE and reports the chosen α; then
 * quantize the model (RTN) with the same format: `model.quantize({ format, groupSize })`.
 */
import {
  clearPackedWeights,
  linear,
  mul,
  quantLinear,
  readF32,
  scope,
  type Tensor,
  tensor,
  writeValues,
} from '@hasten/core-tensor';
import { z } from 'zod';
import { ModelError } from '../errors';
import type { LlamaModel } from '../llama/model';
import { LinearFormat, quantizeWeight } from '../llama/quantize';
import { isQuantized, type LayerWeights, type LinearWeight } from '../llama/weights';
import { inHostMemory, parseOptions } from '../options';
import { captureLinearInputs } from './capture-linear-inputs';

export const AwqOptions = z.strictObject({
  /** Calibration token ids (one sequence; a few hundred tokens of the training corpus). */
  tokens: z.array(z.number().int().nonnegative()).min(1),
  /** The low-bit format the model will be quantized to (the search quantizes with it). */
  quantize: LinearFormat,
  /** Grid points for α in [0, 1): α = i / gridPoints, i = 0 .. gridPoints-1 (default 20, the paper's). */
  gridPoints: z.number().int().min(1).max(100).default(20),
});
export type AwqOptions = z.input<typeof AwqOptions>;

export interface AwqGroupReport {
  layer: number;
  group: 'qkv' | 'o' | 'gate_up' | 'down';
  alpha: number;
  /** Mean squared output error with the chosen scales, and with none (RTN, α = 0). */
  loss: number;
  rtnLoss: number;
}

/** Mean |x| per input channel of X [T, K]. */
export function meanAbs(x: Float32Array, T: number, K: number): Float64Array {
  const m = new Float64Array(K);
  for (let t = 0; t < T; t++) for (let c = 0; c < K; c++) m[c] += Math.abs(x[t * K + c]);
  for (let c = 0; c < K; c++) m[c] /= T;
  return m;
}

/** AWQ's scales for one α: (mean|x|)^α clamped at 1e-4, normalised by sqrt(max · min). */
export function awqScales(act: Float64Array, alpha: number): Float64Array {
  const s = act.map((a) => Math.max(a ** alpha, 1e-4));
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const v of s) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const norm = Math.sqrt(hi * lo);
  return s.map((v) => v / norm);
}

/** Σ over the group of ‖Q(W·diag(s))·(X/s) − W·X‖², averaged over the outputs. */
function groupLoss(
  x: Tensor,
  ws: { values: Float32Array; shape: [number, number]; ref: Float32Array }[],
  s: Float64Array,
  fmt: z.output<typeof LinearFormat>,
): number {
  const K = s.length;
  const inv = tensor(
    Float32Array.from(s, (v) => 1 / v),
    [K],
  );
  let sum = 0;
  let count = 0;
  try {
    const xs = mul(x, inv);
    for (const w of ws) {
      const [n] = w.shape;
      const scaled = new Float32Array(w.values.length);
      for (let r = 0; r < n; r++) for (let c = 0; c < K; c++) scaled[r * K + c] = w.values[r * K + c] * s[c];
      const q = quantizeWeight({ values: scaled, shape: w.shape }, fmt);
      const y = scope(() => readF32(quantLinear(xs, q)).slice());
      for (let i = 0; i < y.length; i++) {
        const d = y[i] - w.ref[i];
        sum += d * d;
      }
      count += y.length;
    }
    xs.dispose();
  } finally {
    inv.dispose();
  }
  return sum / count;
}

function f32Of(w: LinearWeight, what: string): Tensor {
  if (isQuantized(w))
    throw new ModelError(
      'input',
      `awqScale: ${what} is already quantized (${w.format}); scale the f32 model`,
    );
  return w;
}

/** Search α for one group; returns the best scales and the report figures. */
function searchGroup(
  xValues: Float32Array,
  T: number,
  weights: Tensor[],
  fmt: z.output<typeof LinearFormat>,
  grid: number,
): { s: Float64Array; alpha: number; loss: number; rtnLoss: number } {
  const K = weights[0].shape[1];
  const x = tensor(xValues, [T, K]);
  try {
    const ws = weights.map((w) => ({
      values: Float32Array.from(readF32(w)),
      shape: [w.shape[0], K] as [number, number],
      ref: scope(() => readF32(linear(x, w)).slice()),
    }));
    const act = meanAbs(xValues, T, K);
    let best = { s: awqScales(act, 0), alpha: 0, loss: Number.POSITIVE_INFINITY, rtnLoss: 0 };
    for (let i = 0; i < grid; i++) {
      const alpha = i / grid;
      const s = awqScales(act, alpha);
      const loss = groupLoss(x, ws, s, fmt);
      if (i === 0) best.rtnLoss = loss;
      if (loss < best.loss) best = { ...best, s, alpha, loss };
    }
    return best;
  } finally {
    x.dispose();
  }
}

/** W ← W · diag(s) (columns), in place. */
function scaleColumns(w: Tensor, s: Float64Array): void {
  const v = Float32Array.from(readF32(w));
  const K = s.length;
  for (let i = 0; i < v.length; i++) v[i] *= s[i % K];
  writeValues(w, v);
}

/** W ← diag(1/s) · W (rows), in place; also a vector (norm weight or bias) ← / s. */
function divideRows(w: Tensor, s: Float64Array): void {
  const v = Float32Array.from(readF32(w));
  const per = v.length / s.length;
  for (let i = 0; i < v.length; i++) v[i] /= s[Math.floor(i / per)];
  writeValues(w, v);
}

/**
 * Calibrate AWQ scales on `tokens`, fold them into `model`'s f32 weights in place (the model
 * computes the same function, to f32 rounding), and report α per group. Quantize afterwards.
 */
export async function awqScale(model: LlamaModel, opts: AwqOptions): Promise<AwqGroupReport[]> {
  const o = parseOptions(AwqOptions, opts, 'awqScale');
  if (!inHostMemory(model.heldWeights.embed))
    throw new ModelError(
      'input',
      `awqScale: weights must be on a CPU backend, the model is on '${model.device}'`,
    );
  const c = model.config;
  const w = model.heldWeights;
  w.layers.forEach((l, i) => {
    for (const k of ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const) f32Of(l[k], `layer ${i} ${k}`);
  });
  // Folding is exact, so activations of the unscaled model are those of the scaled one.
  const { layers: inputs } = await captureLinearInputs(model, o.tokens);
  const T = o.tokens.length;
  const report: AwqGroupReport[] = [];
  const groups: {
    group: AwqGroupReport['group'];
    input: keyof (typeof inputs)[number];
    linears: (keyof LayerWeights)[];
    fold: (l: LayerWeights) => Tensor[];
  }[] = [
    { group: 'qkv', input: 'attn', linears: ['q', 'k', 'v'], fold: (l) => [l.inputNorm] },
    { group: 'gate_up', input: 'mlp', linears: ['gate', 'up'], fold: (l) => [l.postNorm] },
    {
      group: 'down',
      input: 'down',
      linears: ['down'],
      fold: (l) => [l.up as Tensor, ...(l.upBias ? [l.upBias] : [])],
    },
  ];
  if (c.numHeads === c.numKvHeads)
    groups.splice(1, 0, {
      group: 'o',
      input: 'o',
      linears: ['o'],
      fold: (l) => [l.v as Tensor, ...(l.vBias ? [l.vBias] : [])],
    });
  for (let i = 0; i < w.layers.length; i++) {
    const l = w.layers[i];
    for (const g of groups) {
      const ws = g.linears.map((k) => l[k] as Tensor);
      const best = searchGroup(inputs[i][g.input], T, ws, o.quantize, o.gridPoints);
      for (const t of ws) scaleColumns(t, best.s);
      for (const t of g.fold(l)) divideRows(t, best.s);
      report.push({ layer: i, group: g.group, alpha: best.alpha, loss: best.loss, rtnLoss: best.rtnLoss });
    }
  }
  // The 'cpu' matmul caches packed copies of weights it has used; these were written in place.
  clearPackedWeights();
  return report;
}
