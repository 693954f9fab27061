/**
 * @file A tiny causal LM for the eviction tests (not exported; kv cannot import @hasten/models):
 * random embeddings plus a sinusoid of the true position (cache.length + positionOffset + s),
 * `numLayers` attention-only residual layers with grouped-query attention through the cache
 * (append, then core-tensor's sdpa over `keys()` / `values()`, causal), and a linear head. It honours
 * `logitsToKeep` and `outputQueries` like the native models. Projections are plain f64 loops, so a
 * position's result does not depend on how the prompt is split into forwards.
 */
import { readF64, sdpa, type Tensor, tensor } from '@hasten/core-tensor';
import type { KVCache } from '../kv-cache';
import { uniforms } from '../testing';
import type { PrefillModel } from './chunked-prefill';

export interface ToyLMOptions {
  seed: number;
  vocab?: number;
  hidden?: number;
  numLayers?: number;
  numHeads?: number;
  numKvHeads?: number;
  headDim?: number;
}

export interface ToyLM extends PrefillModel {
  readonly config: {
    numHeads: number;
    numKvHeads: number;
    headDim: number;
    numLayers: number;
    vocab: number;
  };
}

export function toyLM(opts: ToyLMOptions): ToyLM {
  const { seed, vocab = 13, hidden = 16, numLayers = 2, numHeads = 4, numKvHeads = 2, headDim = 8 } = opts;
  const rand = uniforms(seed);
  const mat = (r: number, c: number, s: number) => Float64Array.from({ length: r * c }, () => rand() * s);
  const embed = mat(vocab, hidden, 1);
  const layers = Array.from({ length: numLayers }, () => ({
    q: mat(hidden, numHeads * headDim, 0.8),
    k: mat(hidden, numKvHeads * headDim, 0.8),
    v: mat(hidden, numKvHeads * headDim, 0.5),
    o: mat(numHeads * headDim, hidden, 0.3),
  }));
  const head = mat(hidden, vocab, 1);
  /** x [n, a] @ w [a, b] → [n, b]. */
  const mm = (x: Float64Array, n: number, a: number, w: Float64Array, b: number) => {
    const out = new Float64Array(n * b);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < a; j++) {
        const xv = x[i * a + j];
        for (let k = 0; k < b; k++) out[i * b + k] += xv * w[j * b + k];
      }
    return out;
  };
  /** [B·S, H·D] → [B, H, S, D] f32. */
  const heads = (x: Float64Array, B: number, S: number, H: number) => {
    const out = new Float32Array(B * H * S * headDim);
    for (let b = 0; b < B; b++)
      for (let s = 0; s < S; s++)
        for (let h = 0; h < H; h++)
          for (let d = 0; d < headDim; d++)
            out[((b * H + h) * S + s) * headDim + d] = x[(b * S + s) * H * headDim + h * headDim + d];
    return out;
  };
  return {
    config: { numHeads, numKvHeads, headDim, numLayers, vocab },
    async forward({ tokens, cache, logitsToKeep, outputQueries }) {
      const [B, S] = tokens.shape;
      const ids = readF64(tokens);
      const x = new Float64Array(B * S * hidden);
      for (let b = 0; b < B; b++)
        for (let s = 0; s < S; s++) {
          const pos = cache.length + cache.positionOffset + s;
          for (let e = 0; e < hidden; e++)
            x[(b * S + s) * hidden + e] = embed[ids[b * S + s] * hidden + e] + 0.5 * Math.sin(pos / (1 + e));
        }
      const queries: Float32Array[] = [];
      try {
        layers.forEach((w, l) => {
          const q = heads(mm(x, B * S, hidden, w.q, numHeads * headDim), B, S, numHeads);
          const k = tensor(heads(mm(x, B * S, hidden, w.k, numKvHeads * headDim), B, S, numKvHeads), [
            B,
            numKvHeads,
            S,
            headDim,
          ]);
          const v = tensor(heads(mm(x, B * S, hidden, w.v, numKvHeads * headDim), B, S, numKvHeads), [
            B,
            numKvHeads,
            S,
            headDim,
          ]);
          cache.append(l, k, v);
          k.dispose();
          v.dispose();
          if (outputQueries) {
            const W = outputQueries;
            const qw = new Float32Array(B * numHeads * W * headDim);
            for (let bh = 0; bh < B * numHeads; bh++)
              qw.set(q.subarray((bh * S + S - W) * headDim, (bh + 1) * S * headDim), bh * W * headDim);
            queries.push(qw);
          }
          const qT = tensor(q, [B, numHeads, S, headDim]);
          const a = attend(cache, l, qT);
          qT.dispose();
          const A = readF64(a);
          a.dispose();
          const merged = new Float64Array(B * S * numHeads * headDim);
          for (let b = 0; b < B; b++)
            for (let h = 0; h < numHeads; h++)
              for (let s = 0; s < S; s++)
                for (let d = 0; d < headDim; d++)
                  merged[(b * S + s) * numHeads * headDim + h * headDim + d] =
                    A[((b * numHeads + h) * S + s) * headDim + d];
          const delta = mm(merged, B * S, numHeads * headDim, w.o, hidden);
          for (let i = 0; i < x.length; i++) x[i] += delta[i];
        });
        cache.commit();
      } catch (e) {
        cache.rollback();
        throw e;
      }
      const keep = Math.min(S, logitsToKeep ?? S);
      const rows = new Float64Array(B * keep * hidden);
      for (let b = 0; b < B; b++)
        rows.set(x.subarray((b * S + S - keep) * hidden, (b * S + S) * hidden), b * keep * hidden);
      const logits = tensor(Float32Array.from(mm(rows, B * keep, hidden, head, vocab)), [B, keep, vocab]);
      return outputQueries ? { logits, queries } : { logits };
    },
  };
}

/** Causal attention of q over the cache's layer (the cache's own `attend` when it has one). */
function attend(cache: KVCache, l: number, q: Tensor): Tensor {
  if (cache.attend) return cache.attend(l, q, { causal: true });
  const keys = cache.keys(l);
  const values = cache.values(l);
  const a = sdpa(q, keys, values, { causal: true });
  keys.dispose();
  values.dispose();
  return a;
}
