/**
 * Speculative decoding against plain decoding of the same target, in one process, on the same
 * held-out code prompts (CPython files the fixtures never saw):
 *
 * - baseline: generate() (one target forward per token);
 * - methods: speculativeDecode() with a draft model (code-draft: K = 4, the adaptive length, and
 *   multi-draft 2 branches x 2 = the same 4 drafted tokens), prompt lookup, the n-gram trie (tree),
 *   Jacobi lookahead, and Medusa heads (trees of 15 and 63 candidates).
 * Greedy and at temperature 0.8, on the native model and on ONNX Runtime. Prompt lookup also runs on
 * "code editing" prompts, whose answer repeats a block of the context.
 * Quality: greedy cases check the tokens are identical to the baseline's; sampled cases report the
 * acceptance rate (the distribution itself is checked by the tests, chi-square).
 *
 *   npm run bench -w @hasten/decoding -- [--quick] [--only native|ort] [--new N] [--prompts N]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSafetensors } from '@hasten/core-tensor/node';
import { type BenchmarkCase, defineBenchmark, defineCase } from '@hasten/eval';
import { findRepoRoot, runAndWrite } from '@hasten/eval/node';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';
import {
  type Drafter,
  DraftModelDrafter,
  generate,
  LookaheadDrafter,
  MedusaDrafter,
  NgramTrieDrafter,
  PromptLookupDrafter,
  type SpeculativeResult,
  speculativeDecode,
} from '../src/index';
import { editing, heldout } from './prompts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    new: { type: 'string' },
    prompts: { type: 'string' },
  },
});
if (args.only !== undefined && !['native', 'ort'].includes(args.only)) {
  throw new Error(`--only must be native or ort, got '${args.only}'`);
}
const quick = args.quick;
const NEW = Number(args.new ?? (quick ? 48 : 96));
const PROMPTS = Number(args.prompts ?? (quick ? 2 : 3));
const ROOT = findRepoRoot();
const FIX = join(ROOT, 'fixtures');

async function medusa(): Promise<MedusaDrafter> {
  const dir = join(FIX, 'code-target-medusa');
  const choices = JSON.parse(readFileSync(join(dir, 'medusa_choices.json'), 'utf8')).trees['64'].choices;
  const reader = await openSafetensors(join(dir, 'medusa_heads.safetensors'));
  try {
    return await MedusaDrafter.fromSafetensors(reader, { choices });
  } finally {
    await reader.close();
  }
}

interface RunOut {
  tokens: number[][];
  drafted: number;
  accepted: number;
  drafts: number;
  forwards: number;
}

const sampling = { doSample: true, temperature: 0.8, seed: 1234 } as const;

async function plain(target: CausalLM, prompts: number[][], sampled: boolean): Promise<RunOut> {
  const tokens: number[][] = [];
  for (const prompt of prompts) {
    const r = await generate(target, {
      prompt,
      maxNewTokens: NEW,
      stopTokens: [],
      ...(sampled ? sampling : {}),
    });
    tokens.push(r.rows[0].tokens);
  }
  return { tokens, drafted: 0, accepted: 0, drafts: 0, forwards: prompts.length * NEW };
}

async function speculative(
  target: CausalLM,
  prompts: number[][],
  sampled: boolean,
  drafter: Drafter,
  extra: Record<string, unknown>,
): Promise<RunOut> {
  const out: RunOut = { tokens: [], drafted: 0, accepted: 0, drafts: 0, forwards: 0 };
  for (const prompt of prompts) {
    const r: SpeculativeResult = await speculativeDecode(target, {
      prompt,
      maxNewTokens: NEW,
      stopTokens: [],
      drafter,
      ...(sampled ? sampling : {}),
      ...extra,
    });
    out.tokens.push(r.tokens);
    out.drafted += r.metrics.numDraftTokens;
    out.accepted += r.metrics.numAcceptedTokens;
    out.drafts += r.metrics.numDrafts;
    out.forwards += r.stats.targetForwards;
  }
  return out;
}

function quality(sampled: boolean) {
  return (base: RunOut, m: RunOut) => {
    const tokens = m.tokens.flat().length;
    const meanLen = m.drafts ? 1 + m.accepted / m.drafts : 1;
    const note = `acceptance ${(m.drafted ? m.accepted / m.drafted : 0).toFixed(3)}, mean accepted length ${meanLen.toFixed(2)}, target forwards per token ${(m.forwards / tokens).toFixed(3)}`;
    if (sampled) {
      return { metric: `target forwards per token (${note})`, value: m.forwards / tokens, pass: true };
    }
    const same = JSON.stringify(base.tokens) === JSON.stringify(m.tokens);
    return {
      metric: `tokens identical to plain greedy (${note})`,
      value: same ? 1 : 0,
      pass: same,
      threshold: '= 1',
    };
  };
}

const draft = await loadCausalLM(join(FIX, 'code-draft'));
const heads = await medusa();
const prompts = heldout(PROMPTS);
const edits = editing(PROMPTS);
const targets: [string, () => Promise<CausalLM>][] = [
  ['native', () => loadCausalLM(join(FIX, 'code-target'))],
  ['ort', () => OrtCausalLM.load(join(FIX, 'code-target'), { intraOpNumThreads: 1 })],
];

for (const [engine, load] of targets) {
  if (args.only && args.only !== engine) continue;
  const target = await load();
  const cases: BenchmarkCase<unknown>[] = [];
  const methods: [string, () => Drafter, Record<string, unknown>, number[][]][] = [
    ['draft model K=4', () => new DraftModelDrafter(draft), { numDraftTokens: 4 }, prompts],
    ['draft model adaptive K', () => new DraftModelDrafter(draft), { draftLength: 'heuristic' }, prompts],
    ['prompt lookup', () => new PromptLookupDrafter({ min: 2, max: 4 }), { numDraftTokens: 8 }, prompts],
    [
      'prompt lookup, code editing',
      () => new PromptLookupDrafter({ min: 2, max: 4 }),
      { numDraftTokens: 8 },
      edits,
    ],
    [
      'multi-draft model 2x2',
      () => new DraftModelDrafter(draft, { branches: 2 }),
      { numDraftTokens: 4 },
      prompts,
    ],
    ['n-gram trie (tree of 16)', () => new NgramTrieDrafter(), { numDraftTokens: 16 }, prompts],
    ['Jacobi lookahead W7 N5 G7', () => new LookaheadDrafter(), { numDraftTokens: 28 }, prompts],
    ['Medusa heads (tree of 15)', () => heads, { numDraftTokens: 15 }, prompts],
    ['Medusa heads (tree of 63)', () => heads, { numDraftTokens: 63 }, prompts],
  ];
  for (const sampled of [false, true]) {
    for (const [label, make, extra, ps] of methods) {
      cases.push(
        defineCase<RunOut>({
          name: `${label} vs plain ${sampled ? 'sampling T=0.8' : 'greedy'}, code-target ${engine}${ps === edits ? ' (editing prompts)' : ''}`,
          baselineLabel: `plain ${sampled ? 'sampling' : 'greedy'}`,
          methodLabel: label,
          baseline: () => plain(target, ps, sampled),
          method: () => speculative(target, ps, sampled, make(), extra),
          quality: quality(sampled),
          work: { amount: ps.length * NEW, unit: 'tokens' },
        }),
      );
    }
  }
  const definition = defineBenchmark({
    package: 'decoding',
    name: `speculative-${engine}`,
    description: `speculative decoding vs plain decoding of the code target (${engine}), ${PROMPTS} held-out prompts x ${NEW} new tokens`,
    warmup: 1,
    repeats: quick ? 2 : 3,
    environment: { backend: engine === 'ort' ? 'onnxruntime-node (cpu, 1 thread)' : 'cpu' },
    cases,
  });
  await runAndWrite(definition, quick ? { write: false } : {});
  target.dispose();
}
heads.dispose();
draft.dispose();
