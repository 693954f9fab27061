/**
 * Benchmark of @hasten/scaling's diffusion strategies on the glyph models (real models, CPU):
 * fixtures/glyph-unet (class-conditional ε-prediction UNet, 32x32 glyphs in [−1, 1]) sampled at guidance
 * scale 1 (plain conditional sampling, no classifier-free guidance: one denoiser call per NFE, and room
 * for search to raise the reward), and the reward
 *   r(x) = log p_classifier(target class | clamp(x, −1, 1))
 * from fixtures/glyph-classifier (the trained glyph CNN, 98% held-out-font accuracy), read on the final
 * image (noise search, DTS leaves) and on the Tweedie estimate x̂0 of partial states (FK steering,
 * rollover budget forcing). Sampling follows the diffusion package's glyph bench (the same models,
 * schedulers and `sample()` loop; packages/diffusion/bench/glyphs.ts).
 *
 * Reward against NFE (budgets 1x, 4x, 8x, 16x the NFE of one sample, STEPS = 8 steps per sample) for a
 * few target classes at fixed seeds:
 *  - over initial noises with DPM-Solver++ 2M (deterministic, `diffusionNoiseProposer`): random search
 *    (best-of-N, the baseline), zero-order search and EvoSearch. Each is run once at 16x; its result at a
 *    smaller budget B is its best sample among those it had generated when B NFE were spent, which is
 *    what a run at budget B returns (same seed, same draws; asserted on the first class against real runs);
 *  - step-wise with DDPM (stochastic, `diffusionProposer`, one NFE per step): FK steering (k particles =
 *    k× NFE), diffusion tree sampling (DTS) and DTS★ (greedy), rollover budget forcing, each run at its
 *    budget.
 * Search over paths (1 start step, re-noise 1 step and denoise 2, 2 branches per chain) keeps
 * ⌊B / 29⌋ chains at budget B (29 NFE take one chain to the end), so it spends ~90% of B.
 *
 * Checks (cases; timed on the first class, quality from the table over all classes): EvoSearch vs random
 * search at 16x; DTS★ and DTS at ⌊16x/5⌋ NFE vs random search's best at 16x; FK steering (8 particles)
 * vs random search at 8x.
 *
 *   npm run bench:glyphs -w @hasten/scaling -- [--quick] [--classes N]
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DDPMScheduler, DPMSolverMultistepScheduler, fullForward } from '@hasten/diffusion';
import { loadGlyphClassifier, loadUNet } from '@hasten/diffusion/node';
import { defineBenchmark, defineCase, type Series } from '@hasten/eval';
import { runAndWrite } from '@hasten/eval/node';
import { diffusionNoiseProposer, diffusionProposer, tweedieReward } from '../src/adapters/index';
import {
  bestCandidate,
  diffusionTreeSampling,
  diffusionTreeSearch,
  evoSearch,
  fkSteering,
  randomSearch,
  rolloverBudgetForcing,
  runStrategy,
  type Strategy,
  searchOverPaths,
  type Trace,
  zeroOrderSearch,
} from '../src/index';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, classes: { type: 'string' } },
});
const quick = args.quick;
const ALL_CLASSES = [2, 5, 8, 10, 17, 27]; // '2', '5', '8', 'A', 'H', 'R'
const NCLASSES = args.classes ? Number(args.classes) : quick ? 1 : ALL_CLASSES.length;
if (!Number.isInteger(NCLASSES) || NCLASSES < 1 || NCLASSES > ALL_CLASSES.length)
  throw new Error(`--classes must be an integer 1..${ALL_CLASSES.length}, got ${args.classes}`);
const CLASSES = ALL_CLASSES.slice(0, NCLASSES);
const NAMES = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const STEPS = 8;
const GUIDANCE = 1;
const MULTS = quick ? [1, 4, 8] : [1, 4, 8, 16];
const TOP = MULTS.at(-1) as number;
const DTS_BUDGET = Math.floor((TOP * STEPS) / 5);

const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../fixtures');
const unet = await loadUNet(join(FIXTURES, 'glyph-unet'));
const classifier = await loadGlyphClassifier(join(FIXTURES, 'glyph-classifier'));
const denoiser = fullForward(unet);
const dim = unet.sampleSize;

/** log p(target | clamp(x, −1, 1)) from the glyph classifier. */
function reward(target: number) {
  return (x: Float64Array) => {
    const img = x.map((v) => Math.max(-1, Math.min(1, v)));
    const lp = classifier.logProbs(img);
    return lp.data[target];
  };
}

const noiseProposer = (cls: number) =>
  diffusionNoiseProposer({
    scheduler: () => new DPMSolverMultistepScheduler(),
    denoiser,
    steps: STEPS,
    dim,
    cond: cls,
    guidanceScale: GUIDANCE,
  });
const stepProposer = (cls: number) =>
  diffusionProposer({
    scheduler: () => new DDPMScheduler({ timestepSpacing: 'trailing', clipSample: false }),
    denoiser,
    steps: STEPS,
    dim,
    cond: cls,
    guidanceScale: GUIDANCE,
  });

const seedOf = (i: number) => 1000 + i;
type AnyTrace = Trace<unknown>;
/** Reward of the strategy's selected candidate. */
const selectedReward = (t: AnyTrace) => bestCandidate(t)?.score as number;

/** Best reward among the first `count` noise candidates (in generation order). */
const bestOfFirst = (t: AnyTrace, count: number) =>
  Math.max(...t.candidates.slice(0, count).map((c) => c.score as number));

// Noise-search settings: samples generated by the time B NFE (= m samples) are spent.
const ZO = { neighbors: 4, radius: 8 };
const EVO = { population: 4, elites: 1 };
const noiseStrategies: Record<
  string,
  { make: (cls: number, budget: number) => Strategy<unknown>; samplesAt: (m: number) => number; min: number }
> = {
  'random search (best-of-N noises, baseline)': {
    make: (cls, budget) =>
      randomSearch({ proposer: noiseProposer(cls), scorer: reward(cls), budget }) as Strategy<unknown>,
    samplesAt: (m) => m,
    min: 1,
  },
  [`zero-order search (${ZO.neighbors} neighbours, radius ${ZO.radius})`]: {
    make: (cls, budget) =>
      zeroOrderSearch({
        proposer: noiseProposer(cls),
        scorer: reward(cls),
        budget,
        ...ZO,
      }) as Strategy<unknown>,
    samplesAt: (m) => 1 + ZO.neighbors * Math.floor((m - 1) / ZO.neighbors),
    min: 1,
  },
  [`EvoSearch (population ${EVO.population}, ${EVO.elites} elite)`]: {
    make: (cls, budget) =>
      evoSearch({ proposer: noiseProposer(cls), scorer: reward(cls), budget, ...EVO }) as Strategy<unknown>,
    samplesAt: (m) =>
      EVO.population +
      (EVO.population - EVO.elites) * Math.floor((m - EVO.population) / (EVO.population - EVO.elites)),
    min: EVO.population,
  },
};
const RANDOM = 'random search (best-of-N noises, baseline)';
const EVO_NAME = `EvoSearch (population ${EVO.population}, ${EVO.elites} elite)`;

const FK = { potential: 'difference' as const, lambda: 2 };
const RBF_INIT = 4;
const SOP = { branches: 2, startSteps: 1, forward: 1, backward: 2 };
const stepStrategies: Record<string, (cls: number, nfe: number) => Strategy<unknown> | null> = {
  [`FK steering (difference potential, λ ${FK.lambda}; k particles = k× NFE)`]: (cls, nfe) =>
    fkSteering({
      proposer: stepProposer(cls),
      scorer: tweedieReward(reward(cls)) as never,
      budget: nfe / STEPS,
      ...FK,
    }) as Strategy<unknown>,
  'DTS (diffusion tree sampling, λ 1, 4 children)': (cls, nfe) =>
    diffusionTreeSampling({
      proposer: stepProposer(cls),
      scorer: tweedieReward(reward(cls)),
      budget: nfe,
    }) as Strategy<unknown>,
  'DTS★ (greedy tree search, 4 children)': (cls, nfe) =>
    diffusionTreeSearch({
      proposer: stepProposer(cls),
      scorer: tweedieReward(reward(cls)),
      budget: nfe,
    }) as Strategy<unknown>,
  [`rollover budget forcing (${RBF_INIT} initial particles)`]: (cls, nfe) =>
    nfe - RBF_INIT < STEPS
      ? null
      : (rolloverBudgetForcing({
          proposer: stepProposer(cls),
          scorer: tweedieReward(reward(cls)),
          budget: nfe,
          initParticles: RBF_INIT,
          steps: STEPS,
        }) as Strategy<unknown>),
  'search over paths (⌊B/29⌋ chains, 2 branches, re-noise 1 / denoise 2 steps)': (cls, nfe) => {
    const per = 1 + (STEPS - 1) * SOP.branches * SOP.backward;
    const chains = Math.floor(nfe / per);
    return chains < 1
      ? null
      : (searchOverPaths({
          proposer: stepProposer(cls),
          scorer: tweedieReward(reward(cls)),
          budget: nfe,
          chains,
          ...SOP,
        }) as Strategy<unknown>);
  },
};
const FK_NAME = Object.keys(stepStrategies)[0];
const DTS_NAME = 'DTS (diffusion tree sampling, λ 1, 4 children)';
const DTSG_NAME = 'DTS★ (greedy tree search, 4 children)';
/** Step-wise budgets (multiples); the top one is left out (CPU time), DTS also at ⌊16x/5⌋. */
const STEP_MULTS = quick ? [1, 4] : [1, 4, 8];

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
/** table[strategy][nfe] = reward per class. */
const table: Record<string, Map<number, number[]>> = {};
const put = (name: string, nfe: number, v: number) => {
  table[name] ??= new Map();
  const m = table[name];
  if (!m.has(nfe)) m.set(nfe, []);
  (m.get(nfe) as number[]).push(v);
};
let prefixChecked = 0;
for (const [ci, cls] of CLASSES.entries()) {
  for (const [name, s] of Object.entries(noiseStrategies)) {
    const trace = await runStrategy(s.make(cls, TOP * STEPS), { seed: seedOf(ci) });
    for (const m of MULTS) {
      if (m < s.min) continue;
      const count = s.samplesAt(m);
      const v = bestOfFirst(trace, count);
      put(name, m * STEPS, v);
      // The prefix of the 16x run is the run at the smaller budget: checked on the first class.
      if (ci === 0 && m === 4 && m < TOP) {
        const real = await runStrategy(s.make(cls, m * STEPS), { seed: seedOf(ci) });
        if (selectedReward(real) !== v || real.candidates.length !== count)
          throw new Error(`${name}: the ${m}x prefix of the ${TOP}x run differs from a ${m}x run`);
        prefixChecked++;
      }
    }
    console.error(`class ${NAMES[cls]} ${name}: ${elapsed()}`);
  }
  for (const [name, make] of Object.entries(stepStrategies)) {
    const budgets = STEP_MULTS.map((m) => m * STEPS);
    if (name === DTS_NAME || name === DTSG_NAME) budgets.push(DTS_BUDGET, TOP * STEPS);
    for (const nfe of [...new Set(budgets)].sort((a, b) => a - b)) {
      const s = make(cls, nfe);
      if (!s) continue;
      const trace = await runStrategy(s, { seed: seedOf(ci) });
      put(name, nfe, selectedReward(trace));
    }
    console.error(`class ${NAMES[cls]} ${name}: ${elapsed()}`);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const at = (name: string, nfe: number) => {
  const xs = table[name]?.get(nfe);
  return xs ? mean(xs) : Number.NaN;
};
const allNfe = [...new Set(Object.values(table).flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
const f = (v: number) => (Number.isNaN(v) ? '' : v.toFixed(3));
const lines = [
  `| strategy (glyph UNet, CFG ${GUIDANCE}, ${STEPS} steps; mean log p(target) over ${CLASSES.length} classes) | ${allNfe.map((n) => `${n} NFE`).join(' | ')} |`,
  `|---|${allNfe.map(() => '---:').join('|')}|`,
  ...Object.keys(table).map((name) => `| ${name} | ${allNfe.map((n) => f(at(name, n))).join(' | ')} |`),
];
console.log(lines.join('\n'));
console.log(
  `table: ${elapsed()}; classes ${CLASSES.map((c) => NAMES[c]).join(' ')}; prefix checks ${prefixChecked}`,
);

const series: Series[] = [
  {
    kind: 'accuracy-vs-budget',
    name: 'glyph-reward-vs-nfe',
    title: `glyph UNet (CFG ${GUIDANCE}, ${STEPS} steps) + glyph classifier: mean log p(target class) against NFE over ${CLASSES.length} target classes`,
    xLabel: 'NFE (denoiser calls)',
    yLabel: 'mean log p(target | image)',
    xScale: 'log',
    lines: Object.entries(table).map(([label, m]) => ({
      label,
      points: [...m.keys()].sort((a, b) => a - b).map((x) => ({ x, y: at(label, x) })),
    })),
  },
];

const TOPN = TOP * STEPS;
const randomBest = at(RANDOM, TOPN);
/** Timed cases: one run of each side on the first class; quality from the table. */
const timedRun = (s: () => Strategy<unknown> | null) => async () => {
  const strategy = s();
  if (!strategy) throw new Error('no strategy at this budget');
  return selectedReward(await runStrategy(strategy, { seed: seedOf(0) }));
};
const c0 = CLASSES[0];
const evoWins = MULTS.filter((m) => m >= EVO.population).map((m) => ({
  m,
  evo: at(EVO_NAME, m * STEPS),
  rnd: at(RANDOM, m * STEPS),
}));
const evoCase = defineCase<number>({
  name: `glyph UNet + classifier reward: EvoSearch vs random search (best-of-N noises) at equal NFE (${TOPN})`,
  baselineLabel: `random search, ${TOPN} NFE`,
  methodLabel: `EvoSearch, ${TOPN} NFE`,
  baseline: timedRun(() => noiseStrategies[RANDOM].make(c0, TOPN)),
  method: timedRun(() => noiseStrategies[EVO_NAME].make(c0, TOPN)),
  work: { amount: TOPN, unit: 'NFE' },
  quality: () => ({
    metric: `mean log p(target) gain over ${CLASSES.length} classes at ${TOPN} NFE (${evoWins.map((w) => `${w.m * STEPS} NFE: ${w.rnd.toFixed(3)} → ${w.evo.toFixed(3)}`).join('; ')})`,
    value: at(EVO_NAME, TOPN) - randomBest,
    pass: evoWins.every((w) => w.evo >= w.rnd) && at(EVO_NAME, TOPN) > randomBest,
    threshold: '> 0 at the top budget, ≥ 0 at every equal budget',
  }),
});
const dtsCase = (name: string, label: string) =>
  defineCase<number>({
    name: `glyph UNet + classifier reward: ${label} at ${DTS_BUDGET} NFE vs random search (best-of-N noises) at ${TOPN} NFE`,
    baselineLabel: `random search, ${TOPN} NFE`,
    methodLabel: `${label}, ${DTS_BUDGET} NFE`,
    baseline: timedRun(() => noiseStrategies[RANDOM].make(c0, TOPN)),
    method: timedRun(() => stepStrategies[name](c0, DTS_BUDGET)),
    work: { amount: 1, unit: 'searches' },
    quality: () => {
      const per = (table[name].get(DTS_BUDGET) as number[]).filter(
        (v, i) => v >= (table[RANDOM].get(TOPN) as number[])[i],
      ).length;
      return {
        metric: `mean log p(target) of ${label} at ${DTS_BUDGET} NFE (≤ 1/5 of ${TOPN}) minus random search's at ${TOPN} (${at(name, DTS_BUDGET).toFixed(3)} vs ${randomBest.toFixed(3)}; reached on ${per}/${CLASSES.length} classes)`,
        value: at(name, DTS_BUDGET) - randomBest,
        pass: at(name, DTS_BUDGET) >= randomBest,
        threshold: '>= 0',
      };
    },
  });
const FK_K = STEP_MULTS.at(-1) as number;
const fkCase = defineCase<number>({
  name: `glyph UNet + classifier reward: FK steering (${FK_K} particles) vs random search (best-of-N noises) at ${FK_K * STEPS} NFE`,
  baselineLabel: `random search, ${FK_K * STEPS} NFE`,
  methodLabel: `FK steering, ${FK_K} particles (${FK_K * STEPS} NFE)`,
  baseline: timedRun(() => noiseStrategies[RANDOM].make(c0, FK_K * STEPS)),
  method: timedRun(() => stepStrategies[FK_NAME](c0, FK_K * STEPS)),
  work: { amount: FK_K * STEPS, unit: 'NFE' },
  quality: () => ({
    metric: `mean log p(target) gain over ${CLASSES.length} classes at ${FK_K * STEPS} NFE (${at(RANDOM, FK_K * STEPS).toFixed(3)} → ${at(FK_NAME, FK_K * STEPS).toFixed(3)})`,
    value: at(FK_NAME, FK_K * STEPS) - at(RANDOM, FK_K * STEPS),
    pass: at(FK_NAME, FK_K * STEPS) >= at(RANDOM, FK_K * STEPS),
    threshold: '>= 0',
  }),
});

const definition = defineBenchmark({
  package: 'scaling',
  name: 'glyphs',
  description: `Diffusion test-time search on fixtures/glyph-unet (guidance scale ${GUIDANCE}, ${STEPS} steps: DPM-Solver++ 2M over noises, DDPM step-wise) with the reward log p(target class | image) of fixtures/glyph-classifier (final image; Tweedie x̂0 on partial states), target classes ${CLASSES.map((c) => NAMES[c]).join(', ')} at fixed seeds: mean reward against NFE for ${Object.keys(table).join(', ')}.`,
  warmup: 0,
  repeats: 1,
  environment: { backend: 'cpu' },
  series,
  cases: [evoCase, dtsCase(DTSG_NAME, 'DTS★'), dtsCase(DTS_NAME, 'DTS'), fkCase],
});

await runAndWrite(definition, quick ? { write: false } : {});
