/**
 * A PROJECTION of speculative decoding's speed-up at a real size, labelled as such (nothing here
 * decodes with a real model): the acceptance each method measures on the fixtures (code-target and
 * its drafters, greedy, the held-out prompts of run.ts) combined with forward costs measured on a
 * random-weight checkpoint with Qwen2-0.5B's shapes (packages/models/bench/real-size.ts), on
 * hasten ORT (onnxruntime-node, 1 intra-op thread) and hasten native (loadCausalLM, core-tensor cpu).
 *
 * 1. Fixtures: per method (draft model K=4, prompt lookup K=8, n-gram trie tree of 16, Medusa trees
 *    of 16/32/64 from medusa_choices.json), speculativeDecode records every round: the nodes fed
 *    after the last token (S = nodes + 1 rows in the target forward), chain or tree, the tokens it
 *    emitted and the proposal's time. Fallback is off: whether drafting pays is decided by the
 *    real-size costs here, not by the fixture's. Plain greedy decoding gives the reference tokens.
 * 2. Real size: cost(S) = one target forward over S new tokens after `--context` (256) cached
 *    positions with writeCache: false (the cache is filled once by a prefill and never changes),
 *    its S logit rows read and argmaxed (greedy verification's reading), for chains
 *    S = 1, 2, 3, 5, 9, 17 (K = 0, 1, 2, 4, 8, 16 drafts + the fed token) and Medusa-like trees
 *    (a prefix of the 64-node choices, treeAttention mask and depth positions) of S = 2, 3, 5, 9,
 *    16, 17, 32, 64. Each repeat times every shape once, right after an untimed forward of the same
 *    shape (steady state: a small forward just after a large one is measurably slower); the
 *    projection uses the medians, and is printed from the minima too (the machine may be shared).
 *    Medusa's heads are timed at the real size too (one head: residual block 896x896 and its own
 *    151936x896 LM head, random weights, core-tensor cpu; a round runs every head).
 * 3. Projection per method and engine, over the fixture rounds r:
 *      speed-up = E[tokens per round] / (E[cost(S_r)] / cost(1) + E[draft_r] / cost(1))
 *    cost(S) interpolated linearly in S between the measured sizes of the round's shape; draft_r:
 *    draft model ASSUMED c = 0.1 target forwards per draft token (the issue's target ratio),
 *    Medusa the measured real-size heads, prompt lookup and the trie their measured proposal time
 *    (independent of the model's size).
 * Written to bench-results/decoding/projection-qwen2-0.5b.json: a case per method and engine whose
 * baseline is the measured cost(1) per token and whose method is the projected time per token
 * ("PROJECTED" in the case name and the quality metric); the cost curves are its `series`.
 *
 *   npm run bench:projection -w @hasten/decoding -- [--quick] [--real-size-dir DIR]
 *   (or from the repo root: npx tsx packages/decoding/bench/projection.ts [--quick] [--real-size-dir DIR])
 * --quick: 2 prompts x 48 tokens, 2 repeats, ORT only (native skipped), nothing written.
 * --real-size-dir keeps the checkpoint and its ONNX export there and reuses them on the next run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type SafetensorsReader, type Tensor, tensor } from '@hasten/core-tensor';
import { openSafetensors } from '@hasten/core-tensor/node';
import {
  BENCH_SCHEMA_VERSION,
  type BenchResult,
  type CaseResult,
  parseBenchResult,
  type Series,
  speedup,
  summarize,
} from '@hasten/eval';
import { collectEnvironment, findRepoRoot, writeBenchResult } from '@hasten/eval/node';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';
import { findPython, missingPythonModules } from '../../../scripts/python';
import { ensureRealSizeCheckpoint } from '../../models/bench/real-size-checkpoint';
import { benchTokens } from '../../models/bench/tokens';
import {
  argmax,
  type Draft,
  type Drafter,
  DraftModelDrafter,
  generate,
  MedusaDrafter,
  NgramTrieDrafter,
  PromptLookupDrafter,
  speculativeDecode,
  treeAttention,
} from '../src/index';
import { heldout } from './prompts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'real-size-dir': { type: 'string' },
    context: { type: 'string', default: '256' },
    repeats: { type: 'string' },
    prompts: { type: 'string' },
    new: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const CTX = Number(args.context);
const REPEATS = Number(args.repeats ?? (quick ? 2 : 5));
const PROMPTS = Number(args.prompts ?? (quick ? 2 : 4));
const NEW = Number(args.new ?? (quick ? 48 : 128));
for (const [name, v] of [
  ['context', CTX],
  ['repeats', REPEATS],
  ['prompts', PROMPTS],
  ['new', NEW],
] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
}
/** Draft cost of the draft-model method at the real size: ASSUMED, in target forwards per draft token. */
const ASSUMED_DRAFT_C = 0.1;
const ROOT = findRepoRoot();
const FIX = join(ROOT, 'fixtures');
const t0 = performance.now();
const loadStart = loadavg()
  .map((x) => x.toFixed(1))
  .join(' ');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: readonly number[]) => summarize(xs).median;

// ---------------------------------------------------------------- 1. acceptance on the fixtures

interface Round {
  /** Draft tokens (chain) or nodes (tree) fed after the last token: S = nodes + 1. */
  nodes: number;
  tree: boolean;
  emitted: number;
  draftMs: number;
  /**
   * The loop asked for the whole budget (k = numDraftTokens). Near the end it asks for at most
   * maxNewTokens - emitted - 1 (a chain's room), which also cuts trees: a clipped round.
   */
  full: boolean;
}

const isChain = (parents: readonly number[]) => parents.every((p, i) => p === i - 1);

/** The drafter, with each round's proposal (size, shape, time) and emitted tokens recorded. */
function recorded(inner: Drafter, rounds: Round[], budget: number): Drafter {
  let pending: Omit<Round, 'emitted'> | null = null;
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'propose') {
        return async (context: readonly number[], k: number): Promise<Draft> => {
          const t = performance.now();
          const d = await target.propose(context, k);
          const draftMs = performance.now() - t;
          pending = {
            nodes: d.tokens.length,
            tree: !!d.parents && !isChain(d.parents),
            draftMs,
            full: k >= budget,
          };
          return d;
        };
      }
      if (prop === 'update') {
        return (committed: readonly number[]) => {
          // No proposal this round (the last token): a plain forward.
          rounds.push({
            ...(pending ?? { nodes: 0, tree: false, draftMs: 0, full: false }),
            emitted: committed.length,
          });
          pending = null;
          target.update?.(committed);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

interface MethodRun {
  label: string;
  rounds: Round[];
  tokens: number;
  identical: boolean;
  /** Measured on the fixture (native code-target, one run): plain ms per token / this method's. */
  fixtureSpeedup: number;
  /** Proposal ms per drafting round on the fixture, and that / fixture plain ms per token. */
  fixtureDraftMsPerRound: number;
  fixtureC: number;
  /** How the real-size draft cost of a round is set. */
  draftCost: 'assumed-c' | 'medusa-heads' | 'measured-proposal';
}

const prompts = heldout(PROMPTS);
const fixtureTarget = await loadCausalLM(join(FIX, 'code-target'));
const draftModel = await loadCausalLM(join(FIX, 'code-draft'));
const medusaDir = join(FIX, 'code-target-medusa');
const trees = JSON.parse(readFileSync(join(medusaDir, 'medusa_choices.json'), 'utf8')).trees as Record<
  string,
  { choices: number[][] }
>;
const medusaHeads = (
  JSON.parse(readFileSync(join(medusaDir, 'medusa_config.json'), 'utf8')) as {
    medusa_num_heads: number;
  }
).medusa_num_heads;
async function medusa(size: '16' | '32' | '64'): Promise<MedusaDrafter> {
  const reader = await openSafetensors(join(medusaDir, 'medusa_heads.safetensors'));
  try {
    return await MedusaDrafter.fromSafetensors(reader, { choices: trees[size].choices });
  } finally {
    await reader.close();
  }
}

// Plain greedy: the reference tokens and the fixture's ms per token.
const plainTokens: number[][] = [];
let plainMs = 0;
let plainCount = 0;
for (const prompt of prompts) {
  const r = await generate(fixtureTarget, { prompt, maxNewTokens: NEW, stopTokens: [] });
  plainTokens.push(r.rows[0].tokens);
  plainMs += r.stats.decodeMs;
  plainCount += r.rows[0].tokens.length - 1; // the prefill emits the first token
}
const plainMsPerToken = plainMs / plainCount;

const medusas = await Promise.all((['16', '32', '64'] as const).map((s) => medusa(s)));
const methods: [string, () => Drafter, number, MethodRun['draftCost']][] = [
  ['draft model K=4', () => new DraftModelDrafter(draftModel), 4, 'assumed-c'],
  ['prompt lookup K=8', () => new PromptLookupDrafter({ min: 2, max: 4 }), 8, 'measured-proposal'],
  ['n-gram trie (tree of 16)', () => new NgramTrieDrafter(), 16, 'measured-proposal'],
  ...(['16', '32', '64'] as const).map(
    (s, i) =>
      [`Medusa (tree of ${s})`, () => medusas[i], trees[s].choices.length, 'medusa-heads'] as [
        string,
        () => Drafter,
        number,
        MethodRun['draftCost'],
      ],
  ),
];
const runs: MethodRun[] = [];
for (const [label, make, k, draftCost] of methods) {
  const rounds: Round[] = [];
  const tokens: number[][] = [];
  let ms = 0;
  const drafter = make(); // one per method, shared by its prompts (the trie keeps learning, as in run.ts)
  for (const prompt of prompts) {
    const r = await speculativeDecode(fixtureTarget, {
      prompt,
      maxNewTokens: NEW,
      stopTokens: [],
      drafter: recorded(drafter, rounds, k),
      numDraftTokens: k,
      fallback: false,
    });
    tokens.push(r.tokens);
    ms += r.stats.decodeMs;
  }
  const count = tokens.flat().length;
  const drafting = rounds.filter((r) => r.nodes > 0);
  const draftMsPerRound = drafting.reduce((s, r) => s + r.draftMs, 0) / Math.max(1, drafting.length);
  runs.push({
    label,
    rounds,
    tokens: count,
    identical: JSON.stringify(tokens) === JSON.stringify(plainTokens),
    fixtureSpeedup: plainMsPerToken / (ms / count),
    fixtureDraftMsPerRound: draftMsPerRound,
    fixtureC: draftMsPerRound / plainMsPerToken,
    draftCost,
  });
  console.log(
    `fixture ${label}: ${rounds.length} rounds, ${(count / rounds.length).toFixed(2)} tokens/round, ` +
      `${(rounds.reduce((s, r) => s + r.nodes, 0) / rounds.length).toFixed(1)} nodes/round, ` +
      `proposal ${draftMsPerRound.toFixed(3)} ms/round, greedy tokens ${JSON.stringify(tokens) === JSON.stringify(plainTokens) ? 'identical' : 'DIFFER'}`,
  );
}
for (const m of medusas) m.dispose();
draftModel.dispose();
fixtureTarget.dispose();
const fixtureMs = performance.now() - t0;
console.log(
  `fixtures: plain ${plainMsPerToken.toFixed(3)} ms/token (native code-target), ${secs(fixtureMs)}`,
);

// ---------------------------------------------------------------- 2. forward costs at the real size

const given = args['real-size-dir']
  ? resolve(process.env.INIT_CWD ?? process.cwd(), args['real-size-dir'])
  : undefined;
const dir = given ?? mkdtempSync(join(tmpdir(), 'hasten-real-size-'));

interface Shape {
  S: number;
  tree: boolean;
}
const shapes: Shape[] = [
  ...[1, 2, 3, 5, 9, 17].map((S) => ({ S, tree: false })),
  ...[2, 3, 5, 9, 16, 17, 32, 64].map((S) => ({ S, tree: true })),
];
const shapeKey = (s: Shape) => `${s.tree ? 'tree' : 'chain'}-${s.S}`;

/** Parents of a Medusa-like tree of n nodes: the first n paths of the 64-token choices. */
function medusaParents(n: number): number[] {
  const index = new Map<string, number>();
  return trees['64'].choices.slice(0, n).map((path, i) => {
    index.set(path.join(), i);
    return path.length === 1 ? -1 : (index.get(path.slice(0, -1).join()) as number);
  });
}

/** Per shape, the ms of each repeat: forward over S tokens after CTX cached positions, logits read, rows argmaxed. */
async function forwardCosts(model: CausalLM, vocab: number): Promise<Map<string, number[]>> {
  const context = benchTokens(CTX + 64, vocab);
  const cache = model.createCache({ maxLength: CTX + 64 });
  const ids = tensor(Int32Array.from(context.slice(0, CTX)), [1, CTX], { dtype: 'i32' });
  const tp = performance.now();
  (await model.forward({ tokens: ids, cache, logitsToKeep: 1 })).logits.dispose();
  ids.dispose();
  console.log(`  prefill of ${CTX} positions: ${secs(performance.now() - tp)}`);
  const one = async (shape: Shape): Promise<number> => {
    const t = performance.now();
    const { S } = shape;
    const fed = tensor(Int32Array.from(context.slice(CTX, CTX + S)), [1, S], { dtype: 'i32' });
    let attention: Tensor | undefined;
    let positions: Tensor | undefined;
    if (shape.tree) {
      // As speculativeDecode feeds a tree: the fed token is the root, the S - 1 nodes hang under it.
      const ta = treeAttention([-1, ...medusaParents(S - 1).map((p) => p + 1)], CTX);
      attention = tensor(ta.mask, [1, 1, S, CTX + S], { dtype: 'bool' });
      positions = tensor(ta.positions, [1, S], { dtype: 'i32' });
    }
    const r = await model.forward({ tokens: fed, cache, attention, positions, writeCache: false });
    const data = Float32Array.from((await r.logits.data()) as Float32Array);
    for (let i = 0; i < S; i++) argmax(data.subarray(i * vocab, (i + 1) * vocab));
    r.logits.dispose();
    fed.dispose();
    attention?.dispose();
    positions?.dispose();
    const ms = performance.now() - t;
    if (cache.length !== CTX)
      throw new Error(`writeCache: false changed the cache (${cache.length} positions)`);
    return ms;
  };
  const out = new Map<string, number[]>(shapes.map((s) => [shapeKey(s), []]));
  // Steady state: each timed forward follows an untimed one of the same shape, as consecutive rounds
  // of a method have about the same size (a small forward right after a large one is measurably slower).
  for (let r = 0; r < REPEATS; r++) {
    for (const s of shapes) {
      await one(s);
      out.get(shapeKey(s))!.push(await one(s));
    }
  }
  cache.dispose();
  return out;
}

/** Medusa's per-head proposal at the real size: one head with random weights, median ms of propose(). */
async function medusaHeadMs(H: number, V: number): Promise<number[]> {
  let s = 12345;
  const random = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      a[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 0.04;
    }
    return a;
  };
  const weights: Record<string, [number[], () => Float32Array]> = {
    'medusa_head.0.0.linear.weight': [[H, H], () => random(H * H)],
    'medusa_head.0.0.linear.bias': [[H], () => random(H)],
    'medusa_head.0.1.weight': [[V, H], () => random(V * H)],
  };
  // What fromSafetensors reads of a reader: the names and the tensors.
  const reader = {
    names: Object.keys(weights),
    tensor: async (n: string) => tensor(weights[n][1](), weights[n][0]),
  } as unknown as SafetensorsReader;
  const head = await MedusaDrafter.fromSafetensors(reader, {
    choices: Array.from({ length: 10 }, (_, i) => [i]),
  });
  head.observeHidden(random(H).map((x) => x * 25));
  const times: number[] = [];
  await head.propose([0], 10); // packs the weights
  for (let r = 0; r < REPEATS; r++) {
    const t = performance.now();
    await head.propose([0], 10);
    times.push(performance.now() - t);
  }
  head.dispose();
  return times;
}

const python = findPython();
const costs: Record<'ort' | 'native', Map<string, number[]> | null> = { ort: null, native: null };
let headTimes: number[] = [];
let realConfig: { hidden_size: number; vocab_size: number };
let prepMs = 0;
let nativeNote = '';
try {
  const tPrep = performance.now();
  const have = given && ['model.safetensors', 'onnx/model.onnx'].every((f) => existsSync(join(dir, f)));
  if (!have) {
    const missing = missingPythonModules(python, ['numpy', 'onnx']);
    if (missing.length) {
      console.log(
        `projection skipped: ${python} cannot import ${missing.join(', ')} (apt-get install python3-numpy python3-onnx)`,
      );
      process.exit(0);
    }
  }
  const { genMs, exportMs } = ensureRealSizeCheckpoint(dir, ROOT, python);
  prepMs = performance.now() - tPrep;
  if (genMs || exportMs) console.log(`checkpoint written in ${secs(genMs)}, exported in ${secs(exportMs)}`);
  realConfig = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const V = realConfig.vocab_size;

  // Medusa heads first, before a model's packed weights fill the WebAssembly memory.
  headTimes = await medusaHeadMs(realConfig.hidden_size, V);
  console.log(
    `Medusa head at the real size (${realConfig.hidden_size}x${realConfig.hidden_size} + ${V}x${realConfig.hidden_size}): ` +
      `${median(headTimes).toFixed(1)} ms per head, x${medusaHeads} heads per round`,
  );

  const tl = performance.now();
  const ort = await OrtCausalLM.load(dir, { intraOpNumThreads: 1 });
  console.log(`ORT: loaded in ${secs(performance.now() - tl)}`);
  costs.ort = await forwardCosts(ort, V);
  ort.dispose();
  if (quick) {
    nativeNote = 'native skipped (--quick)';
  } else {
    const tn = performance.now();
    const native = await loadCausalLM(dir);
    console.log(`native: loaded in ${secs(performance.now() - tn)} (the prefill below packs every weight)`);
    costs.native = await forwardCosts(native, V);
    native.dispose();
  }
} finally {
  if (!given) rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- 3. projection

type Engine = 'ort' | 'native';
/** Which figure of the timed samples: the median, the minimum, or one repeat's. */
type Stat = 'median' | 'min' | number;
const engines = (['ort', 'native'] as const).filter((e) => costs[e]);
const engineName = {
  ort: 'hasten ORT (onnxruntime-node, 1 thread)',
  native: 'hasten native (core-tensor cpu)',
};
/** Medusa's heads per round at the real size (ms). */
const medusaRoundMs = (stat: Stat = 'median') =>
  medusaHeads *
  (stat === 'median' ? median(headTimes) : stat === 'min' ? Math.min(...headTimes) : headTimes[stat]);

/** cost(S) (ms), linear in S between the measured sizes of that shape. */
function costAt(engine: Engine, S: number, tree: boolean, stat: Stat = 'median'): number {
  const table = costs[engine]!;
  const pick = (key: string) => {
    const xs = table.get(key)!;
    return stat === 'median' ? median(xs) : stat === 'min' ? Math.min(...xs) : xs[stat];
  };
  const points: [number, number][] = [[1, pick('chain-1')]];
  for (const s of shapes) if (s.tree === tree && s.S > 1) points.push([s.S, pick(shapeKey(s))]);
  points.sort((a, b) => a[0] - b[0]);
  if (S <= 1) return points[0][1];
  for (let i = 1; i < points.length; i++) {
    const [s1, c1] = points[i];
    if (S <= s1) {
      const [s0, c0] = points[i - 1];
      return c0 + ((S - s0) / (s1 - s0)) * (c1 - c0);
    }
  }
  throw new Error(`S = ${S} is beyond the measured ${tree ? 'tree' : 'chain'} sizes`);
}

/** Real-size draft cost of one round, in ms. */
function draftMs(run: MethodRun, round: Round, cost1: number, stat: Stat): number {
  if (round.nodes === 0) return 0;
  if (run.draftCost === 'assumed-c') return ASSUMED_DRAFT_C * round.nodes * cost1;
  if (run.draftCost === 'medusa-heads') return medusaRoundMs(stat);
  return round.draftMs;
}

interface Projection {
  engine: Engine;
  run: MethodRun;
  /** Over the rounds used: all of them, or the full-budget ones. */
  rounds: number;
  tokensPerRound: number;
  nodesPerRound: number;
  costRatio: number;
  draftRatio: number;
  speedup: number;
  /** The speed-up if proposing were free. */
  freeDraft: number;
  /** Per repeat: cost(1) ms and projected ms per token. */
  baselineMs: number[];
  methodMs: number[];
}

function project(
  engine: Engine,
  run: MethodRun,
  fullOnly: boolean,
  stat: 'median' | 'min' = 'median',
): Projection {
  const rounds = fullOnly ? run.rounds.filter((r) => r.full) : run.rounds;
  const R = rounds.length;
  const tokensPerRound = rounds.reduce((s, r) => s + r.emitted, 0) / R;
  const perRound = (which: Stat) => {
    const cost1 = costAt(engine, 1, false, which);
    let target = 0;
    let draft = 0;
    for (const r of rounds) {
      target += costAt(engine, r.nodes + 1, r.tree, which);
      draft += draftMs(run, r, cost1, which);
    }
    return { cost1, target: target / R, draft: draft / R };
  };
  const m = perRound(stat);
  const baselineMs: number[] = [];
  const methodMs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const x = perRound(r);
    baselineMs.push(x.cost1);
    methodMs.push((x.target + x.draft) / tokensPerRound);
  }
  return {
    engine,
    run,
    rounds: R,
    tokensPerRound,
    nodesPerRound: rounds.reduce((s, r) => s + r.nodes, 0) / R,
    costRatio: m.target / m.cost1,
    draftRatio: m.draft / m.cost1,
    speedup: tokensPerRound / (m.target / m.cost1 + m.draft / m.cost1),
    freeDraft: tokensPerRound / (m.target / m.cost1),
    baselineMs,
    methodMs,
  };
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const cost1 = (e: Engine) => costAt(e, 1, false);

let costTable =
  `\nMEASURED forward cost at the real size (random Qwen2-0.5B-shaped weights), ${CTX} cached positions, writeCache: false, ` +
  `logits read and argmaxed, each timed forward after an untimed one of the same shape; ${REPEATS} repeats ` +
  `(ms: median, interquartile range, minimum; cost(S)/cost(1) of the medians and of the minima):\n\n` +
  `| S | shape | ${engines.map((e) => `${e} ms median (IQR) min | ${e} cost(S)/cost(1) median, min`).join(' | ')} |\n` +
  `|---|---|${engines.map(() => '---|---|').join('')}\n`;
for (const s of shapes) {
  const cells = engines.map((e) => {
    const sum = summarize(costs[e]!.get(shapeKey(s))!);
    const min = costAt(e, s.S, s.tree, 'min');
    return `${f(sum.median, 1)} (${f(sum.q1, 0)}-${f(sum.q3, 0)}) ${f(min, 1)} | ${f(sum.median / cost1(e))}, ${f(min / costAt(e, 1, false, 'min'))}`;
  });
  costTable += `| ${s.S} | ${s.tree ? `tree (Medusa-like, ${s.S - 1} nodes + root)` : `chain (K = ${s.S - 1})`} | ${cells.join(' | ')} |\n`;
}
console.log(costTable);
if (nativeNote) console.log(`(${nativeNote})\n`);

let fixtureTable =
  `MEASURED on the fixtures (native code-target, greedy, ${PROMPTS} held-out prompts x ${NEW} tokens, fallback off; ` +
  `plain ${f(plainMsPerToken, 3)} ms/token):\n\n` +
  '| method | rounds (clipped) | nodes/round | tokens/round | tokens/round, full-budget rounds | proposal ms/round | greedy tokens identical | measured speed-up on the fixture (1 run) |\n' +
  '|---|---|---|---|---|---|---|---|\n';
for (const run of runs) {
  const all = run.rounds;
  const full = all.filter((r) => r.full);
  const tpr = (rs: Round[]) => rs.reduce((s, r) => s + r.emitted, 0) / rs.length;
  fixtureTable +=
    `| ${run.label} | ${all.length} (${all.length - full.length}) | ${f(all.reduce((s, r) => s + r.nodes, 0) / all.length, 1)} | ` +
    `${f(tpr(all))} | ${f(tpr(full))} | ${f(run.fixtureDraftMsPerRound, 3)} | ${run.identical ? 'yes' : 'NO'} | ${f(run.fixtureSpeedup)} |\n`;
}
console.log(fixtureTable);

const projections = engines.flatMap((e) => runs.map((r) => project(e, r, false)));
const steady = engines.flatMap((e) => runs.map((r) => project(e, r, true)));
const fromMin = engines.flatMap((e) => runs.map((r) => project(e, r, false, 'min')));
const lookupLike = runs.filter((r) => r.draftCost === 'measured-proposal');
const draftRun = runs.find((r) => r.draftCost === 'assumed-c')!;
console.log(
  `PROJECTED speed-up = E[tokens per round] / (E[cost(S_r)]/cost(1) + E[draft_r]/cost(1)), E over the fixture rounds r, ` +
    `S_r = 1 + nodes of round r, cost(S) measured above (linear between the measured S of the round's shape).\n` +
    `draft_r: draft model: ASSUMED c = ${ASSUMED_DRAFT_C} x cost(1) per draft token (on the fixture it measures ` +
    `${f(draftRun.fixtureDraftMsPerRound, 3)} ms per round = c ${f(draftRun.fixtureC)} per round, ${f(draftRun.fixtureC / 4, 3)} per draft token, ` +
    `of the fixture's ${f(plainMsPerToken, 3)} ms plain token); Medusa: ${medusaHeads} heads x ${f(median(headTimes), 1)} ms MEASURED at the ` +
    `real size = ${engines.map((e) => `${f(medusaRoundMs() / cost1(e))} x ${e} cost(1)`).join(', ')} per round (not negligible: each head has ` +
    `its own ${realConfig!.vocab_size}x${realConfig!.hidden_size} LM head); ` +
    `${lookupLike
      .map(
        (r) =>
          `${r.label}: ${f(r.fixtureDraftMsPerRound, 3)} ms per round = ${(r.fixtureDraftMsPerRound / cost1('ort')).toExponential(1)} x ort cost(1)`,
      )
      .join('; ')} (negligible; measured on the fixture, independent of the model's size).\n` +
    `"full-budget rounds": only the rounds the loop asked for the whole budget (it clips the last rounds to the tokens left, trees too).\n`,
);
let projTable =
  '| method | engine | nodes/round | tokens/round | E[cost(S)]/cost(1) | draft/cost(1) | PROJECTED speed-up | if drafting were free | PROJECTED, full-budget rounds | PROJECTED from the minimum costs |\n' +
  '|---|---|---|---|---|---|---|---|---|---|\n';
for (const p of projections) {
  const st = steady.find((x) => x.run === p.run && x.engine === p.engine)!;
  const mn = fromMin.find((x) => x.run === p.run && x.engine === p.engine)!;
  projTable +=
    `| ${p.run.label} | ${p.engine} | ${f(p.nodesPerRound, 1)} | ${f(p.tokensPerRound)} | ${f(p.costRatio)} | ` +
    `${p.draftRatio < 0.01 ? p.draftRatio.toExponential(1) : f(p.draftRatio)} | **${f(p.speedup)}** | ${f(p.freeDraft)} | ` +
    `${st.rounds ? `${f(st.speedup)} (${f(st.nodesPerRound, 1)} nodes, ${f(st.tokensPerRound)} tok/round)` : '- (none)'} | ` +
    `${f(mn.speedup)} (E[cost(S)]/cost(1) ${f(mn.costRatio)}, draft ${mn.draftRatio < 0.01 ? mn.draftRatio.toExponential(1) : f(mn.draftRatio)}) |\n`;
}
console.log(projTable);

// ---------------------------------------------------------------- the result file

const cases: CaseResult[] = projections.map((p) => {
  const note =
    p.run.draftCost === 'assumed-c'
      ? `draft cost ASSUMED c = ${ASSUMED_DRAFT_C} per draft token`
      : p.run.draftCost === 'medusa-heads'
        ? `draft cost = ${medusaHeads} Medusa heads measured at the real size (${f(p.draftRatio)} x cost(1))`
        : `draft cost = proposal time measured on the fixture (${p.draftRatio.toExponential(1)} x cost(1))`;
  return {
    name: `PROJECTED ${p.run.label} vs plain greedy, qwen2-0.5b-shaped ${p.engine}`,
    baselineLabel: 'plain greedy (measured cost(1) per token)',
    methodLabel: `${p.run.label} (projected)`,
    unit: 'ms',
    baseline: summarize(p.baselineMs),
    method: summarize(p.methodMs),
    samples: { baseline: p.baselineMs, method: p.methodMs },
    speedup: speedup(p.baselineMs, p.methodMs),
    work: {
      amount: 1,
      unit: 'tokens',
      baselinePerSecond: 1000 / median(p.baselineMs),
      methodPerSecond: 1000 / median(p.methodMs),
    },
    quality: {
      metric:
        `PROJECTED, not measured: fixture acceptance (${f(p.tokensPerRound)} tokens/round, ${f(p.nodesPerRound, 1)} nodes/round over ` +
        `${p.rounds} rounds, ${PROMPTS} held-out prompts x ${NEW} tokens) x real-size forward costs measured here ` +
        `(E[cost(S)]/cost(1) = ${f(p.costRatio)}); ${note}; value: fixture greedy tokens identical to plain greedy`,
      value: p.run.identical ? 1 : 0,
      pass: p.run.identical,
      threshold: '= 1',
    },
  };
});
const series: Series[] = engines.map((e) => ({
  kind: 'quality-vs-steps',
  name: `forward-cost-${e}`,
  title: `${engineName[e]}: forward over S new tokens after ${CTX} cached positions / cost(1), random Qwen2-0.5B-shaped weights`,
  xLabel: 'S (tokens in the forward)',
  yLabel: 'cost(S) / cost(1)',
  lines: [false, true].map((tree) => ({
    label: tree ? 'tree mask (Medusa-like)' : 'chain (causal)',
    points: shapes
      .filter((s) => s.tree === tree || s.S === 1)
      .map((s) => ({ x: s.S, y: median(costs[e]!.get(shapeKey(s))!) / cost1(e) })),
  })),
}));
const result: BenchResult = parseBenchResult({
  schema: BENCH_SCHEMA_VERSION,
  package: 'decoding',
  bench: 'projection-qwen2-0.5b',
  description:
    `PROJECTION (not a measured decode): speculative-decoding speed-up at Qwen2-0.5B's size = fixture acceptance ` +
    `(code-target, greedy, ${PROMPTS} held-out prompts x ${NEW} tokens, fallback off) combined with forward costs measured on ` +
    `random Qwen2-0.5B-shaped weights (${CTX} cached positions, writeCache: false, median of ${REPEATS} repeats, each ` +
    `timed forward after an untimed one of the same shape): speed-up = ` +
    `E[tokens per round] / (E[cost(S_r)]/cost(1) + E[draft_r]/cost(1)). Draft model: ASSUMED c = ${ASSUMED_DRAFT_C} per draft token. ` +
    `Medusa: ${medusaHeads} heads measured at the real size (${f(median(headTimes), 1)} ms each). Baseline samples: measured cost(1) per ` +
    `repeat; method samples: the projection with that repeat's costs (the CI covers timing noise only, not acceptance).` +
    (nativeNote ? ` ${nativeNote}.` : ''),
  createdAt: new Date().toISOString(),
  config: { warmup: 1, repeats: REPEATS, interleave: 'ab', confidence: 0.95, resamples: 2000, seed: 0 },
  environment: collectEnvironment({
    root: ROOT,
    backend: engines.map((e) => engineName[e]).join(' + '),
    packages: ['eval', 'decoding', 'models'],
  }),
  cases,
  series,
});
if (!quick && !args['no-write']) console.log(`wrote ${writeBenchResult(result, { root: ROOT })}`);
console.log(
  `run time ${secs(performance.now() - t0)} (fixtures ${secs(fixtureMs)}, checkpoint ${secs(prepMs)}); ` +
    `load average ${loadStart} at the start, ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the end on ${cpus().length} cores`,
);
