/**
 * SYNTHETIC benchmark of @hasten/scaling (no model: plain-function proposer and process reward on the
 * task of synthetic-task.ts). Accuracy against budget 1..64 for best-of-N, weighted best-of-N,
 * self-consistency, particle filtering and beam search, with the unbiased pass@k coverage curve
 * (@hasten/eval) as the ceiling; then budget allocation across queries: bandit and early-stopping
 * controllers against uniform allocation at equal total samples. Timed cases (the harness's speed
 * ratio is only the wall-clock of the plain-function runs; the point is the quality check beside it):
 * particle filtering vs best-of-N at 16, bandit vs uniform allocation.
 *
 *   npm run bench -w @hasten/scaling -- [--quick]
 */
import { parseArgs } from 'node:util';
import { coverageCurve, defineBenchmark, defineCase, type Series } from '@hasten/eval';
import { runAndWrite } from '@hasten/eval/node';
import {
  adaptiveSampling,
  allocateBudget,
  banditController,
  beamSearch,
  bestOfN,
  type Controller,
  earlyStoppingController,
  particleFiltering,
  queryAnswers,
  runStrategy,
  type Strategy,
  selfConsistency,
  selfEvalPruning,
  uniformController,
  weightedBestOfN,
} from '../src/index';
import { makeQueries, STEPS, type TaskQuery, type TaskState } from './synthetic-task';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = args.quick;
const QUERIES = quick ? 20 : 60;
const REPEATS = quick ? 1 : 2;
const BUDGETS = quick ? [1, 4, 16] : [1, 2, 4, 8, 16, 32, 64];
const queries = makeQueries(QUERIES, 2026);

type Make = (q: TaskQuery, budget: number) => Strategy<TaskState>;
const common = { maxSteps: STEPS, concurrency: 64 };
const STRATEGIES: Record<string, Make> = {
  'best-of-N': (q, n) => bestOfN({ proposer: q.proposer, scorer: q.prm, budget: n, ...common }),
  'weighted best-of-N': (q, n) =>
    weightedBestOfN({ proposer: q.proposer, scorer: q.prm, budget: n, ...common }),
  'self-consistency': (q, n) => selfConsistency({ proposer: q.proposer, budget: n, ...common }),
  'particle filtering': (q, n) =>
    particleFiltering({ proposer: q.proposer, scorer: q.prm, budget: n, ...common }),
  'beam search': (q, n) =>
    beamSearch({ proposer: q.proposer, scorer: q.prm, budget: n, beamWidth: Math.min(4, n), ...common }),
};

/** Fraction of queries answered correctly, averaged over REPEATS seeds. */
async function accuracy(make: Make, budget: number): Promise<number> {
  let right = 0;
  for (let r = 0; r < REPEATS; r++) {
    for (let i = 0; i < queries.length; i++) {
      const trace = await runStrategy(make(queries[i], budget), { seed: 1000 * r + i });
      if (trace.answer === 'correct') right++;
    }
  }
  return right / (REPEATS * queries.length);
}

// Coverage ceiling: 64 independent samples per query, unbiased pass@k at every budget.
const coverageOutcomes = await Promise.all(
  queries.map(async (q, i) => {
    const trace = await runStrategy(bestOfN({ proposer: q.proposer, scorer: q.prm, budget: 64, ...common }), {
      seed: 99_000 + i,
    });
    return { n: 64, c: trace.candidates.filter((c) => c.answer === 'correct').length };
  }),
);
const coverage = coverageCurve(coverageOutcomes, BUDGETS).map((p) => p.coverage);

const table: Record<string, number[]> = {};
for (const [name, make] of Object.entries(STRATEGIES)) {
  table[name] = [];
  for (const b of BUDGETS) table[name].push(await accuracy(make, b));
}

// Allocation across queries at equal total samples (per-query average 2, 4, 8).
const PER_QUERY = quick ? [4] : [2, 4, 8];
const CONTROLLERS: Record<string, () => Controller> = {
  uniform: uniformController,
  'early stopping': () => earlyStoppingController(),
  bandit: () => banditController(),
};
async function allocationAccuracy(make: () => Controller, perQuery: number): Promise<number> {
  let right = 0;
  for (let r = 0; r < REPEATS; r++) {
    const trace = await runStrategy(
      allocateBudget({
        queries: queries.map((q) => ({ proposer: q.proposer, scorer: q.prm })),
        controller: make(),
        budget: perQuery * queries.length,
        ...common,
      }),
      { seed: 7000 + r },
    );
    right += queryAnswers(trace).filter((a) => a === 'correct').length;
  }
  return right / (REPEATS * queries.length);
}
const allocation: Record<string, number[]> = {};
for (const [name, make] of Object.entries(CONTROLLERS)) {
  allocation[name] = [];
  for (const k of PER_QUERY) allocation[name].push(await allocationAccuracy(make, k));
}

// Mid-generation pruning (Manvi et al. 2410.02725) against best-of-16: accuracy and tokens (steps
// proposed) per query, with the process reward standing in for the model's self-evaluation.
const PRUNE: Record<string, Make> = {
  'best-of-16': (q) => bestOfN({ proposer: q.proposer, scorer: q.prm, budget: 16, ...common }),
  'pruning: 16 → 4 after step 1 → 1 after step 2': (q) =>
    selfEvalPruning({
      proposer: q.proposer,
      scorer: q.prm,
      budget: 16,
      checkpoints: [1, 2],
      keep: 0.25,
      ...common,
    }),
  'adaptive sampling (stop at self-eval ≥ 0.9, ≤ 16)': (q) =>
    adaptiveSampling({ proposer: q.proposer, scorer: q.prm, budget: 16, threshold: 0.9, ...common }),
  'best-of-1': (q) => bestOfN({ proposer: q.proposer, scorer: q.prm, budget: 1, ...common }),
};
const pruning: Record<string, { accuracy: number; tokens: number }> = {};
for (const [name, make] of Object.entries(PRUNE)) {
  let right = 0;
  let tokens = 0;
  for (let r = 0; r < REPEATS; r++) {
    for (let i = 0; i < queries.length; i++) {
      const trace = await runStrategy(make(queries[i], 16), { seed: 1000 * r + i });
      if (trace.answer === 'correct') right++;
      tokens += trace.calls.propose;
    }
  }
  pruning[name] = {
    accuracy: right / (REPEATS * queries.length),
    tokens: tokens / (REPEATS * queries.length),
  };
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const header = `| strategy (SYNTHETIC task, ${QUERIES} queries × ${REPEATS} seeds) | ${BUDGETS.join(' | ')} |`;
const lines = [
  header,
  `|---|${BUDGETS.map(() => '---:').join('|')}|`,
  ...Object.entries(table).map(([name, acc]) => `| ${name} | ${acc.map(pct).join(' | ')} |`),
  `| pass@k (coverage ceiling) | ${coverage.map(pct).join(' | ')} |`,
  '',
  `| allocation (SYNTHETIC, ${QUERIES} queries, best-of by PRM) | ${PER_QUERY.map((k) => `${k}/query`).join(' | ')} |`,
  `|---|${PER_QUERY.map(() => '---:').join('|')}|`,
  ...Object.entries(allocation).map(([name, acc]) => `| ${name} | ${acc.map(pct).join(' | ')} |`),
];
const gain = (name: string) =>
  (pruning[name].accuracy - pruning['best-of-1'].accuracy) /
  (pruning['best-of-16'].accuracy - pruning['best-of-1'].accuracy);
lines.push(
  '',
  `| pruning (SYNTHETIC, ${QUERIES} queries × ${REPEATS} seeds) | accuracy | steps proposed / query | share of best-of-16's gain over best-of-1 |`,
  '|---|---:|---:|---:|',
  ...Object.entries(pruning).map(
    ([name, v]) => `| ${name} | ${pct(v.accuracy)} | ${v.tokens.toFixed(1)} | ${pct(gain(name))} |`,
  ),
);
console.log(lines.join('\n'));

const series: Series[] = [
  {
    kind: 'accuracy-vs-budget',
    name: 'synthetic-accuracy-vs-budget',
    title: `SYNTHETIC ${STEPS}-step task (no model): accuracy against budget, pass@k as ceiling`,
    xLabel: 'budget (samples / particles / beams)',
    yLabel: 'accuracy',
    lines: [
      ...Object.entries(table).map(([label, acc]) => ({
        label,
        points: acc.map((y, i) => ({ x: BUDGETS[i], y })),
      })),
      { label: 'pass@k (coverage)', points: coverage.map((y, i) => ({ x: BUDGETS[i], y })) },
    ],
  },
  {
    kind: 'accuracy-vs-budget',
    name: 'synthetic-allocation',
    title: 'SYNTHETIC task: budget allocation across queries at equal total samples',
    xLabel: 'samples per query (average)',
    yLabel: 'accuracy',
    lines: Object.entries(allocation).map(([label, acc]) => ({
      label,
      points: acc.map((y, i) => ({ x: PER_QUERY[i], y })),
    })),
  },
];

const at16 = BUDGETS.indexOf(16);
const beats = (a: string, b: string, i: number) => table[a][i] - table[b][i];
const definition = defineBenchmark({
  package: 'scaling',
  name: 'synthetic',
  description: `SYNTHETIC multi-step task with a noisy process reward (plain functions, no model): accuracy against budget for ${Object.keys(STRATEGIES).join(', ')}; allocation controllers.`,
  warmup: 1,
  repeats: quick ? 2 : 3,
  environment: { backend: 'cpu' },
  series,
  cases: [
    defineCase<number>({
      name: 'synthetic task: particle filtering vs best-of-N at budget 16 (no model)',
      baselineLabel: 'best-of-N (16 samples)',
      methodLabel: 'particle filtering (16 particles)',
      baseline: () => accuracy(STRATEGIES['best-of-N'], 16),
      method: () => accuracy(STRATEGIES['particle filtering'], 16),
      work: { amount: 16 * QUERIES * REPEATS, unit: 'samples' },
      quality: (base, method) => ({
        metric: 'accuracy gain (PF − BoN) at budget 16',
        value: method - base,
        pass: method >= base,
        threshold: '>= 0',
      }),
    }),
    defineCase<number>({
      name: `synthetic task: bandit vs uniform allocation at ${PER_QUERY.at(-1)} samples per query (no model)`,
      baselineLabel: 'uniform controller',
      methodLabel: 'bandit controller',
      baseline: () => allocationAccuracy(CONTROLLERS.uniform, PER_QUERY.at(-1) as number),
      method: () => allocationAccuracy(CONTROLLERS.bandit, PER_QUERY.at(-1) as number),
      quality: (base, method) => ({
        metric: 'accuracy gain (bandit − uniform)',
        value: method - base,
        pass: method >= base,
        threshold: '>= 0',
      }),
    }),
  ],
});

if (at16 >= 0) console.log(`PF − BoN at 16: ${pct(beats('particle filtering', 'best-of-N', at16))}`);
await runAndWrite(definition, quick ? { write: false } : {});
