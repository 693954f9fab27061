/**
 * @file Key-norm eviction (Devoto et al., "A Simple and Effective L2 Norm-Based Strategy for KV Cache
 * Compression", arXiv:2406.11430): keys with a LOW L2 norm draw high attention, so the score is
 * -||k||_2 (kvpress's KnormPress). Needs neither queries nor attention weights.
 */
import { readF64, type ScoreInput, type ScorePolicy } from './scorer';

export function keyNorm(): ScorePolicy {
  return {
    name: 'key-norm',
    score({ keys }: ScoreInput): Float64Array {
      const [B, H, T, D] = keys.shape;
      const k = readF64(keys);
      const out = new Float64Array(B * H * T);
      for (let i = 0; i < out.length; i++) {
        let s = 0;
        for (let e = 0; e < D; e++) s += k[i * D + e] * k[i * D + e];
        out[i] = -Math.sqrt(s);
      }
      return out;
    },
  };
}
