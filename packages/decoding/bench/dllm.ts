/**
 * Masked diffusion decoding on the fixture `code-mdlm` (LLaDA-style, trained by
 * tools/fixtures/train_mdlm.py), on @hasten/eval's arithmetic task (seed 0 items, left out of the
 * training data), in one process:
 *
 * - baseline: LLaDA (arXiv 2502.09992) with one token per step (steps = genLength), low-confidence
 *   remasking, semi-autoregressive blocks of 32, no cache, no early stop;
 * - methods: Fast-dLLM (arXiv 2505.22618) confidence-threshold commits (0.9), alone, with the prefix
 *   cache and with the dual cache; the dual cache with end-of-text fill; and the factor rule;
 *   the caches dKV-Cache-Decode (arXiv 2505.15781), dLLM-Cache (arXiv 2506.06295) and
 *   Elastic-Cache (arXiv 2510.14973) alone at one token per step (what the cache costs in
 *   agreement) and Elastic-Cache under threshold commits (its paper's setting); LocalLeap's anchor
 *   commits (arXiv 2510.07081) alone and with the dual cache and end-of-text fill; Learn2PD's
 *   learned commit filter (arXiv 2509.25188; fixtures/code-mdlm/learn2pd.json at its stored tau,
 *   trained on other seeds) alone, with end-of-text fill, and with the dual cache too; AR-guided
 *   decoding (arXiv 2505.21467's guided diffusion as read in src/dllm/ar-guided.ts: the fixture
 *   code-target checks the proposals; its forwards are in the wall time) alone, with end-of-text
 *   fill, and with the diffusion model's own pick where the AR model disagrees at once.
 * - block diffusion on the fixture `code-bdlm` (block-causal, blocks of 32; train_mdlm.py
 *   --block-causal, BD3-LM arXiv 2503.09573; the SDAR / Fast-dLLM v2 arXiv 2509.26328 pattern): the
 *   prefix cache keeps the committed blocks' keys and values exactly (fast-dllm-cache.ts), alone at one
 *   token per step (same outputs as the baseline), with threshold commits (0.9), and with end-of-text
 *   fill; against LLaDA one token per step without cache on the same fixture (its own baseline).
 * Quality: accuracy of the method's answers (checkArithmetic: the last integer of the text) against
 * the baseline's, pass when it loses at most 1 point. The metric also states tokens per forward.
 * Speed: wall time of the same problems (so tokens/s ratio = speed-up, generated positions per second).
 *
 * `--model arith-mdlm` runs the masked diffusion cases on the fixture `arith-mdlm` instead (a smaller
 * LLaDA-style model adapted from arith-lm and trained on the arithmetic task alone: train_mdlm.py
 * --task arith --init-from fixtures/arith-lm; it solves a good share of the problems, so its
 * accuracy checks mean something: fixtures/arith-mdlm/README.md); its results go to dllm-arith-mdlm.json.
 * The block diffusion cases stay on code-bdlm and run only with the default model; the Learn2PD
 * cases run only where the model's fixture has its own learn2pd.json (code-mdlm has; arith-mdlm not).
 *
 *   npm run bench:dllm -w @hasten/decoding -- [--quick] [--model code-mdlm|arith-mdlm] [--problems N] [--gen N] [--block N] [--operations N] [--only SUBSTRING] [--no-write]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { arithmeticTask, checkArithmetic, defineBenchmark, defineCase } from '@hasten/eval';
import { findRepoRoot, runAndWrite } from '@hasten/eval/node';
import { loadCausalLM, loadMaskedDiffusionLM } from '@hasten/models/node';
import { type DiffusionOptions, generateDiffusion, parseLearn2pdFilter } from '../src/index';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    problems: { type: 'string' },
    gen: { type: 'string' },
    block: { type: 'string' },
    operations: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    only: { type: 'string' },
    model: { type: 'string', default: 'code-mdlm' },
  },
});
const MODELS = ['code-mdlm', 'arith-mdlm'] as const;
const MODEL = args.model as (typeof MODELS)[number];
if (!MODELS.includes(MODEL))
  throw new Error(`--model must be one of ${MODELS.join(', ')}, got ${args.model}`);
const quick = args.quick;
const PROBLEMS = Number(args.problems ?? (quick ? 4 : 20));
const GEN = Number(args.gen ?? (quick ? 64 : 256));
const BLOCK = Number(args.block ?? 32);
const OPERATIONS = Number(args.operations ?? 2);
for (const [k, v] of Object.entries({ problems: PROBLEMS, gen: GEN, block: BLOCK, operations: OPERATIONS })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer, got ${v}`);
}
if (GEN % BLOCK !== 0) throw new Error(`--block ${BLOCK} must divide --gen ${GEN}`);

const BOS = 256;
const model = await loadMaskedDiffusionLM(join(findRepoRoot(), 'fixtures', MODEL));
// Block diffusion (code-bdlm, a fine-tune of code-mdlm) only beside its own base model.
const bdlm =
  MODEL === 'code-mdlm' ? await loadMaskedDiffusionLM(join(findRepoRoot(), 'fixtures', 'code-bdlm')) : null;
// Learn2PD's filter is trained on one model's decoding traces: only the model's own.
const learn2pdPath = join(findRepoRoot(), 'fixtures', MODEL, 'learn2pd.json');
const learn2pdFilter = existsSync(learn2pdPath)
  ? parseLearn2pdFilter(JSON.parse(readFileSync(learn2pdPath, 'utf8')))
  : null;
const arModel = await loadCausalLM(join(findRepoRoot(), 'fixtures', 'code-target'));
const items = arithmeticTask({ seed: 0, count: PROBLEMS, operations: OPERATIONS }).items;
const prompts = items.map((it) => [BOS, ...new TextEncoder().encode(it.prompt)]);
const decoder = new TextDecoder();

interface Out {
  correct: number;
  forwards: number;
  positions: number;
  answers: string[];
}

async function solve(extra: Partial<DiffusionOptions>, m = model): Promise<Out> {
  const out: Out = { correct: 0, forwards: 0, positions: 0, answers: [] };
  for (let i = 0; i < items.length; i++) {
    const r = await generateDiffusion(m, {
      prompt: prompts[i],
      genLength: GEN,
      blockLength: BLOCK,
      ...extra,
    });
    const text = decoder.decode(Uint8Array.from(r.rows[0].tokens.filter((t) => t < 256)));
    out.answers.push(text);
    if (checkArithmetic(items[i], text).pass) out.correct++;
    out.forwards += r.stats.forwards;
    out.positions += r.stats.decodedTokens + r.stats.filledTokens;
  }
  return out;
}

const baseline = () => solve({ steps: GEN, eosFill: false });
const quality = (base: Out, m: Out) => {
  const accB = base.correct / items.length;
  const accM = m.correct / items.length;
  // Beside accuracy (which a weak fixture leaves at 0 on both sides): how often the method writes
  // exactly the baseline's text.
  const same = m.answers.filter((a, i) => a === base.answers[i]).length;
  return {
    metric: `arithmetic accuracy (baseline ${accB.toFixed(3)}, method ${accM.toFixed(3)}); text identical to the baseline's ${same}/${items.length}; tokens per forward ${(base.positions / base.forwards).toFixed(2)} -> ${(m.positions / m.forwards).toFixed(2)}; forwards ${base.forwards} -> ${m.forwards}`,
    value: accM,
    pass: accM >= accB - 0.01,
    threshold: '>= baseline accuracy - 0.01',
  };
};

const learn2pdMethods: [string, Partial<DiffusionOptions>][] = learn2pdFilter
  ? [
      [
        `Learn2PD (MLP filter, tau ${learn2pdFilter.threshold})`,
        { commit: 'learn2pd', learn2pdFilter, eosFill: false },
      ],
      [`Learn2PD (tau ${learn2pdFilter.threshold}) + eos-fill`, { commit: 'learn2pd', learn2pdFilter }],
      [
        `Learn2PD (tau ${learn2pdFilter.threshold}) + dual cache + eos-fill`,
        { commit: 'learn2pd', learn2pdFilter, cache: 'dual' },
      ],
    ]
  : [];
const methods: [string, Partial<DiffusionOptions>][] = [
  ['Fast-dLLM threshold 0.9', { commit: 'threshold', threshold: 0.9, eosFill: false }],
  [
    'Fast-dLLM threshold 0.9 + prefix cache',
    { commit: 'threshold', threshold: 0.9, cache: 'prefix', eosFill: false },
  ],
  [
    'Fast-dLLM threshold 0.9 + dual cache',
    { commit: 'threshold', threshold: 0.9, cache: 'dual', eosFill: false },
  ],
  ['Fast-dLLM threshold 0.9 + dual cache + eos-fill', { commit: 'threshold', threshold: 0.9, cache: 'dual' }],
  ['Fast-dLLM factor 1 + dual cache + eos-fill', { commit: 'factor', factor: 1, cache: 'dual' }],
  ['dKV-Cache-Decode (refresh 8), 1 token/step', { steps: GEN, cache: 'dkv', eosFill: false }],
  [
    'dLLM-Cache (K_p 100, K_r 7, rho 0.25), 1 token/step',
    { steps: GEN, cache: 'dllm-cache', eosFill: false },
  ],
  [
    'Elastic-Cache (gamma 0.9, window 16), 1 token/step',
    { steps: GEN, cache: 'elastic', window: 16, eosFill: false },
  ],
  [
    'Fast-dLLM threshold 0.9 + Elastic-Cache (gamma 0.9, window 16) + eos-fill',
    { commit: 'threshold', threshold: 0.9, cache: 'elastic', window: 16 },
  ],
  ['LocalLeap (anchor 0.9, local 0.7, radius 2)', { commit: 'local-leap', eosFill: false }],
  ['LocalLeap + dual cache + eos-fill', { commit: 'local-leap', cache: 'dual' }],
  ...learn2pdMethods,
  ['AR-guided (code-target greedy check)', { commit: 'ar-guided', arModel, eosFill: false }],
  ['AR-guided (code-target) + eos-fill', { commit: 'ar-guided', arModel }],
  ['AR-guided (code-target, fallback dllm) + eos-fill', { commit: 'ar-guided', arModel, arFallback: 'dllm' }],
];

// Block diffusion on code-bdlm; the prefix cache is exact there (committed blocks' keys and values are final).
const blockMethods: [string, Partial<DiffusionOptions>][] = [
  [
    'block diffusion + exact KV reuse (prefix cache), 1 token/step',
    { steps: GEN, cache: 'prefix', eosFill: false },
  ],
  [
    'block diffusion + exact KV reuse + Fast-dLLM threshold 0.9',
    { commit: 'threshold', threshold: 0.9, cache: 'prefix', eosFill: false },
  ],
  [
    'block diffusion + exact KV reuse + Fast-dLLM threshold 0.9 + eos-fill',
    { commit: 'threshold', threshold: 0.9, cache: 'prefix' },
  ],
];

const definition = defineBenchmark({
  package: 'decoding',
  name: MODEL === 'code-mdlm' ? 'dllm' : `dllm-${MODEL}`,
  description: `masked diffusion decoding of ${MODEL}${bdlm ? ' (and block diffusion of code-bdlm)' : ''} on ${PROBLEMS} arithmetic problems (${OPERATIONS} operations, seed 0), generation length ${GEN}, blocks of ${BLOCK}; baseline LLaDA one token per step`,
  warmup: 0,
  repeats: 1,
  // --only SUBSTRING: the methods whose label or model (code-mdlm / arith-mdlm, code-bdlm) contains it
  // (each still against its own baseline run).
  cases: [
    ...methods.map(([label, extra]) => ({ label, extra, name: MODEL as string, m: model, base: baseline })),
    ...(bdlm
      ? blockMethods.map(([label, extra]) => ({
          label,
          extra,
          name: 'code-bdlm',
          m: bdlm,
          base: () => solve({ steps: GEN, eosFill: false }, bdlm),
        }))
      : []),
  ]
    .filter(({ label, name }) => !args.only || label.includes(args.only) || name.includes(args.only))
    .map(({ label, extra, name, m, base }) =>
      defineCase<Out>({
        name: `${label} vs LLaDA 1 token/step, ${name}, arithmetic gen ${GEN}`,
        baselineLabel: 'LLaDA 1 token/step',
        methodLabel: label,
        baseline: base,
        method: () => solve(extra, m),
        quality,
        work: { amount: PROBLEMS * GEN, unit: 'tokens' },
      }),
    ),
});
await runAndWrite(definition, args['no-write'] || quick ? { write: false } : {});
model.dispose();
bdlm?.dispose();
arModel.dispose();
