/**
 * Benchmark of @hasten/scaling on the arithmetic fixtures (real models, CPU): `fixtures/arith-lm` writes
 * solutions of @hasten/eval's arithmetic task one step per line (sampled at temperature 1 through
 * `llmProposer`), `fixtures/arith-prm` scores each step (`arithPrm`, Math-Shepherd-style step tags).
 * On held-out problems (seed-0 items 500.. of the task, which neither fixture trained on), accuracy
 * (`checkArithmetic`) against budget for: a single sample (baseline), best-of-N with the PRM
 * (aggregating the step scores by min / last / product), weighted best-of-N, self-consistency
 * (majority vote), beam search with the PRM and particle filtering (final answer by the largest
 * weight, as the paper's code and its_hub, and by weighted majority voting over the particles'
 * answers, search-and-learn's weighted best-of-N rule, not the paper's), DVTS, entropic particle
 * filtering, particle Gibbs, self-consistency with adaptive and Beta early stopping, and
 * mid-generation pruning by self-evaluation (the PRM standing in) — the rows and how the budget maps
 * onto each are in arith-rows.ts — with the unbiased pass@k coverage of the largest best-of-N run's
 * samples as the ceiling at every budget; tokens generated per problem as the cost, at every budget
 * (a second table and series: early stopping and pruning spend less than their budget). Budgets: 1,
 * 4, 16, 64 (powers of 4) up to --max-budget N (default 64), and N itself when it is not a power of 4.
 *
 * Then budget allocation across the problems at equal total samples (2, 4 and 8 per problem on
 * average): uniform, early stopping and the bandit controller (`allocateBudget`; each problem answered
 * by its best sample under the PRM, min over steps), accuracy and tokens per problem.
 *
 * Timed cases (speed ratio vs the baseline in the same run, with the accuracy beside it) run on the
 * first CASE_PROBLEMS problems; their quality checks use the accuracy over all problems from the table.
 *
 *   npm run bench:arith -w @hasten/scaling -- [--quick] [--problems N] [--operations 2|3] (default 2)
 *     [--max-budget N] (default 64; 4 with --quick)
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type ArithmeticItem,
  arithmeticTask,
  checkArithmetic,
  coverageCurve,
  defineBenchmark,
  defineCase,
  type Series,
} from '@hasten/eval';
import { runAndWrite } from '@hasten/eval/node';
import { loadCausalLM } from '@hasten/models/node';
import { type ArithPrm, arithPrm, type LlmState, llmProposer } from '../src/adapters/index';
import { type Aggregation, aggregateScores } from '../src/aggregate-scores';
import {
  allocateBudget,
  banditController,
  bestCandidate,
  type Controller,
  earlyStoppingController,
  type Proposer,
  queryAnswers,
  runStrategy,
  uniformController,
} from '../src/index';
import {
  arithRows,
  BEST_OF_N,
  type Make,
  PARTICLE_FILTERING,
  PARTICLE_FILTERING_WM,
  PRUNING,
} from './arith-rows';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    problems: { type: 'string' },
    operations: { type: 'string' },
    'max-budget': { type: 'string' },
  },
});
const quick = args.quick;
const PROBLEMS = args.problems ? Number(args.problems) : quick ? 8 : 160;
if (!Number.isInteger(PROBLEMS) || PROBLEMS < 1)
  throw new Error(`--problems must be a positive integer, got ${args.problems}`);
const MAX_BUDGET = args['max-budget'] ? Number(args['max-budget']) : quick ? 4 : 64;
if (!Number.isInteger(MAX_BUDGET) || MAX_BUDGET < 1)
  throw new Error(`--max-budget must be a positive integer, got ${args['max-budget']}`);
/** 1, 4, 16, 64, ... up to MAX_BUDGET, and MAX_BUDGET itself. */
const BUDGETS: number[] = [];
for (let b = 1; b <= MAX_BUDGET; b *= 4) BUDGETS.push(b);
if (BUDGETS.at(-1) !== MAX_BUDGET) BUDGETS.push(MAX_BUDGET);
const CASE_PROBLEMS = Math.min(PROBLEMS, quick ? 2 : 6);
const OPERATIONS = args.operations ? Number(args.operations) : 2;
if (![2, 3].includes(OPERATIONS))
  throw new Error(`--operations must be 2 or 3 (held-out items), got ${args.operations}`);
const TEMPERATURE = 1;
const MAX_NEW_TOKENS = 96;

const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../fixtures');
const lm = await loadCausalLM(join(FIXTURES, 'arith-lm'));
const prmModel = await loadCausalLM(join(FIXTURES, 'arith-prm'));
const prm: ArithPrm = arithPrm({ model: prmModel, cacheSize: 50_000 });
// Held out from both fixtures' training data (arithmetic_data.ts leaves out seed-0 items 0..999).
const items = arithmeticTask({ seed: 0, count: 1000, operations: OPERATIONS }).items.slice(
  500,
  500 + PROBLEMS,
);

const bytes = (s: string) => [...new TextEncoder().encode(s)];
const BOS = 256;

/** A fresh proposer for one problem, counting the tokens it generates. */
function proposerFor(item: ArithmeticItem) {
  const p = llmProposer({
    model: lm,
    prompt: [BOS, ...bytes(`${item.prompt}\n`)],
    temperature: TEMPERATURE,
    maxNewTokens: MAX_NEW_TOKENS,
    maxStepTokens: 32,
  });
  const counter = { tokens: 0 };
  const proposer: Proposer<LlmState> = {
    initial: (ctx) => p.initial(ctx),
    propose: async (s, ctx) => {
      const next = await p.propose(s, ctx);
      counter.tokens += next.tokens.length - s.tokens.length;
      return next;
    },
    done: (s) => p.done(s),
    answer: (s) => p.answer?.(s) ?? p.text(s),
    cost: (a, b) => p.cost?.(a, b) ?? 1,
    fork: (s) => p.fork?.(s) ?? s,
    release: (s) => p.release?.(s),
  };
  return { p, proposer, counter };
}

const STRATEGIES: Record<string, Make> = arithRows(prm);
/**
 * Best-of-N with the other aggregations picks among the same N samples (same seed, same draws):
 * re-scored from the min run's candidates (the PRM's step scores are memoised), not regenerated.
 */
const REAGGREGATED: Record<string, Aggregation> = {
  'best-of-N (PRM last)': 'last',
  'best-of-N (PRM product)': 'prod',
};

interface Outcome {
  accuracy: number;
  /** Generated tokens per problem. */
  tokens: number;
  /** Per problem: whether the pick was right; finished distinct samples and how many are right. */
  correct: boolean[];
  candidates: { n: number; c: number }[];
  /** The budget it ran at. */
  budget: number;
  /** Best-of-N only: accuracy of the pick under the other aggregations. */
  reaggregated?: Record<string, number>;
}

/** A row at a budget it is not defined at (particle Gibbs at 1): NaN accuracy and tokens, shown as n/a. */
const undefinedAt = (budget: number): Outcome => ({
  accuracy: Number.NaN,
  tokens: Number.NaN,
  correct: [],
  candidates: [],
  budget,
});

/** Runs `make` at `budget` on the first `count` problems (seed 1000 + i per problem). */
async function evaluate(
  make: Make,
  budget: number,
  count = items.length,
  reaggregate = false,
): Promise<Outcome> {
  let tokens = 0;
  const correct: boolean[] = [];
  const candidates: { n: number; c: number }[] = [];
  const re: Record<string, number> = Object.fromEntries(Object.keys(REAGGREGATED).map((k) => [k, 0]));
  for (let i = 0; i < count; i++) {
    const item = items[i];
    const { p, proposer, counter } = proposerFor(item);
    try {
      const strategy = make(proposer, budget);
      if (strategy === undefined) return undefinedAt(budget);
      const trace = await runStrategy(strategy, { seed: 1000 + i });
      const sel = bestCandidate(trace);
      const text = trace.answer ?? (sel ? p.text(sel.state) : '');
      correct.push(checkArithmetic(item, text).pass);
      const finished: LlmState[] = [];
      for (const cand of trace.candidates) {
        if (cand.status !== 'pruned' && p.done(cand.state) && !finished.includes(cand.state))
          finished.push(cand.state);
      }
      const right = finished.map((s) => checkArithmetic(item, p.text(s)).pass);
      candidates.push({ n: finished.length, c: right.filter(Boolean).length });
      if (reaggregate && finished.length > 0) {
        for (const [name, how] of Object.entries(REAGGREGATED)) {
          let best = -1;
          let bestScore = Number.NEGATIVE_INFINITY;
          for (let k = 0; k < finished.length; k++) {
            const sc = await prm.stepScores(finished[k]);
            const v = sc.length === 0 ? 0.5 : aggregateScores(sc, how);
            if (v > bestScore) {
              bestScore = v;
              best = k;
            }
          }
          if (right[best]) re[name]++;
        }
      }
      tokens += counter.tokens;
    } finally {
      p.dispose();
    }
  }
  return {
    accuracy: correct.filter(Boolean).length / count,
    tokens: tokens / count,
    correct,
    candidates,
    budget,
    ...(reaggregate
      ? { reaggregated: Object.fromEntries(Object.entries(re).map(([k, v]) => [k, v / count])) }
      : {}),
  };
}

const pct = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(100 * v).toFixed(1)}%`);
const tok = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(0));
const t0 = performance.now();
const table: Record<string, Outcome[]> = {};
for (const [name, make] of Object.entries(STRATEGIES)) {
  table[name] = [];
  for (const b of BUDGETS) {
    const t1 = performance.now();
    table[name].push(await evaluate(make, b, items.length, name === BEST_OF_N));
    const o = table[name].at(-1) as Outcome;
    console.error(
      `${name} @ ${b}: ${pct(o.accuracy)}, ${tok(o.tokens)} tokens/problem (${((performance.now() - t1) / 1000).toFixed(0)} s; ${((performance.now() - t0) / 1000).toFixed(0)} s in all)`,
    );
  }
}
for (const name of Object.keys(REAGGREGATED)) {
  table[name] = table[BEST_OF_N].map((o) => ({
    ...o,
    accuracy: o.reaggregated?.[name] ?? Number.NaN,
  }));
}
const single = table[BEST_OF_N][0];
// Coverage ceiling: unbiased pass@k at every budget k from the largest best-of-N run's N independent
// samples per problem (n = N drawn, c = right among them; a sample cut before it finished is wrong).
const top = table[BEST_OF_N].at(-1) as Outcome;
const coverage = coverageCurve(
  top.candidates.map((x) => ({ n: top.budget, c: x.c })),
  BUDGETS,
).map((p) => p.coverage);

const lines = [
  `| strategy (arith-lm + arith-prm, ${PROBLEMS} problems, ${OPERATIONS} operations, T=${TEMPERATURE}) | ${BUDGETS.join(' | ')} | tokens/problem at ${BUDGETS.at(-1)} |`,
  `|---|${BUDGETS.map(() => '---:').join('|')}|---:|`,
  `| single sample (baseline) | ${BUDGETS.map(() => pct(single.accuracy)).join(' | ')} | ${tok(single.tokens)} |`,
  ...Object.entries(table).map(
    ([name, rows]) =>
      `| ${name} | ${rows.map((r) => pct(r.accuracy)).join(' | ')} | ${tok((rows.at(-1) as Outcome).tokens)} |`,
  ),
  `| pass@k (coverage ceiling) | ${coverage.map(pct).join(' | ')} | |`,
  '',
  // What each row spends at each budget (early stopping and pruning spend less than N samples' worth).
  `| tokens generated per problem (same runs) | ${BUDGETS.join(' | ')} |`,
  `|---|${BUDGETS.map(() => '---:').join('|')}|`,
  ...Object.entries(STRATEGIES).map(
    ([name]) => `| ${name} | ${table[name].map((r) => tok(r.tokens)).join(' | ')} |`,
  ),
];
console.log(lines.join('\n'));
console.log(`table: ${((performance.now() - t0) / 1000).toFixed(0)} s; PRM forwards ${prm.forwards}`);

// Budget allocation across the problems at equal total samples: each problem's answer is its best
// sample under the PRM (min over steps); the controllers decide which problem gets the next sample.
const PER_PROBLEM = quick ? [2] : [2, 4, 8];
const CONTROLLERS: Record<string, () => Controller> = {
  uniform: uniformController,
  'early stopping (Beta rule)': () => earlyStoppingController(),
  bandit: () => banditController(),
};
/** One allocation run over the first `count` problems at `perProblem` samples each on average. */
async function allocation(make: () => Controller, perProblem: number, count = items.length) {
  const made = items.slice(0, count).map(proposerFor);
  try {
    const trace = await runStrategy(
      allocateBudget({
        queries: made.map((m) => ({ proposer: m.proposer, scorer: prm.scorer('min') })),
        controller: make(),
        budget: perProblem * count,
        maxSteps: 8,
      }),
      { seed: 5000 },
    );
    const answers = queryAnswers(trace);
    const right = answers.filter((a, i) => a !== undefined && checkArithmetic(items[i], a).pass).length;
    return {
      accuracy: right / count,
      tokens: made.reduce((t, m) => t + m.counter.tokens, 0) / count,
      correct: [] as boolean[],
      candidates: [],
      budget: perProblem,
    } satisfies Outcome;
  } finally {
    for (const m of made) m.p.dispose();
  }
}
const allocations: Record<string, Outcome[]> = {};
for (const [name, make] of Object.entries(CONTROLLERS)) {
  allocations[name] = [];
  for (const k of PER_PROBLEM) allocations[name].push(await allocation(make, k));
}
const allocationLines = [
  `| allocation (arith-lm + arith-prm, ${PROBLEMS} problems, best sample by PRM min) | ${PER_PROBLEM.map((k) => `${k}/problem`).join(' | ')} | tokens/problem at ${PER_PROBLEM.at(-1)}/problem |`,
  `|---|${PER_PROBLEM.map(() => '---:').join('|')}|---:|`,
  ...Object.entries(allocations).map(
    ([name, rows]) =>
      `| ${name} | ${rows.map((r) => pct(r.accuracy)).join(' | ')} | ${tok((rows.at(-1) as Outcome).tokens)} |`,
  ),
];
console.log(allocationLines.join('\n'));

const series: Series[] = [
  {
    kind: 'accuracy-vs-budget',
    name: 'arith-accuracy-vs-budget',
    title: `arith-lm + arith-prm: accuracy against budget on ${PROBLEMS} held-out ${OPERATIONS}-operation problems, pass@k as ceiling`,
    xLabel: 'budget (samples / particles / beams)',
    yLabel: 'accuracy',
    lines: [
      { label: 'single sample', points: BUDGETS.map((x) => ({ x, y: single.accuracy })) },
      ...Object.entries(table).map(([label, rows]) => ({
        label,
        points: rows.flatMap((r, i) => (Number.isNaN(r.accuracy) ? [] : [{ x: BUDGETS[i], y: r.accuracy }])),
      })),
      { label: 'pass@k (coverage)', points: coverage.map((y, i) => ({ x: BUDGETS[i], y })) },
    ],
  },
  {
    // The cost beside the curves: what each row generates at each budget (x is the same budget).
    kind: 'accuracy-vs-budget',
    name: 'arith-tokens-vs-budget',
    title: `arith-lm + arith-prm: tokens generated per problem against budget (the cost of the accuracy curves; early stopping and pruning spend less than their budget)`,
    xLabel: 'budget (most samples / particles / beams)',
    yLabel: 'tokens generated per problem',
    yScale: 'log',
    lines: Object.keys(STRATEGIES).map((label) => ({
      label,
      points: table[label].flatMap((r, i) =>
        Number.isNaN(r.tokens) || r.tokens <= 0 ? [] : [{ x: BUDGETS[i], y: r.tokens }],
      ),
    })),
  },
  {
    kind: 'accuracy-vs-budget',
    name: 'arith-allocation',
    title: `arith-lm + arith-prm: budget allocation across ${PROBLEMS} problems at equal total samples`,
    xLabel: 'samples per problem (average)',
    yLabel: 'accuracy',
    lines: Object.entries(allocations).map(([label, rows]) => ({
      label,
      points: rows.map((r, i) => ({ x: PER_PROBLEM[i], y: r.accuracy })),
    })),
  },
];

const N = BUDGETS.at(-1) as number;
const timed = (name: string, budget: number) => () => evaluate(STRATEGIES[name], budget, CASE_PROBLEMS);
/** Budgets the quality check compares at: N for the gain over one sample, every budget >= 4 at equal budget. */
const EQUAL_BUDGETS = BUDGETS.filter((b) => b >= 4);
/**
 * A timed case at budget N; its quality check is the accuracy gain on all problems (from the table):
 * over a single sample at N, or over the baseline at equal budget, the smallest over every budget >= 4.
 */
const gainCase = (method: string, baseline: string, baselineBudget: number) =>
  defineCase<Outcome>({
    name: `arith-lm + arith-prm: ${method} vs ${baselineBudget === 1 ? 'a single sample' : `${baseline} at ${baselineBudget}`}, budget ${N}`,
    baselineLabel: baselineBudget === 1 ? 'single sample (arith-lm, T=1)' : `${baseline}, ${baselineBudget}`,
    methodLabel: `${method}, ${N}`,
    baseline: timed(baseline, baselineBudget),
    method: timed(method, N),
    work: { amount: CASE_PROBLEMS, unit: 'problems' },
    quality: (b, m) => {
      const at = baselineBudget === 1 ? [N] : EQUAL_BUDGETS.length > 0 ? EQUAL_BUDGETS : [N];
      const gains = at.map((x) => {
        const i = BUDGETS.indexOf(x);
        const base = baselineBudget === 1 ? single.accuracy : table[baseline][i].accuracy;
        return table[method][i].accuracy - base;
      });
      const worst = Math.min(...gains);
      const where =
        baselineBudget === 1
          ? `at ${N}`
          : `smallest over equal budgets ${at.join(', ')}: ${gains.map((g) => `${(100 * g).toFixed(1)}`).join(' / ')} points`;
      return {
        metric: `accuracy gain on all ${PROBLEMS} problems, ${where} (table; timed at ${N} on ${CASE_PROBLEMS}: ${pct(b.accuracy)} → ${pct(m.accuracy)}, tokens/problem ${b.tokens.toFixed(0)} → ${m.tokens.toFixed(0)})`,
        value: worst,
        pass: worst >= 0,
        threshold: '>= 0',
      };
    },
  });

/**
 * The issue's check "mid-generation pruning keeps most of best-of-16's gain at a fraction of its
 * tokens", at budget B = 16 (the largest budget <= 16 in a shorter run). Pruning returns the argmax of
 * the PRM (min) over its finished samples, so its reference is best-of-N with the same score, not
 * weighted best-of-N. Gain kept = (pruning − single) / (best-of-B − single); the check passes when
 * best-of-B gains over a single sample, pruning's accuracy is at least halfway from a single sample to
 * best-of-B (gain kept >= 50%; the value is the margin over that halfway point) and it generates at
 * most 75% of best-of-B's tokens (thresholds set before any run).
 * Both from the table (all problems); the timed case runs both at B on the first problems.
 */
const B16 = Math.max(...BUDGETS.filter((b) => b <= 16));
const pruningCase = defineCase<Outcome>({
  name: `arith-lm + arith-prm: mid-generation pruning vs best-of-N (PRM min) at ${B16}`,
  baselineLabel: `${BEST_OF_N}, ${B16}`,
  methodLabel: `${PRUNING}, ${B16}`,
  baseline: timed(BEST_OF_N, B16),
  method: timed(PRUNING, B16),
  work: { amount: CASE_PROBLEMS, unit: 'problems' },
  quality: (b, m) => {
    const i = BUDGETS.indexOf(B16);
    const acc1 = single.accuracy;
    const bon = table[BEST_OF_N][i];
    const pr = table[PRUNING][i];
    const halfway = (acc1 + bon.accuracy) / 2;
    const fraction = pr.tokens / bon.tokens;
    const kept =
      bon.accuracy > acc1
        ? `gain kept ${pct((pr.accuracy - acc1) / (bon.accuracy - acc1))}`
        : 'best-of-N has no gain over one sample here to keep';
    return {
      metric: `accuracy minus the halfway point between a single sample and best-of-${B16} (PRM min) on all ${PROBLEMS} problems: single ${pct(acc1)}, best-of-${B16} ${pct(bon.accuracy)}, pruning ${pct(pr.accuracy)} (${kept}); tokens/problem ${tok(pr.tokens)} vs ${tok(bon.tokens)} (${pct(fraction)} of best-of-${B16}'s) (table; timed on ${CASE_PROBLEMS}: ${pct(b.accuracy)} → ${pct(m.accuracy)}, tokens/problem ${tok(b.tokens)} → ${tok(m.tokens)})`,
      value: pr.accuracy - halfway,
      pass: bon.accuracy > acc1 && pr.accuracy >= halfway && fraction <= 0.75,
      threshold:
        ">= 0 (gain kept >= 50%, best-of-N gaining over one sample) with tokens <= 75% of best-of-N's",
    };
  },
});

/**
 * The issue's check "the bandit controller beats uniform allocation over a set of queries": from the
 * allocation table (all problems), the bandit's accuracy minus uniform's at every per-problem budget;
 * passes when it is never below and above at one budget at least (set before any run). Timed at the
 * largest per-problem budget on the first problems.
 */
const P = PER_PROBLEM.at(-1) as number;
const allocationCase = defineCase<Outcome>({
  name: `arith-lm + arith-prm: bandit vs uniform allocation at ${P} samples per problem`,
  baselineLabel: `uniform allocation, ${P}/problem`,
  methodLabel: `bandit controller, ${P}/problem`,
  baseline: () => allocation(CONTROLLERS.uniform, P, CASE_PROBLEMS),
  method: () => allocation(CONTROLLERS.bandit, P, CASE_PROBLEMS),
  work: { amount: CASE_PROBLEMS, unit: 'problems' },
  quality: (b, m) => {
    const gains = PER_PROBLEM.map((_, i) => allocations.bandit[i].accuracy - allocations.uniform[i].accuracy);
    return {
      metric: `bandit minus uniform accuracy on all ${PROBLEMS} problems at ${PER_PROBLEM.join(' / ')} samples per problem: ${gains.map((g) => (100 * g).toFixed(1)).join(' / ')} points (table; timed at ${P} on ${CASE_PROBLEMS}: ${pct(b.accuracy)} → ${pct(m.accuracy)}, tokens/problem ${tok(b.tokens)} → ${tok(m.tokens)})`,
      value: Math.min(...gains),
      pass: Math.min(...gains) >= 0 && Math.max(...gains) > 0,
      threshold: '>= 0 at every budget, > 0 at one',
    };
  },
});

const definition = defineBenchmark({
  package: 'scaling',
  name: 'arith',
  description: `arith-lm (sampled at T=${TEMPERATURE}) + arith-prm on ${PROBLEMS} held-out ${OPERATIONS}-operation arithmetic problems: accuracy against budget ${BUDGETS.join(', ')} for a single sample, ${Object.keys(STRATEGIES).join(', ')}; tokens per problem as the cost; budget allocation across the problems (${Object.keys(CONTROLLERS).join(', ')}) at ${PER_PROBLEM.join(', ')} samples per problem.`,
  warmup: 0,
  repeats: 1,
  environment: { backend: 'cpu' },
  series,
  cases: [
    gainCase(BEST_OF_N, BEST_OF_N, 1),
    gainCase(PARTICLE_FILTERING, BEST_OF_N, N),
    gainCase(PARTICLE_FILTERING_WM, BEST_OF_N, N),
    pruningCase,
    allocationCase,
  ],
});

await runAndWrite(definition, quick ? { write: false } : {});
lm.dispose();
prmModel.dispose();
