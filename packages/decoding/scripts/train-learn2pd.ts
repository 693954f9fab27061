/**
 * Rebuilds fixtures/code-mdlm/learn2pd.json, Learn2PD's commit filter for the code-mdlm fixture
 * (arXiv 2509.25188; src/dllm/learn2pd.ts, learn2pd-train.ts):
 *
 * 1. traces: LLaDA greedy low-confidence decoding at one token per step (gen 64, blocks of 32, no
 *    early stop) of @hasten/eval arithmetic items with seeds 1 and 2 (1 and 2 operations), every
 *    item whose prompt is among the first 1000 seed-0 items (the bench's and the fixture's
 *    evaluation seed) left out;
 * 2. problems split 4:1 into training and validation; a 16-unit tanh MLP trained with full-batch
 *    Adam (seed 0);
 * 3. tau: the smallest of 0.50, 0.51, ..., 0.99 whose validation commits are final with precision
 *    >= 0.99.
 * Deterministic: the same fixture gives the same file. About 3 minutes on one CPU core.
 *
 *   npm run train:learn2pd -w @hasten/decoding -- [--problems N] [--out PATH]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { arithmeticTask } from '@hasten/eval';
import { findRepoRoot } from '@hasten/eval/node';
import { loadMaskedDiffusionLM } from '@hasten/models/node';
import {
  chooseLearn2pdThreshold,
  evaluateLearn2pdFilter,
  learn2pdTrace,
  parseLearn2pdFilter,
  trainLearn2pdFilter,
} from '../src/index';

const { values: args } = parseArgs({
  options: { problems: { type: 'string' }, out: { type: 'string' } },
});
const PROBLEMS = Number(args.problems ?? 24);
if (!Number.isInteger(PROBLEMS) || PROBLEMS < 5) throw new Error(`--problems must be an integer >= 5`);
const root = findRepoRoot();
const OUT = args.out ?? join(root, 'fixtures', 'code-mdlm', 'learn2pd.json');
const GEN = 64;
const BLOCK = 32;
const BOS = 256;
const EOS = 257;
const PRECISION = 0.99;

const heldOut = new Set(
  [1, 2, 3].flatMap((operations) =>
    arithmeticTask({ seed: 0, count: 1000, operations }).items.map((it) => it.prompt),
  ),
);
const items = [
  ...arithmeticTask({ seed: 1, count: 4 * PROBLEMS, operations: 1 }).items,
  ...arithmeticTask({ seed: 2, count: 4 * PROBLEMS, operations: 2 }).items,
].filter((it) => !heldOut.has(it.prompt));
// Alternate one- and two-operation items.
const ones = items.filter((_, i) => i < 4 * PROBLEMS);
const twos = items.filter((_, i) => i >= 4 * PROBLEMS);
const chosen = Array.from({ length: PROBLEMS }, (_, i) => (i % 2 === 0 ? ones : twos)[Math.floor(i / 2)]);
if (chosen.some((it) => it === undefined)) throw new Error('not enough training items outside seed 0');

const model = await loadMaskedDiffusionLM(join(root, 'fixtures', 'code-mdlm'));
const train = { X: [] as Float64Array[], y: [] as number[] };
const valid = { X: [] as Float64Array[], y: [] as number[] };
const t0 = performance.now();
for (let i = 0; i < chosen.length; i++) {
  const prompt = [BOS, ...new TextEncoder().encode(chosen[i].prompt)];
  const t = await learn2pdTrace(model, prompt, { genLength: GEN, blockLength: BLOCK, eos: EOS });
  const into = i % 5 === 4 ? valid : train;
  into.X.push(...t.features);
  into.y.push(...t.labels);
  process.stdout.write(`trace ${i + 1}/${chosen.length}: ${t.features.length} rows\n`);
}
model.dispose();
const traceMs = performance.now() - t0;
const t1 = performance.now();
const filter = trainLearn2pdFilter(train.X, train.y, {
  hidden: 16,
  epochs: 400,
  learningRate: 0.05,
  seed: 0,
});
const trainMs = performance.now() - t1;
const tau = chooseLearn2pdThreshold(filter, valid.X, valid.y, PRECISION);
filter.threshold = tau.threshold;
const fit = evaluateLearn2pdFilter(filter, train.X, train.y);
const val = evaluateLearn2pdFilter(filter, valid.X, valid.y);
const positives = (y: number[]) => y.reduce((s, v) => s + v, 0) / y.length;
filter.training = {
  script: 'packages/decoding/scripts/train-learn2pd.ts',
  traces: `LLaDA greedy low-confidence, 1 token/step, gen ${GEN}, block ${BLOCK}, no eos-fill, on code-mdlm`,
  data: `@hasten/eval arithmetic seeds 1 (1 operation) and 2 (2 operations), ${PROBLEMS} problems, seed-0 prompts excluded`,
  rows: { train: train.y.length, valid: valid.y.length },
  finalShare: { train: round(positives(train.y)), valid: round(positives(valid.y)) },
  optimizer: 'full-batch Adam, lr 0.05, 400 epochs, l2 1e-4, seed 0',
  train: { loss: round(fit.loss), accuracy: round(fit.accuracy) },
  valid: { loss: round(val.loss), accuracy: round(val.accuracy) },
  threshold: {
    rule: `smallest tau in 0.50..0.99 with validation precision >= ${PRECISION}`,
    precision: round(tau.precision),
    passed: tau.passed,
  },
};
parseLearn2pdFilter(filter);
writeFileSync(OUT, `${JSON.stringify(filter, (_, v) => (typeof v === 'number' ? round(v, 8) : v), 2)}\n`);
// The repository's formatter (fixtures are formatted and linted like the code).
spawnSync('npx', ['biome', 'format', '--write', OUT], { cwd: root, stdio: 'ignore' });
console.log(
  `wrote ${OUT}: traces ${(traceMs / 1000).toFixed(1)} s, training ${(trainMs / 1000).toFixed(1)} s; ` +
    `train loss ${fit.loss.toFixed(4)} acc ${fit.accuracy.toFixed(4)}, valid loss ${val.loss.toFixed(4)} acc ${val.accuracy.toFixed(4)}; ` +
    `tau ${tau.threshold.toFixed(2)} (valid precision ${tau.precision.toFixed(4)}, ${tau.passed}/${valid.y.length} rows pass)`,
);

function round(v: number, digits = 4): number {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)) : v;
}
