/**
 * @file Speculative decoding in the peer, node-llama-cpp 3.22.1 (https://github.com/withcatai/node-llama-cpp,
 * llama.cpp's Node bindings; its token predictors are described at
 * https://node-llama-cpp.withcat.ai/guide/token-prediction), against its own plain decoding, with
 * Hasten's own ratio beside it on the same prompts in the same process:
 *
 * - llama.cpp cases: baseline = plain greedy decoding of the code target (f32 GGUF export, f32 KV
 *   cache, no flash attention, one thread per context); method = the same target with
 *   `DraftSequenceTokenPredictor` (the code-draft model in its own context) or
 *   `InputLookupTokenPredictor` (prompt lookup), each at node-llama-cpp's defaults (the draft runs
 *   ahead in the background and the target takes whatever it has drafted, up to 16 tokens at
 *   confidence >= 0.6) and at the settings of Hasten's own case (the target waits for a 4-token
 *   chain; n-grams of 2-4 with up to 8 tokens).
 * - Hasten cases: baseline = `generate()` of the native target; method = `speculativeDecode()` with
 *   `DraftModelDrafter` (K = 4 and the adaptive length) and `PromptLookupDrafter`, as bench/run.ts.
 *
 * Each case's ratio is against the plain decoding of the same engine, so the two engines' ratios can
 * be compared even though their absolute speeds differ. Quality: greedy tokens identical to the
 * engine's plain greedy decoding, with acceptance (llama.cpp: validated / (validated + refuted)
 * predictions, as `LlamaContextSequence.tokenPredictions` counts them).
 * Notes: node-llama-cpp's draft predictor runs the draft context in the background while the target
 * validates, so that method may keep two cores busy (one thread per context); Hasten drafts and
 * verifies one after the other on one JS thread. In 3.22.1, `_speculativeEvaluate` (dist/evaluator/
 * LlamaContext/LlamaContext.js) compares the predictions after the first one with
 * `validatedTokens.at(-1)`, an array it never appends to, so at most one prediction validates per
 * target evaluation and the rest count as refuted: with K predictions a round its acceptance stays
 * at or below 1/K whatever the draft (our reading of its code; the counters agree, see the README).
 *
 *   npm run bench:peer -w @hasten/decoding -- [--quick] [--prompts N] [--new N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchmarkCase, defineBenchmark, defineCase } from '@hasten/eval';
import { findRepoRoot, runAndWrite } from '@hasten/eval/node';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import {
  importLlamaCpp,
  llamaCppContextOptions,
  type NlcModule as NlcModuleBase,
  saveGGUFForPeer,
} from '../../models/bench/llama-cpp-peer';
import {
  type Drafter,
  DraftModelDrafter,
  generate,
  PromptLookupDrafter,
  speculativeDecode,
} from '../src/index';
import { heldout } from './prompts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    new: { type: 'string' },
    prompts: { type: 'string' },
  },
});
const quick = args.quick;
const NEW = Number(args.new ?? 128);
const PROMPTS = Number(args.prompts ?? (quick ? 2 : 8));
if (!Number.isInteger(NEW) || NEW < 1) throw new Error(`--new must be a positive integer, got '${args.new}'`);
if (!Number.isInteger(PROMPTS) || PROMPTS < 1 || PROMPTS > 10)
  throw new Error(`--prompts must be an integer in [1, 10] (10 held-out files), got '${args.prompts}'`);
const THREADS = 1;
const ROOT = findRepoRoot();
const FIX = join(ROOT, 'fixtures');

// The part of node-llama-cpp's API used here (its own types are not on the workspaces' path).
interface NlcSequence {
  readonly tokenPredictions: { used: number; unused: number; validated: number; refuted: number };
  evaluate(
    tokens: number[],
    options?: { temperature?: number; yieldEogToken?: boolean },
  ): AsyncGenerator<number, void, unknown>;
  clearHistory(): Promise<void>;
}
interface NlcPredictor {
  updateInputTokens(tokens: number[]): void;
}
interface NlcContext {
  getSequence(options?: { tokenPredictor?: NlcPredictor }): NlcSequence;
  dispose(): Promise<void>;
}
interface NlcModel {
  createContext(options: Record<string, unknown>): Promise<NlcContext>;
  dispose(): Promise<void>;
}
interface NlcLlama {
  readonly buildType: string;
  loadModel(options: { modelPath: string; gpuLayers?: number }): Promise<NlcModel>;
  dispose(): Promise<void>;
}
interface NlcModule extends NlcModuleBase {
  DraftSequenceTokenPredictor: new (
    draft: NlcSequence,
    options?: { minTokens?: number; maxTokens?: number; minConfidence?: number },
  ) => NlcPredictor;
  InputLookupTokenPredictor: new (options?: {
    patternLength?: { min?: number; max?: number };
    predictionLength?: { min?: number; max?: number };
  }) => NlcPredictor;
}

const loaded = await importLlamaCpp<NlcModule>(ROOT);
if (typeof loaded === 'string') {
  console.log(`llama.cpp speculative bench skipped: the peer is absent (${loaded}). Nothing written.`);
  process.exit(0);
}
const { mod, version } = loaded;
// The sequence and context API this bench uses (getSequence with a token predictor).
const llama = loaded.llama as unknown as NlcLlama;

interface RunOut {
  tokens: number[][];
  /** Drafted / accepted tokens (Hasten) or refuted + validated / validated predictions (llama.cpp). */
  drafted: number;
  accepted: number;
  /** Hasten only: drafting rounds and target forwards. */
  drafts: number;
  forwards: number;
}
const empty = (): RunOut => ({ tokens: [], drafted: 0, accepted: 0, drafts: 0, forwards: 0 });

// ---- llama.cpp side -------------------------------------------------------------------------
const prompts = heldout(PROMPTS);
const contextSize = Math.max(...prompts.map((p) => p.length)) + NEW + 32;
const tmp = mkdtempSync(join(tmpdir(), 'hasten-llama-cpp-spec-'));
const target = await loadCausalLM(join(FIX, 'code-target'));
const draft = await loadCausalLM(join(FIX, 'code-draft'));
await saveGGUFForPeer(target, join(FIX, 'code-target'), join(tmp, 'code-target-f32.gguf'));
await saveGGUFForPeer(draft, join(FIX, 'code-draft'), join(tmp, 'code-draft-f32.gguf'));
const nlcTarget = await llama.loadModel({ modelPath: join(tmp, 'code-target-f32.gguf'), gpuLayers: 0 });
const nlcDraft = await llama.loadModel({ modelPath: join(tmp, 'code-draft-f32.gguf'), gpuLayers: 0 });
const contexts: NlcContext[] = [];
/** A one-sequence context as models/bench/llama-cpp-peer.ts opens it: f32 KV cache, no flash attention. */
async function context(model: NlcModel): Promise<NlcContext> {
  const c = await model.createContext(llamaCppContextOptions(contextSize, THREADS));
  contexts.push(c);
  return c;
}

/** Greedy (temperature 0) NEW tokens after each prompt, from an empty sequence each time. */
async function llamaRun(seq: NlcSequence, predictor?: NlcPredictor): Promise<RunOut> {
  const out = empty();
  for (const prompt of prompts) {
    await seq.clearHistory();
    // LlamaCompletion hands the predictor the input this way; sequence.evaluate alone does not.
    predictor?.updateInputTokens(prompt);
    const before = seq.tokenPredictions;
    const tokens: number[] = [];
    // yieldEogToken: decode exactly NEW tokens, as Hasten's side with stopTokens: [].
    for await (const t of seq.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
      tokens.push(t);
      if (tokens.length >= NEW) break;
    }
    const after = seq.tokenPredictions;
    out.tokens.push(tokens);
    out.accepted += after.validated - before.validated;
    out.drafted += after.validated - before.validated + after.refuted - before.refuted;
  }
  return out;
}

const plainSeq = (await context(nlcTarget)).getSequence();
const llamaMethods: [string, string, () => Promise<NlcPredictor>][] = [
  [
    'draft-sequence (defaults: up to 16, min confidence 0.6)',
    'code-target/code-draft',
    async () => new mod.DraftSequenceTokenPredictor((await context(nlcDraft)).getSequence()),
  ],
  [
    'draft-sequence K=4 (waits for 4, min confidence 0)',
    'code-target/code-draft',
    async () =>
      new mod.DraftSequenceTokenPredictor((await context(nlcDraft)).getSequence(), {
        minTokens: 4,
        maxTokens: 4,
        minConfidence: 0,
      }),
  ],
  [
    'input-lookup (defaults: pattern >= 1, up to 3)',
    'code-target',
    async () => new mod.InputLookupTokenPredictor(),
  ],
  [
    'input-lookup (pattern 2-4, up to 8)',
    'code-target',
    async () =>
      new mod.InputLookupTokenPredictor({ patternLength: { min: 2, max: 4 }, predictionLength: { max: 8 } }),
  ],
];

// ---- Hasten side (as bench/run.ts) ----------------------------------------------------------
async function hastenPlain(model: CausalLM): Promise<RunOut> {
  const out = empty();
  for (const prompt of prompts) {
    const r = await generate(model, { prompt, maxNewTokens: NEW, stopTokens: [] });
    out.tokens.push(r.rows[0].tokens);
  }
  out.forwards = prompts.length * NEW;
  return out;
}
async function hastenSpeculative(
  model: CausalLM,
  drafter: Drafter,
  extra: Record<string, unknown>,
): Promise<RunOut> {
  const out = empty();
  for (const prompt of prompts) {
    const r = await speculativeDecode(model, {
      prompt,
      maxNewTokens: NEW,
      stopTokens: [],
      drafter,
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
const hastenMethods: [string, string, () => Drafter, Record<string, unknown>][] = [
  ['draft model K=4', 'code-target/code-draft', () => new DraftModelDrafter(draft), { numDraftTokens: 4 }],
  [
    'draft model adaptive K',
    'code-target/code-draft',
    () => new DraftModelDrafter(draft),
    { draftLength: 'heuristic' },
  ],
  [
    'prompt lookup K=8 (n-grams 2-4)',
    'code-target',
    () => new PromptLookupDrafter({ min: 2, max: 4 }),
    { numDraftTokens: 8 },
  ],
];

// ---- cases ----------------------------------------------------------------------------------
/** Acceptance of the last measured method run of each case, for the table. */
const acceptance = new Map<string, RunOut>();
const quality = (name: string) => (base: RunOut, m: RunOut) => {
  acceptance.set(name, m);
  const same = JSON.stringify(base.tokens) === JSON.stringify(m.tokens);
  const rate = m.drafted ? m.accepted / m.drafted : 0;
  const note = m.forwards
    ? `acceptance ${rate.toFixed(3)}, target forwards per token ${(m.forwards / m.tokens.flat().length).toFixed(3)}`
    : `acceptance ${rate.toFixed(3)} (${m.accepted} validated, ${m.drafted - m.accepted} refuted predictions)`;
  return {
    metric: `tokens identical to plain greedy (${note})`,
    value: same ? 1 : 0,
    pass: same,
    threshold: '= 1',
  };
};

const cases: BenchmarkCase<unknown>[] = [];
const rows: { name: string; engine: string; method: string }[] = [];
for (const [label, models, make] of llamaMethods) {
  const predictor = await make();
  const seq = (await context(nlcTarget)).getSequence({ tokenPredictor: predictor });
  const name = `llama.cpp ${label} vs llama.cpp plain, ${models}`;
  rows.push({ name, engine: 'llama.cpp', method: label });
  cases.push(
    defineCase<RunOut>({
      name,
      baselineLabel: 'llama.cpp plain greedy',
      methodLabel: `llama.cpp ${label}`,
      baseline: () => llamaRun(plainSeq),
      method: () => llamaRun(seq, predictor),
      quality: quality(name),
      work: { amount: prompts.length * NEW, unit: 'tokens' },
    }),
  );
}
for (const [label, models, make, extra] of hastenMethods) {
  const name = `hasten ${label} vs hasten plain greedy, ${models} native`;
  rows.push({ name, engine: 'hasten native', method: label });
  cases.push(
    defineCase<RunOut>({
      name,
      baselineLabel: 'hasten plain greedy (generate)',
      methodLabel: `hasten ${label}`,
      baseline: () => hastenPlain(target),
      method: () => hastenSpeculative(target, make(), extra),
      quality: quality(name),
      work: { amount: prompts.length * NEW, unit: 'tokens' },
    }),
  );
}

// The two engines' plain greedy tokens, side by side (f32 both; a near-tie may flip one token).
const llamaPlain = await llamaRun(plainSeq);
const hastenRef = await hastenPlain(target);
const samePrompts = llamaPlain.tokens.filter(
  (t, i) => JSON.stringify(t) === JSON.stringify(hastenRef.tokens[i]),
).length;
const engines = `node-llama-cpp ${version} (llama.cpp ${llama.buildType} CPU binaries, ${THREADS} thread per context, f32 GGUF, f32 KV cache, no flash attention) and hasten native (one JS thread)`;
console.log(`${engines}; ${prompts.length} held-out prompts x ${NEW} greedy tokens`);
console.log(
  `plain greedy tokens identical between the engines on ${samePrompts} of ${prompts.length} prompts`,
);

const definition = defineBenchmark({
  package: 'decoding',
  name: 'speculative-llama-cpp',
  description: `speculative decoding in node-llama-cpp vs its plain decoding, and in hasten (native) vs generate(), code-target/code-draft, ${prompts.length} held-out prompts x ${NEW} greedy tokens; ${engines}; plain greedy tokens identical between engines on ${samePrompts}/${prompts.length} prompts`,
  warmup: 1,
  repeats: quick ? 2 : 3,
  environment: { backend: 'cpu', versions: { 'node-llama-cpp': version } },
  cases,
});
const { result } = await runAndWrite(definition, quick ? { write: false } : {});

const lines = [
  `\n${quick ? 'QUICK RUN (not written): ' : ''}${prompts.length} held-out prompts x ${NEW} greedy tokens, each ratio against the same engine's plain decoding\n`,
  '| engine | method | plain tok/s | method tok/s | speed-up vs plain (95% CI) | acceptance | greedy check |',
  '| --- | --- | --- | --- | --- | --- | --- |',
];
for (const row of rows) {
  const c = result.cases.find((x) => x.name === row.name);
  if (!c) continue;
  const m = acceptance.get(row.name);
  const acc = m?.drafted ? `${(m.accepted / m.drafted).toFixed(3)} (${m.accepted}/${m.drafted})` : '—';
  const s = c.speedup;
  lines.push(
    `| ${row.engine} | ${row.method} | ${c.work?.baselinePerSecond.toFixed(0)} | ${c.work?.methodPerSecond.toFixed(0)} | **${s.ratio.toFixed(2)}×** [${s.low.toFixed(2)}, ${s.high.toFixed(2)}] | ${acc} | ${c.quality?.pass ? 'identical tokens' : 'DIFFERENT tokens'} |`,
  );
}
console.log(lines.join('\n'));

for (const c of contexts.reverse()) await c.dispose(); // targets before the drafts they hold
await nlcDraft.dispose();
await nlcTarget.dispose();
await llama.dispose();
target.dispose();
draft.dispose();
rmSync(tmp, { recursive: true, force: true });
