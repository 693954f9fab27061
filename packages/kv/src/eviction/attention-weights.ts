/**
 * @file Attention weights softmax(q·k/√D) of a window of recent queries over the cached positions,
 * in f64: what the attention-based eviction policies (H2O, SnapKV, TOVA) score with. Query w of W
 * sits at position T - W + w and attends positions <= its own (causal); masked weights are 0.
 * Grouped-query attention: query head h reads kv head h / (Hq / Hkv).
 */
import { TensorError } from '@hasten/core-tensor';
import { readF64, type ScoreInput } from './scorer';

export interface WindowAttention {
  /** Weights [B, Hq, W, T], row-major. */
  weights: Float64Array;
  B: number;
  Hq: number;
  Hkv: number;
  W: number;
  T: number;
}

export function windowAttention(op: string, input: ScoreInput): WindowAttention {
  const [B, Hkv, T, D] = input.keys.shape;
  const { queries, numHeads: Hq } = input;
  if (!queries || Hq === undefined) {
    throw new TensorError(op, 'needs queries [B, Hq, W, D] of the last W positions and numHeads (Hq)');
  }
  if (Hq % Hkv !== 0) {
    throw new TensorError(op, `numHeads ${Hq} is not a multiple of the ${Hkv} kv heads`);
  }
  const W = queries.length / (B * Hq * D);
  if (!Number.isInteger(W) || W < 1 || W > T) {
    throw new TensorError(
      op,
      `queries hold ${queries.length} values; expected [${B}, ${Hq}, W, ${D}] with W in [1, ${T}] (the cached positions)`,
    );
  }
  const k = readF64(input.keys);
  const group = Hq / Hkv;
  const scale = 1 / Math.sqrt(D);
  const weights = new Float64Array(B * Hq * W * T);
  const logits = new Float64Array(T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const kBase = (b * Hkv + Math.floor(h / group)) * T * D;
      for (let w = 0; w < W; w++) {
        const qBase = ((b * Hq + h) * W + w) * D;
        const last = T - W + w; // causal: attends positions 0..last
        let max = -Infinity;
        for (let t = 0; t <= last; t++) {
          let dot = 0;
          for (let e = 0; e < D; e++) dot += queries[qBase + e] * k[kBase + t * D + e];
          logits[t] = dot * scale;
          if (logits[t] > max) max = logits[t];
        }
        let z = 0;
        for (let t = 0; t <= last; t++) z += Math.exp(logits[t] - max);
        const out = ((b * Hq + h) * W + w) * T;
        for (let t = 0; t <= last; t++) weights[out + t] = Math.exp(logits[t] - max) / z;
      }
    }
  return { weights, B, Hq, Hkv, W, T };
}
