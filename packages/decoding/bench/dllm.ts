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
 *   decoding (arXiv 2505.21467's guided diffusion as read in src/dllm/ar-guided.ts: an autoregressive
 *   guide, below, checks the proposals; its forwards are in the wall time) alone, with end-of-text
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
 *
 * The AR guide is the model's own kind: `code-target` for code-mdlm, `arith-lm` for arith-mdlm (a causal
 * arithmetic LM over the same byte tokenizer, from which arith-mdlm was adapted; trained on its own
 * answer format, one reduction step per line where arith-mdlm joins them by `=`); the case names say
 * which. arith-lm's AR-guided cases run twice: on arith-mdlm's prompt and, `prompt + newline`, on
 * arith-lm's own prompt format (the prompt and a newline). The AR-guided cases are left out (with a note) when the guide's context cannot hold a row
 * (arith-lm: 128 positions, so not at generation length 256).
 *
 * `--task infill` (code-mdlm only): code infilling on the held-out CPython files instead of arithmetic
 * (bench/dllm-infill.ts: seeded spans of `--gen` bytes, default 16, ending at a line end, with 128
 * bytes of prefix and 64 of suffix, 208 positions, inside the 256-byte windows code-mdlm was trained
 * on); the suffix goes to generateDiffusion's `suffix` option; one block of the span's length unless
 * `--block`. Quality: exact match of the span and byte accuracy (share of the span's bytes right),
 * each at most 1 point below the baseline's; edit similarity beside them. No block diffusion cases
 * (block-causal attention cannot read a suffix). Results in dllm-infill.json.
 *
 *   npm run bench:dllm -w @hasten/decoding -- [--quick] [--task arithmetic|infill] [--model code-mdlm|arith-mdlm] [--problems N] [--gen N] [--block N] [--operations N] [--only SUBSTRING[|SUBSTRING...]] [--no-write]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { arithmeticTask, checkArithmetic, defineBenchmark, defineCase } from '@hasten/eval';
import { findRepoRoot, loadHeldoutFiles, runAndWrite } from '@hasten/eval/node';
import { loadCausalLM, loadMaskedDiffusionLM } from '@hasten/models/node';
import { type DiffusionOptions, generateDiffusion, parseLearn2pdFilter } from '../src/index';
import { infillProblems, scoreInfill } from './dllm-infill';

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
    task: { type: 'string', default: 'arithmetic' },
  },
});
const TASKS = ['arithmetic', 'infill'] as const;
const TASK = args.task as (typeof TASKS)[number];
if (!TASKS.includes(TASK)) throw new Error(`--task must be one of ${TASKS.join(', ')}, got ${args.task}`);
const INFILL = TASK === 'infill';
const MODELS = ['code-mdlm', 'arith-mdlm'] as const;
const MODEL = args.model as (typeof MODELS)[number];
if (!MODELS.includes(MODEL))
  throw new Error(`--model must be one of ${MODELS.join(', ')}, got ${args.model}`);
if (INFILL && MODEL !== 'code-mdlm') throw new Error(`--task infill needs --model code-mdlm, got ${MODEL}`);
const quick = args.quick;
const PROBLEMS = Number(args.problems ?? (quick ? 4 : 20));
const GEN = Number(args.gen ?? (INFILL ? 16 : quick ? 64 : 256));
const BLOCK = Number(args.block ?? (INFILL ? GEN : 32));
/** Infilling: bytes of context before and after the span. */
const INFILL_PREFIX = 128;
const INFILL_SUFFIX = 64;
const OPERATIONS = Number(args.operations ?? 2);
for (const [k, v] of Object.entries({ problems: PROBLEMS, gen: GEN, block: BLOCK, operations: OPERATIONS })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer, got ${v}`);
}
if (GEN % BLOCK !== 0) throw new Error(`--block ${BLOCK} must divide --gen ${GEN}`);

const BOS = 256;
const model = await loadMaskedDiffusionLM(join(findRepoRoot(), 'fixtures', MODEL));
// Block diffusion (code-bdlm, a fine-tune of code-mdlm) only beside its own base model.
const bdlm =
  MODEL === 'code-mdlm' && !INFILL
    ? await loadMaskedDiffusionLM(join(findRepoRoot(), 'fixtures', 'code-bdlm'))
    : null;
// Learn2PD's filter is trained on one model's decoding traces: only the model's own.
const learn2pdPath = join(findRepoRoot(), 'fixtures', MODEL, 'learn2pd.json');
const learn2pdFilter = existsSync(learn2pdPath)
  ? parseLearn2pdFilter(JSON.parse(readFileSync(learn2pdPath, 'utf8')))
  : null;
// The AR guide of the AR-guided cases: a causal LM of the diffusion model's task over the same tokenizer.
const GUIDE = MODEL === 'arith-mdlm' ? 'arith-lm' : 'code-target';
const arModel = await loadCausalLM(join(findRepoRoot(), 'fixtures', GUIDE));
const decoder = new TextDecoder();

/** One problem: the prompt, the suffix (infilling) and how a generated row scores. */
interface Problem {
  prompt: number[];
  suffix?: number[];
  score(canvas: number[], text: string): { pass: boolean; byteAccuracy: number; editSimilarity: number };
}
const problems: Problem[] = INFILL
  ? infillProblems(loadHeldoutFiles(), {
      seed: 0,
      count: PROBLEMS,
      prefixLength: INFILL_PREFIX,
      spanLength: GEN,
      suffixLength: INFILL_SUFFIX,
    }).map((p) => ({
      prompt: p.prefix,
      suffix: p.suffix,
      score: (canvas) => {
        const s = scoreInfill(p, canvas);
        return { pass: s.exact, byteAccuracy: s.byteAccuracy, editSimilarity: s.editSimilarity };
      },
    }))
  : arithmeticTask({ seed: 0, count: PROBLEMS, operations: OPERATIONS }).items.map((it) => ({
      prompt: [BOS, ...new TextEncoder().encode(it.prompt)],
      score: (_canvas, text) => ({
        pass: checkArithmetic(it, text).pass,
        byteAccuracy: 0,
        editSimilarity: 0,
      }),
    }));
const longestRow = Math.max(...problems.map((p) => p.prompt.length + (p.suffix?.length ?? 0))) + GEN;

interface Out {
  correct: number;
  byteAccuracy: number;
  editSimilarity: number;
  forwards: number;
  positions: number;
  answers: string[];
}

/** A method: its label, its options, and tokens appended to every prompt (the AR guide's prompt format). */
type Method = [string, Partial<DiffusionOptions>, number[]?];

async function solve(extra: Partial<DiffusionOptions>, m = model, promptEnd: number[] = []): Promise<Out> {
  const out: Out = { correct: 0, byteAccuracy: 0, editSimilarity: 0, forwards: 0, positions: 0, answers: [] };
  for (const p of problems) {
    const r = await generateDiffusion(m, {
      prompt: [...p.prompt, ...promptEnd],
      ...(p.suffix ? { suffix: p.suffix } : {}),
      genLength: GEN,
      blockLength: BLOCK,
      ...extra,
    });
    const { canvas, tokens } = r.rows[0];
    const text = decoder.decode(Uint8Array.from(tokens.filter((t) => t < 256)));
    // Infilling compares the whole span (special tokens included); arithmetic the decoded answer.
    out.answers.push(INFILL ? canvas.join(',') : text);
    const s = p.score(canvas, text);
    if (s.pass) out.correct++;
    out.byteAccuracy += s.byteAccuracy;
    out.editSimilarity += s.editSimilarity;
    out.forwards += r.stats.forwards;
    out.positions += r.stats.decodedTokens + r.stats.filledTokens;
  }
  return out;
}

const baseline = () => solve({ steps: GEN, eosFill: false });
const quality = (base: Out, m: Out) => {
  const n = problems.length;
  const accB = base.correct / n;
  const accM = m.correct / n;
  // Beside accuracy (which a weak fixture leaves at 0 on both sides): how often the method writes
  // exactly the baseline's text.
  const same = m.answers.filter((a, i) => a === base.answers[i]).length;
  const speed = `tokens per forward ${(base.positions / base.forwards).toFixed(2)} -> ${(m.positions / m.forwards).toFixed(2)}; forwards ${base.forwards} -> ${m.forwards}`;
  if (!INFILL) {
    return {
      metric: `arithmetic accuracy (baseline ${accB.toFixed(3)}, method ${accM.toFixed(3)}); text identical to the baseline's ${same}/${n}; ${speed}`,
      value: accM,
      pass: accM >= accB - 0.01,
      threshold: '>= baseline accuracy - 0.01',
    };
  }
  const byteB = base.byteAccuracy / n;
  const byteM = m.byteAccuracy / n;
  return {
    metric: `infill exact match (baseline ${accB.toFixed(3)}, method ${accM.toFixed(3)}); byte accuracy (baseline ${byteB.toFixed(3)}, method ${byteM.toFixed(3)}); edit similarity (baseline ${(base.editSimilarity / n).toFixed(3)}, method ${(m.editSimilarity / n).toFixed(3)}); span identical to the baseline's ${same}/${n}; ${speed}`,
    value: accM,
    pass: accM >= accB - 0.01 && byteM >= byteB - 0.01,
    threshold: '>= baseline exact match - 0.01 and >= baseline byte accuracy - 0.01',
  };
};

const learn2pdMethods: Method[] = learn2pdFilter
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
// The guide reads the prompt and the generated positions (not the infilling suffix): its context must hold them.
const guideFits = longestRow + 1 <= arModel.config.contextLength;
if (!guideFits) {
  console.warn(
    `dllm bench: AR-guided cases left out: ${GUIDE}'s context (${arModel.config.contextLength}) cannot hold rows of ${longestRow} positions`,
  );
}
const arGuided = (tag: string, end?: number[]): Method[] => [
  [`AR-guided (${GUIDE} greedy check${tag})`, { commit: 'ar-guided', arModel, eosFill: false }, end],
  [`AR-guided (${GUIDE}${tag}) + eos-fill`, { commit: 'ar-guided', arModel }, end],
  [
    `AR-guided (${GUIDE}, fallback dllm${tag}) + eos-fill`,
    { commit: 'ar-guided', arModel, arFallback: 'dllm' },
    end,
  ],
];
// arith-lm was trained on `<bos>` prompt `\n` with one reduction step per line, arith-mdlm on `<bos>`
// prompt with the steps joined by `=`: given arith-mdlm's prompt, arith-lm writes out of its format (a
// digit and <eos>), so its rows are run twice, with the diffusion prompt and with the guide's own
// (the prompt and a newline; the guided text is then arith-lm's format, scored by its last integer).
const arGuidedMethods: Method[] = !guideFits
  ? []
  : GUIDE === 'arith-lm'
    ? [...arGuided(''), ...arGuided(', prompt + newline', [10])]
    : arGuided('');
const methods: Method[] = [
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
  ...arGuidedMethods,
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

const only = args.only?.split('|').filter((o) => o.length > 0);
const TASK_LABEL = INFILL
  ? `infill span ${GEN} (prefix ${INFILL_PREFIX}, suffix ${INFILL_SUFFIX})`
  : `arithmetic gen ${GEN}`;
const definition = defineBenchmark({
  package: 'decoding',
  name: INFILL ? 'dllm-infill' : MODEL === 'code-mdlm' ? 'dllm' : `dllm-${MODEL}`,
  description: INFILL
    ? `masked diffusion decoding of ${MODEL} on ${PROBLEMS} code infilling problems (held-out CPython files, seed 0; spans of ${GEN} bytes ending at a line end, ${INFILL_PREFIX} bytes of prefix and ${INFILL_SUFFIX} of suffix), blocks of ${BLOCK}; AR guide ${GUIDE}; baseline LLaDA one token per step`
    : `masked diffusion decoding of ${MODEL}${bdlm ? ' (and block diffusion of code-bdlm)' : ''} on ${PROBLEMS} arithmetic problems (${OPERATIONS} operations, seed 0), generation length ${GEN}, blocks of ${BLOCK}; AR guide ${GUIDE}; baseline LLaDA one token per step`,
  warmup: 0,
  repeats: 1,
  // --only SUBSTRING: the methods whose label or model (code-mdlm / arith-mdlm, code-bdlm) contains it;
  // several substrings separated by '|': those that contain any of them
  // (each still against its own baseline run).
  cases: [
    ...methods.map(([label, extra, end]) => ({
      label,
      extra,
      end,
      name: MODEL as string,
      m: model,
      base: baseline,
    })),
    ...(bdlm
      ? blockMethods.map(([label, extra]) => ({
          label,
          extra,
          name: 'code-bdlm',
          m: bdlm,
          end: undefined,
          base: () => solve({ steps: GEN, eosFill: false }, bdlm),
        }))
      : []),
  ]
    .filter(({ label, name }) => !only || only.some((o) => label.includes(o) || name.includes(o)))
    .map(({ label, extra, end, name, m, base }) =>
      defineCase<Out>({
        name: `${label} vs LLaDA 1 token/step, ${name}, ${TASK_LABEL}`,
        baselineLabel: 'LLaDA 1 token/step',
        methodLabel: label,
        baseline: base,
        method: () => solve(extra, m, end),
        quality,
        work: { amount: PROBLEMS * GEN, unit: 'tokens' },
      }),
    ),
});
await runAndWrite(definition, args['no-write'] || quick ? { write: false } : {});
model.dispose();
bdlm?.dispose();
arModel.dispose();
