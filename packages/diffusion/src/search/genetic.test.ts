import type { Philox } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import {
  crowdingDistance,
  dominates,
  evolve,
  type GeneticProblem,
  geneticSearch,
  nonDominatedSort,
} from './genetic';

/** Bit strings of length n; fitness = Hamming distance to a fixed target (optimum 0, one genome). */
function hamming(n: number, target: Uint8Array): GeneticProblem<Uint8Array> & { calls: number } {
  const p = {
    calls: 0,
    key: (g: Uint8Array) => g.join(''),
    random: (r: Philox) => Uint8Array.from(r.uniform(n), (u) => (u < 0.5 ? 1 : 0)),
    crossover(a: Uint8Array, b: Uint8Array, r: Philox) {
      const u = r.uniform(n);
      return a.map((v, i) => (u[i] < 0.5 ? v : b[i]));
    },
    mutate(a: Uint8Array, r: Philox) {
      const u = r.uniform(n);
      return a.map((v, i) => (u[i] < 1 / n ? v ^ 1 : v));
    },
    evaluate(g: Uint8Array) {
      p.calls++;
      let d = 0;
      for (let i = 0; i < n; i++) d += g[i] === target[i] ? 0 : 1;
      return d;
    },
  };
  return p;
}

const target = Uint8Array.from({ length: 24 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));

describe('geneticSearch', () => {
  it('finds the optimum of a known toy fitness (24-bit target) within the budget, and is reproducible', async () => {
    const p = hamming(24, target);
    const r = await geneticSearch(p, { populationSize: 20, budget: 600, seed: 1 });
    expect(r.best.objectives[0]).toBe(0);
    expect(Array.from(r.best.genome)).toEqual(Array.from(target));
    expect(r.evaluations).toBeLessThanOrEqual(600);
    // Evaluations count distinct genomes only.
    expect(p.calls).toBe(r.evaluations);
    const again = await geneticSearch(hamming(24, target), { populationSize: 20, budget: 600, seed: 1 });
    expect(again.history).toEqual(r.history);
    // Elitism: the best fitness never gets worse from one generation to the next.
    for (let i = 1; i < r.history.length; i++)
      expect(r.history[i].best[0]).toBeLessThanOrEqual(r.history[i - 1].best[0]);
  });

  it('beats random search of the same budget on a continuous toy (sphere in 8-D)', async () => {
    const n = 8;
    const opt = Float64Array.from({ length: n }, (_, i) => 0.1 * i - 0.3);
    const f = (g: Float64Array) => g.reduce((a, v, i) => a + (v - opt[i]) ** 2, 0);
    const problem: GeneticProblem<Float64Array> = {
      key: (g) => g.join(','),
      random: (r) => r.uniform(n).map((u) => 2 * u - 1),
      crossover: (a, b, r) => {
        const w = r.uniform(1)[0];
        return a.map((v, i) => v + w * (b[i] - v));
      },
      mutate: (a, r) => {
        const z = r.normal(n);
        return a.map((v, i) => v + 0.05 * z[i]);
      },
      evaluate: f,
    };
    const ga = await geneticSearch(problem, { populationSize: 16, budget: 400, seed: 3 });
    let bestRandom = Infinity;
    const { rng } = await import('@hasten/core-tensor');
    const g = rng(3);
    for (let i = 0; i < 400; i++) bestRandom = Math.min(bestRandom, f(problem.random(g)));
    expect(ga.best.objectives[0]).toBeLessThan(1e-2);
    expect(ga.best.objectives[0]).toBeLessThan(bestRandom / 10);
  });

  it('NSGA-II returns a non-dominated front that covers a known two-objective trade-off', async () => {
    // Genome: bits; objectives (ones, Hamming distance to all-ones of the first 12 bits + zeros after).
    // The Pareto front of (k ones, 12 − k) for k = 0..12 is known: 13 points.
    const n = 16;
    const problem: GeneticProblem<Uint8Array> = {
      key: (g) => g.join(''),
      random: (r) => Uint8Array.from(r.uniform(n), (u) => (u < 0.5 ? 1 : 0)),
      crossover: (a, b, r) => {
        const u = r.uniform(n);
        return a.map((v, i) => (u[i] < 0.5 ? v : b[i]));
      },
      mutate: (a, r) => {
        const g = a.slice();
        g[Math.floor(r.uniform(1)[0] * n)] ^= 1;
        return g;
      },
      evaluate: (g) => {
        const ones = g.reduce((a, v) => a + v, 0);
        let miss = 0;
        for (let i = 0; i < n; i++) miss += i < 12 ? 1 - g[i] : 2 * g[i];
        return [ones, miss];
      },
    };
    const r = await geneticSearch(problem, { populationSize: 30, budget: 1500, seed: 5, selection: 'nsga2' });
    const pts = r.front.map((p) => p.objectives);
    for (const a of pts) for (const b of pts) expect(dominates(a, b)).toBe(false);
    // True front: ones = k (all among the first 12), miss = 12 − k.
    const onFront = pts.filter(([ones, miss]) => ones + miss === 12);
    expect(onFront.length).toBeGreaterThanOrEqual(10);
  });

  it('non-dominated sort and crowding distance on a hand-worked set', () => {
    const pts = [
      [1, 5],
      [2, 3],
      [4, 1],
      [3, 4],
      [5, 5],
    ];
    expect(nonDominatedSort(pts)).toEqual([[0, 1, 2], [3], [4]]);
    const d = crowdingDistance([
      [1, 5],
      [2, 3],
      [4, 1],
    ]);
    expect(d[0]).toBe(Infinity);
    expect(d[2]).toBe(Infinity);
    // Middle point: (4 − 1)/(4 − 1) + (5 − 1)/(5 − 1) = 2.
    expect(d[1]).toBeCloseTo(2, 12);
  });

  it('yields generations as an async iterator, reports progress and stops on an AbortSignal', async () => {
    const seen: number[] = [];
    const gens: number[] = [];
    for await (const g of evolve(hamming(24, target), {
      populationSize: 8,
      budget: 40,
      onGeneration: (x) => seen.push(x.index),
    }))
      gens.push(g.evaluations);
    expect(seen).toEqual(gens.map((_, i) => i));
    expect(gens[gens.length - 1]).toBeLessThanOrEqual(40);
    for (let i = 1; i < gens.length; i++) expect(gens[i]).toBeGreaterThanOrEqual(gens[i - 1]);

    const controller = new AbortController();
    const run = geneticSearch(hamming(24, target), {
      populationSize: 8,
      budget: 100000,
      signal: controller.signal,
      onGeneration: (g) => {
        if (g.index === 3) controller.abort(new Error('stopped by the test'));
      },
    });
    await expect(run).rejects.toThrow(/stopped by the test/);
  });

  it('rejects bad options and NaN fitness with clear errors', async () => {
    await expect(geneticSearch(hamming(4, target), { populationSize: 1 })).rejects.toThrow(
      /geneticSearch: option 'populationSize' is invalid/,
    );
    await expect(geneticSearch(hamming(4, target), { budgett: 3 } as never)).rejects.toThrow(
      /Unrecognized key: "budgett"; allowed: populationSize, budget/,
    );
    const bad = { ...hamming(4, target), evaluate: () => Number.NaN };
    await expect(geneticSearch(bad, {})).rejects.toThrow(/evaluate returned \[NaN\]/);
  });
});
