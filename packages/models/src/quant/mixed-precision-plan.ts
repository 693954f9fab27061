/**
 * @file A mixed-precision plan: which linear layers stay in a high-bit format and which go to a
 * low-bit one, under an average bits-per-weight budget (the sensitivity-ordered allocation of
 * HAWQ, Dong et al. arXiv:1905.03696, with the loss-increase sensitivity of "one layer quantized
 * at a time" instead of Hessian traces).
 *
 * Sensitivity of linear i: Δ_i = NLL(model with only linear i in the low format) − NLL(f32 model),
 * next-token NLL on the calibration tokens. Start with every linear in the high format and move
 * linears to the low format in increasing order of Δ_i / (bytes_high,i − bytes_low,i) (loss per
 * byte saved) while the average bits per weight over the linears exceeds the target:
 *   bits = 8 · Σ_i bytes_i / Σ_i N_i K_i ≤ targetBits.
 * Apply it with `model.quantize({ plan })`.
 */
import { z } from 'zod';
import { ModelError } from '../errors';
import { LlamaModel } from '../llama/model';
import { LinearFormat, quantizeWeight, weightBytes } from '../llama/quantize';
import { isQuantized, type LayerWeights, type LinearWeight } from '../llama/weights';
import { parseOptions } from '../options';
import { nextTokenNll } from './next-token-nll';

export const MixedPrecisionOptions = z.strictObject({
  /** Calibration token ids (one sequence). */
  tokens: z.array(z.number().int().nonnegative()).min(2),
  /** The low-bit format (most layers) and the high-bit one (the most sensitive layers). */
  low: LinearFormat,
  high: LinearFormat,
  /** Target average bits per weight over the planned linears. */
  targetBits: z.number().positive(),
  /** Plan the LM head too (default true). */
  lmHead: z.boolean().default(true),
});
export type MixedPrecisionOptions = z.input<typeof MixedPrecisionOptions>;

export interface PlanItem {
  key: string;
  /** Weights (N · K) and bytes in each format. */
  weights: number;
  bytesLow: number;
  bytesHigh: number;
  /** Loss increase when only this linear is in the low format. */
  sensitivity: number;
}

/**
 * The greedy allocation: which keys go low so that 8 · bytes / weights ≤ targetBits. Throws when
 * even all-low misses the target. Ties in loss per byte keep the input order.
 */
export function allocateBits(
  items: readonly PlanItem[],
  targetBits: number,
): { low: Set<string>; bits: number } {
  const weights = items.reduce((s, x) => s + x.weights, 0);
  let bytes = items.reduce((s, x) => s + x.bytesHigh, 0);
  const budget = (targetBits * weights) / 8;
  const lowest = items.reduce((s, x) => s + x.bytesLow, 0);
  if (lowest > budget)
    throw new ModelError(
      'options',
      `mixedPrecisionPlan: targetBits ${targetBits} is below what the low format alone takes (${((8 * lowest) / weights).toFixed(3)} bits per weight)`,
    );
  const order = items
    .map((x, i) => ({ x, i, cost: x.sensitivity / Math.max(x.bytesHigh - x.bytesLow, 1e-12) }))
    .sort((a, b) => a.cost - b.cost || a.i - b.i);
  const low = new Set<string>();
  for (const { x } of order) {
    if (bytes <= budget) break;
    low.add(x.key);
    bytes -= x.bytesHigh - x.bytesLow;
  }
  return { low, bits: (8 * bytes) / weights };
}

const LINEARS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;

/** Measures each linear's sensitivity on `tokens` and returns the plan for `quantize({ plan })`. */
export async function mixedPrecisionPlan(
  model: LlamaModel,
  opts: MixedPrecisionOptions,
): Promise<{ plan: Record<string, LinearFormat>; items: PlanItem[]; bits: number; baseline: number }> {
  const o = parseOptions(MixedPrecisionOptions, opts, 'mixedPrecisionPlan');
  const w = model.heldWeights;
  const keys: string[] = [];
  const linearOf = (key: string): LinearWeight =>
    key === 'lmHead'
      ? w.lmHead
      : (w.layers[Number(key.split('.')[1])][key.split('.')[2] as keyof LayerWeights] as LinearWeight);
  w.layers.forEach((_, i) => {
    for (const k of LINEARS) keys.push(`layers.${i}.${k}`);
  });
  if (o.lmHead) keys.push('lmHead');
  for (const key of keys) {
    const x = linearOf(key);
    if (isQuantized(x))
      throw new ModelError('input', `mixedPrecisionPlan: ${key} is already quantized (${x.format})`);
  }
  const baseline = await nextTokenNll(model, o.tokens);
  const items: PlanItem[] = [];
  for (const key of keys) {
    const x = linearOf(key);
    if (isQuantized(x)) continue;
    const low = quantizeWeight(x, o.low);
    const high = quantizeWeight(x, o.high);
    // A view of the model with this one linear in the low format (tensors shared: never disposed).
    const layers = w.layers.map((l, i) =>
      key === `layers.${i}.${key.split('.')[2]}` ? { ...l, [key.split('.')[2]]: low } : l,
    );
    const probe = new LlamaModel(
      model.config,
      { ...w, layers, lmHead: key === 'lmHead' ? low : w.lmHead },
      model.device,
    );
    const nll = await nextTokenNll(probe, o.tokens);
    items.push({
      key,
      weights: x.shape[0] * x.shape[1],
      bytesLow: weightBytes(low),
      bytesHigh: weightBytes(high),
      sensitivity: nll - baseline,
    });
  }
  const { low, bits } = allocateBits(items, o.targetBits);
  const plan: Record<string, LinearFormat> = {};
  for (const it of items) plan[it.key] = low.has(it.key) ? o.low : o.high;
  return { plan, items, bits, baseline };
}
