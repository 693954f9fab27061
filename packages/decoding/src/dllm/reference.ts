/**
 * @file A deliberately plain loop of LLaDA's sampler (ML-GSAI/LLaDA generate.py `generate`, arXiv
 * 2502.09992), for tests only (not exported): no cache, a full forward of the whole sequence every
 * step, predictions for every position, confidences -Infinity outside the current block and at
 * committed positions, and the top-k picked by repeated linear scans. It shares no code with
 * generate-diffusion.ts / llada.ts, only the documented order of random draws: per step, for each
 * masked position of the current block in increasing order, V Gumbel draws (temperature > 0), then
 * one uniform ('random' remasking). The mask token is never predicted.
 */
import { type Philox, tensor } from '@hasten/core-tensor';
import type { MaskedDiffusionLM } from '@hasten/models';

export interface ReferenceOptions {
  genLength: number;
  blockLength: number;
  steps: number;
  temperature: number;
  remasking: 'low-confidence' | 'random';
}

export interface ReferenceStep {
  /** Committed positions (relative to the generation start) in commit order, and their tokens. */
  positions: number[];
  tokens: number[];
}

export async function lladaReference(
  model: MaskedDiffusionLM,
  prompt: number[],
  o: ReferenceOptions,
  gen: Philox,
): Promise<{ canvas: number[]; trace: ReferenceStep[] }> {
  const MASK = model.maskTokenId;
  const V = model.config.vocabSize;
  const x = [...prompt, ...new Array(o.genLength).fill(MASK)];
  const L = x.length;
  const numBlocks = o.genLength / o.blockLength;
  const stepsPerBlock = o.steps / numBlocks;
  const trace: ReferenceStep[] = [];
  for (let blk = 0; blk < numBlocks; blk++) {
    const start = prompt.length + blk * o.blockLength;
    const end = start + o.blockLength;
    let maskCount = 0;
    for (let i = start; i < end; i++) if (x[i] === MASK) maskCount++;
    const transfer: number[] = [];
    for (let s = 0; s < stepsPerBlock; s++) transfer.push(Math.floor(maskCount / stepsPerBlock));
    for (let s = 0; s < maskCount % stepsPerBlock; s++) transfer[s] += 1;
    for (let s = 0; s < stepsPerBlock; s++) {
      if (transfer[s] === 0) continue;
      const ids = tensor(Int32Array.from(x), [1, L], { dtype: 'i32' });
      const out = await model.forward({ tokens: ids });
      const logits = (await out.logits.data()) as Float32Array;
      ids.dispose();
      out.logits.dispose();
      const x0 = new Array(L).fill(-1);
      const conf = new Array(L).fill(Number.NEGATIVE_INFINITY);
      for (let pos = 0; pos < L; pos++) {
        const row = Array.from(logits.subarray(pos * V, (pos + 1) * V));
        const inBlockMasked = pos >= start && pos < end && x[pos] === MASK;
        let noisy = row;
        if (inBlockMasked && o.temperature > 0) {
          const g = gen.gumbel(V);
          noisy = row.map((l, v) => l + o.temperature * g[v]);
        }
        let best = -1;
        for (let v = 0; v < V; v++) if (v !== MASK && (best < 0 || noisy[v] > noisy[best])) best = v;
        x0[pos] = best;
        if (!inBlockMasked) continue;
        if (o.remasking === 'random') {
          conf[pos] = gen.uniform(1)[0];
        } else {
          const m = Math.max(...row);
          const z = row.reduce((a, l) => a + Math.exp(l - m), 0);
          conf[pos] = Math.exp(row[best] - m) / z;
        }
      }
      const step: ReferenceStep = { positions: [], tokens: [] };
      for (let k = 0; k < transfer[s]; k++) {
        let pick = -1;
        for (let pos = 0; pos < L; pos++) {
          if (conf[pos] === Number.NEGATIVE_INFINITY) continue;
          if (pick < 0 || conf[pos] > conf[pick]) pick = pos;
        }
        if (pick < 0) break;
        x[pick] = x0[pick];
        conf[pick] = Number.NEGATIVE_INFINITY;
        step.positions.push(pick - prompt.length);
        step.tokens.push(x0[pick]);
      }
      trace.push(step);
    }
  }
  return { canvas: x.slice(prompt.length), trace };
}
