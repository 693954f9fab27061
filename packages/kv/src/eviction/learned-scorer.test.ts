import { tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { ContiguousKVCache } from '../contiguous';
import { randomKV, step, uniforms } from '../testing';
import { h2o } from './h2o';
import { fitLinearHead, learnedScorer, linearFeatures, linearHead, positionFeatures } from './learned-scorer';
import { compress, topPositions } from './scorer';

const B = 2;
const NOISE = 1;
const KV = 2;
const Hq = 4;
const T = 40;
const D = 8;

/** Keys with varied norms (position t scaled by a random factor), values plain, queries sharing a mean direction. */
function example(seed: number, W: number) {
  const r = uniforms(seed);
  const norms = Array.from({ length: T }, () => 0.3 + 1.5 * Math.abs(r()));
  const k = randomKV(r, [B, KV, T, D]);
  const keys = tensor(k.vals.map((b) => b.map((h) => h.map((row, t) => row.map((x) => x * norms[t])))));
  const values = randomKV(r, [B, KV, T, D]).t;
  const mean = Array.from({ length: D }, () => 2 * r());
  const queries = Float32Array.from({ length: B * Hq * W * D }, (_, i) => mean[i % D] + NOISE * r());
  k.t.dispose();
  return { keys, values, queries };
}

describe('learned scorer slot (Locret retaining heads)', () => {
  it('a linear head with H2O weights gives H2O scores and H2O choices', () => {
    for (const seed of [1, 2, 3]) {
      const { keys, values, queries } = example(seed, 6);
      const input = { layer: 0, keys, values, queries, numHeads: Hq };
      const learned = linearHead({ weights: [0, 0, 1], window: 'queries' }).score(input);
      const want = h2o().score(input);
      expect(Array.from(learned)).toEqual(Array.from(want));
      // compress keeps the same positions with either, shared and per head
      for (const allocation of ['shared', 'per-head'] as const) {
        const caches = [0, 1].map(() => {
          const c = new ContiguousKVCache({
            numLayers: 1,
            batch: B,
            numKvHeads: KV,
            headDim: D,
            maxLength: 64,
          });
          step(c, keys, values);
          return c;
        });
        const a = compress(caches[0], { policy: h2o(), keep: 12, queries, numHeads: Hq, allocation });
        const b = compress(caches[1], {
          policy: linearHead({ weights: [0, 0, 1], window: 'queries' }),
          keep: 12,
          queries,
          numHeads: Hq,
          allocation,
        });
        expect(b).toEqual(a);
        expect(Array.from(caches[1].visibility(0) ?? [])).toEqual(Array.from(caches[0].visibility(0) ?? []));
      }
    }
  });

  it('fitLinearHead recovers the weights of an exactly linear target', () => {
    const r = uniforms(9);
    const n = 50;
    const X = Float64Array.from({ length: n * 3 }, () => r() * 3);
    const y = Array.from({ length: n }, (_, i) => 2 * X[i * 3] - 0.5 * X[i * 3 + 1] + 3 * X[i * 3 + 2] + 1);
    const { weights, bias } = fitLinearHead(X, y);
    for (const [i, w] of [2, -0.5, 3].entries()) expect(weights[i]).toBeCloseTo(w, 10);
    expect(bias).toBeCloseTo(1, 10);
    expect(() => fitLinearHead(X.subarray(0, 9), y.slice(0, 3))).toThrow(/n = y.length >= 4/);
  });

  it('a head fit by least squares on future attention predicts held-out importance', () => {
    // Targets: the attention each position receives from 16 LATER queries (Locret's causal importance,
    // measured). Features: key norm, value norm and the attention from the 2 observed queries.
    const W = 2;
    const F = 16;
    const rows: { X: Float64Array; y: Float64Array }[] = [];
    for (const seed of [11, 12, 13, 14]) {
      const { keys, values, queries } = example(seed, W + F);
      // observed: the first W queries (as if they were the last cached ones); future: the other F
      const obs = new Float32Array(B * Hq * W * D);
      const fut = new Float32Array(B * Hq * F * D);
      for (let bh = 0; bh < B * Hq; bh++) {
        obs.set(queries.subarray(bh * (W + F) * D, (bh * (W + F) + W) * D), bh * W * D);
        fut.set(queries.subarray((bh * (W + F) + W) * D, (bh + 1) * (W + F) * D), bh * F * D);
      }
      const f = positionFeatures('test', { layer: 0, keys, values, queries: obs, numHeads: Hq }, true);
      const X = linearFeatures(f);
      // future attention, summed over the F queries and averaged over a kv head's query heads; every
      // position is visible (the future queries sit after the cached positions)
      const y = new Float64Array(B * KV * T);
      const kd = f.keys;
      for (let b = 0; b < B; b++)
        for (let h = 0; h < Hq; h++)
          for (let w = 0; w < F; w++) {
            const q = fut.subarray(((b * Hq + h) * F + w) * D, ((b * Hq + h) * F + w + 1) * D);
            const kvh = Math.floor(h / (Hq / KV));
            const logits = Array.from({ length: T }, (_, t) => {
              let s = 0;
              for (let e = 0; e < D; e++) s += q[e] * kd[((b * KV + kvh) * T + t) * D + e];
              return s / Math.sqrt(D);
            });
            const m = Math.max(...logits);
            const z = logits.reduce((a, x) => a + Math.exp(x - m), 0);
            logits.forEach((x, t) => {
              y[(b * KV + kvh) * T + t] += Math.exp(x - m) / z / (Hq / KV);
            });
          }
      rows.push({ X, y });
    }
    // Fit on the first three examples, test on the fourth.
    const trainX = Float64Array.from(rows.slice(0, 3).flatMap((r) => Array.from(r.X)));
    const trainY = Float64Array.from(rows.slice(0, 3).flatMap((r) => Array.from(r.y)));
    const fit = fitLinearHead(trainX, trainY);
    // Least squares: the residual is orthogonal to every feature and to the constant.
    const n = trainY.length;
    const grad = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      const res =
        fit.weights[0] * trainX[i * 3] +
        fit.weights[1] * trainX[i * 3 + 1] +
        fit.weights[2] * trainX[i * 3 + 2] +
        fit.bias -
        trainY[i];
      for (let j = 0; j < 3; j++) grad[j] += res * trainX[i * 3 + j];
      grad[3] += res;
    }
    for (const g of grad) expect(Math.abs(g) / n).toBeLessThan(1e-10);
    // Held out: the overlap of the head's top quarter with the target's top quarter, per (row, head).
    const { X, y } = rows[3];
    const keep = T / 4;
    const overlap = (score: (i: number) => number) => {
      let hit = 0;
      for (let r = 0; r < B * KV; r++) {
        const s = Array.from({ length: T }, (_, t) => score(r * T + t));
        const want = new Set(topPositions(y.subarray(r * T, (r + 1) * T), keep));
        for (const p of topPositions(s, keep)) if (want.has(p)) hit++;
      }
      return hit / (B * KV * keep);
    };
    const head = overlap(
      (i) => fit.weights[0] * X[i * 3] + fit.weights[1] * X[i * 3 + 1] + fit.weights[2] * X[i * 3 + 2],
    );
    const single = [0, 1, 2].map((j) => overlap((i) => X[i * 3 + j]));
    console.log(
      `held-out top-25% overlap with future attention: linear head ${head.toFixed(3)}; key norm ${single[0].toFixed(3)}, value norm ${single[1].toFixed(3)}, observed attention ${single[2].toFixed(3)} (random 0.25)`,
    );
    expect(head).toBeGreaterThan(0.6);
    // Nested least squares: on the training rows the 3-feature head fits at least as well as a fit on
    // any one feature (with bias), and better than the mean.
    const sse = (cols: number[]) => {
      const Xs = new Float64Array(n * 3);
      for (let i = 0; i < n; i++) for (const j of cols) Xs[i * 3 + j] = trainX[i * 3 + j];
      const f = fitLinearHead(Xs, trainY, 1e-12);
      let e = 0;
      for (let i = 0; i < n; i++) {
        const p =
          f.weights[0] * Xs[i * 3] + f.weights[1] * Xs[i * 3 + 1] + f.weights[2] * Xs[i * 3 + 2] + f.bias;
        e += (p - trainY[i]) ** 2;
      }
      return e;
    };
    const full = sse([0, 1, 2]);
    for (const j of [0, 1, 2]) expect(full).toBeLessThanOrEqual(sse([j]) * (1 + 1e-9));
    expect(full).toBeLessThan(0.5 * sse([])); // R² > 0.5
    // the fitted head as a policy scores exactly its formula
    const policy = linearHead({ weights: fit.weights, bias: fit.bias });
    expect(policy.needsQueries).toBe(fit.weights[2] !== 0);
  });

  it('checks the score function and the options', () => {
    const { keys, values } = example(4, 2);
    const bad = learnedScorer({ score: () => new Float64Array(3) });
    expect(() => bad.score({ layer: 0, keys, values })).toThrow(/must return a Float64Array of 160 scores/);
    const windowed = learnedScorer({
      score: (f) => new Float64Array(f.batch * f.numKvHeads * f.length),
      window: 3,
    });
    const s = windowed.score({ layer: 0, keys, values });
    expect(s[T - 1]).toBe(Infinity);
    expect(s[T - 4]).toBe(0);
    expect(() => learnedScorer({ score: () => new Float64Array(0), windw: 1 } as never)).toThrow(/"windw"/);
    expect(() => linearHead({ weights: [1, 2] } as never)).toThrow(/weights/);
    expect(() => linearHead({ weights: [0, 0, 1] }).score({ layer: 0, keys, values })).toThrow(
      /needs queries/,
    );
  });
});
