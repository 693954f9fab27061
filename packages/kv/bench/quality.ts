/**
 * What eviction and KV quantization cost in quality, on the code-target fixture (trained on 512-byte
 * windows) over held-out CPython files the model never saw, against the full f32 cache in the same
 * run:
 *
 * - bits per byte and next-token accuracy of 64 teacher-forced bytes after a 448-byte prompt whose
 *   cache was compressed to 10%, 25% and 50% of its positions (every score policy; shared,
 *   per-head, AdaKV and PrefixKV budgets for the attention-based ones; Elastic Cache merging against
 *   dropping the same anchors), and of KIVI at 8, 4, 2 bits;
 * - recall: a name (three random code words) defined at the top and used ~440 bytes later, scored as
 *   the share of its bytes after the first 4 that the argmax gets right (teacher-forced), beside a
 *   control where the name is never defined.
 *
 * Timed cases (the harness: ratio against the full cache, same run) for three representative methods.
 *
 *   npm run bench:quality -w @hasten/kv -- [--quick]
 */
import { parseArgs } from 'node:util';
import { rng, tensor } from '@hasten/core-tensor';
import { defineBenchmark, defineCase, type Series } from '@hasten/eval';
import { findRepoRoot, loadHeldoutFiles, runAndWrite } from '@hasten/eval/node';
import type { CausalLM, LlamaConfig } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import {
  type CompressOptions,
  ContiguousKVCache,
  compress,
  elasticMerge,
  expectedAttention,
  h2o,
  type KVCache,
  keyformer,
  keyNorm,
  QuantizedKVCache,
  randomScores,
  type ScorePolicy,
  snapKV,
  streamingLLM,
  tova,
} from '../src/index';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = args.quick;

const PROMPT = 448;
const EVAL = 64;
const WINDOW = 32; // queries handed to the attention-based policies (the prompt's last 32)
const BUDGETS = [0.1, 0.25, 0.5];
const WINDOWS = quick ? 2 : 10;
const RECALLS = quick ? 2 : 12;

const root = findRepoRoot();
const model: CausalLM = await loadCausalLM(`${root}/fixtures/code-target`);
const cfg = model.config;
const llama = cfg as LlamaConfig;
const rope = { ropeTheta: llama.ropeTheta, ...(llama.ropeScaling ? { ropeScaling: llama.ropeScaling } : {}) };
const enc = (s: string) => Array.from(Buffer.from(s, 'utf8'));

// ------------------------------------------------------------------ data
const files = loadHeldoutFiles({ root });
/** One 512-byte window per held-out file, from a line start a third of the way in. */
const windows = files.slice(0, WINDOWS).map((f) => {
  const bytes = enc(f.text);
  let at = Math.floor(bytes.length / 3);
  while (bytes[at - 1] !== 0x0a) at++;
  return { prompt: bytes.slice(at, at + PROMPT), target: bytes.slice(at + PROMPT, at + PROMPT + EVAL) };
});
/**
 * Recall prompts: `name = value` on the first line, held-out code, then `print(` and the name's first
 * 4 bytes; the name joins three random code words, so only its definition tells the rest. The
 * control defines a different name instead: what the model gets right without the definition.
 */
const WORDS = [
  'buffer',
  'count',
  'header',
  'index',
  'limit',
  'stream',
  'token',
  'value',
  'cache',
  'queue',
  'parse',
  'retry',
  'offset',
  'window',
  'block',
  'state',
  'event',
  'field',
  'name',
  'path',
];
function recallSet(control: boolean) {
  return Array.from({ length: RECALLS }, (_, i) => {
    const r = rng(1000 + i);
    const pick = () => WORDS[Math.floor(r.uniform(1)[0] * WORDS.length)];
    const name = `${pick()}_${pick()}_${pick()}`;
    const other = `${pick()}_${pick()}_${pick()}`;
    const head = enc(`${control ? other : name} = ${Math.floor(r.uniform(1)[0] * 1000)}\n`);
    const use = enc(`print(${name.slice(0, 4)}`);
    const filler = enc(files[i % files.length].text);
    let at = Math.floor(filler.length / 2);
    while (filler[at - 1] !== 0x0a) at++;
    const body = filler.slice(at, at + PROMPT - head.length - use.length - 1).concat([0x0a]);
    return { prompt: [...head, ...body, ...use], target: enc(`${name.slice(4)})`) };
  });
}
const recalls = recallSet(false);

// ------------------------------------------------------------------ methods
interface Method {
  name: string;
  policy?: ScorePolicy;
  allocation?: CompressOptions['allocation'];
  bits?: 8 | 4 | 2;
  /** Elastic Cache: merge evicted entries into anchors (true) or drop them (false). */
  elastic?: boolean;
}
const attention: [string, () => ScorePolicy][] = [
  ['SnapKV', () => snapKV()],
  ['Expected Attention', () => expectedAttention(rope)],
];
const METHODS: Method[] = [
  { name: 'StreamingLLM', policy: streamingLLM() },
  { name: 'key-norm', policy: keyNorm() },
  { name: 'random', policy: randomScores({ seed: 0 }) },
  { name: 'H2O', policy: h2o() },
  { name: 'TOVA', policy: tova() },
  { name: 'Keyformer', policy: keyformer() },
  ...attention.map(([name, p]) => ({ name, policy: p() })),
  ...attention.map(([name, p]) => ({
    name: `${name} per-head`,
    policy: p(),
    allocation: 'per-head' as const,
  })),
  ...attention.map(([name, p]) => ({ name: `${name} + AdaKV`, policy: p(), allocation: 'ada-kv' as const })),
  { name: 'SnapKV + PrefixKV', policy: snapKV(), allocation: 'prefix-kv' },
  { name: 'Elastic Cache merge (H2O scores)', policy: h2o(), elastic: true },
  { name: 'Elastic Cache anchors, dropped (H2O scores)', policy: h2o(), elastic: false },
];
const KIVI: Method[] = [8, 4, 2].map((bits) => ({ name: `KIVI ${bits}-bit`, bits: bits as 8 | 4 | 2 }));

// ------------------------------------------------------------------ scoring
interface Score {
  bits: number;
  correct: number;
  count: number;
  argmax: number[];
}

function makeCache(m: Method | null): KVCache {
  const shape = {
    numLayers: cfg.numLayers,
    batch: 1,
    numKvHeads: cfg.numKvHeads,
    headDim: cfg.headDim,
    maxLength: 512,
  };
  return m?.bits ? new QuantizedKVCache({ ...shape, bits: m.bits }) : new ContiguousKVCache(shape);
}

const ids = (xs: number[]) => tensor(Int32Array.from(xs), [1, xs.length], { dtype: 'i32' });

/** Prefill `prompt`, compress to `budget` of it (if a policy), then teacher-force `target`. */
async function score(prompt: number[], target: number[], m: Method | null, budget: number): Promise<Score> {
  const cache = makeCache(m);
  const wantQ = m?.policy?.needsQueries ? WINDOW : undefined;
  const pre = await model.forward({ tokens: ids(prompt), cache, logitsToKeep: 1, outputQueries: wantQ });
  let logits = (await pre.logits.data()) as Float32Array;
  pre.logits.dispose();
  if (m?.policy && m.elastic !== undefined) {
    elasticMerge(cache as ContiguousKVCache, {
      policy: m.policy,
      keep: Math.round(budget * prompt.length),
      merge: m.elastic,
      ...(wantQ ? { queries: pre.queries, numHeads: cfg.numHeads } : {}),
    });
  } else if (m?.policy) {
    compress(cache, {
      policy: m.policy,
      keep: Math.round(budget * prompt.length),
      allocation: m.allocation ?? 'shared',
      ...(wantQ ? { queries: pre.queries, numHeads: cfg.numHeads } : {}),
    });
  }
  // Teacher forcing: one causal forward of target[0..n-2] through the (compressed) cache gives the
  // logits for target[1..n-1], as n - 1 decode steps would.
  const V = cfg.vocabSize;
  if (target.length > 1) {
    const rest = await model.forward({ tokens: ids(target.slice(0, -1)), cache });
    const more = (await rest.logits.data()) as Float32Array;
    rest.logits.dispose();
    const all = new Float32Array(V * target.length);
    all.set(logits);
    all.set(more, V);
    logits = all;
  }
  const out: Score = { bits: 0, correct: 0, count: target.length, argmax: [] };
  for (let i = 0; i < target.length; i++) {
    const row = logits.subarray(i * V, (i + 1) * V);
    let max = -Infinity;
    let best = 0;
    for (let v = 0; v < V; v++) {
      if (row[v] > max) {
        max = row[v];
        best = v;
      }
    }
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(row[v] - max);
    out.bits += (Math.log(z) - (row[target[i]] - max)) / Math.LN2;
    out.argmax.push(best);
    if (best === target[i]) out.correct++;
  }
  cache.dispose();
  return out;
}

async function aggregate(set: { prompt: number[]; target: number[] }[], m: Method | null, budget: number) {
  let bits = 0;
  let correct = 0;
  let count = 0;
  for (const w of set) {
    const s = await score(w.prompt, w.target, m, budget);
    bits += s.bits;
    correct += s.correct;
    count += s.count;
  }
  return { bpb: bits / count, accuracy: correct / count };
}

// ------------------------------------------------------------------ measure
const t0 = performance.now();
const full = await aggregate(windows, null, 1);
const fullRecall = await aggregate(recalls, null, 1);
const control = await aggregate(recallSet(true), null, 1);
interface Row {
  name: string;
  bpb: number[];
  accuracy: number[];
  recall: number[];
}
const rows: Row[] = [];
for (const m of METHODS) {
  const row: Row = { name: m.name, bpb: [], accuracy: [], recall: [] };
  for (const b of BUDGETS) {
    const q = await aggregate(windows, m, b);
    const r = await aggregate(recalls, m, b);
    row.bpb.push(q.bpb);
    row.accuracy.push(q.accuracy);
    row.recall.push(r.accuracy);
  }
  rows.push(row);
  console.error(`${m.name}: bpb ${row.bpb.map((x) => x.toFixed(3)).join(' / ')}`);
}
const kivi: { name: string; bpb: number; accuracy: number; recall: number }[] = [];
for (const m of KIVI) {
  const q = await aggregate(windows, m, 1);
  const r = await aggregate(recalls, m, 1);
  kivi.push({ name: m.name, bpb: q.bpb, accuracy: q.accuracy, recall: r.accuracy });
}
console.error(`quality pass: ${((performance.now() - t0) / 1000).toFixed(0)} s`);

// ------------------------------------------------------------------ table
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const f3 = (x: number) => x.toFixed(3);
const lines = [
  `| cache (budget = share of the ${PROMPT}-byte prompt kept) | bpb 10% | bpb 25% | bpb 50% | next-byte acc 10% / 25% / 50% | recall 10% / 25% / 50% |`,
  '| --- | --: | --: | --: | --: | --: |',
  `| full f32 cache (baseline) | ${f3(full.bpb)} | ${f3(full.bpb)} | ${f3(full.bpb)} | ${pct(full.accuracy)} | ${pct(fullRecall.accuracy)} |`,
  `| control: full cache, the name never defined | | | | | ${pct(control.accuracy)} |`,
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.bpb.map(f3).join(' | ')} | ${r.accuracy.map(pct).join(' / ')} | ${r.recall.map(pct).join(' / ')} |`,
  ),
  ...kivi.map(
    (k) => `| ${k.name} (all positions) | ${f3(k.bpb)} | | | ${pct(k.accuracy)} | ${pct(k.recall)} |`,
  ),
];
console.log(lines.join('\n'));

// ------------------------------------------------------------------ harness: timed cases + series
const series: Series[] = [
  {
    kind: 'accuracy-vs-budget',
    name: 'eviction-bpb',
    title: `Bits per byte against KV budget (code-target, ${WINDOWS} held-out windows, ${PROMPT}+${EVAL} bytes)`,
    xLabel: 'share of prompt positions kept',
    yLabel: 'bits per byte (lower is better)',
    xScale: 'linear',
    lines: [
      { label: 'full cache', points: BUDGETS.map((x) => ({ x, y: full.bpb })) },
      ...rows.map((r) => ({ label: r.name, points: BUDGETS.map((x, i) => ({ x, y: r.bpb[i] })) })),
    ],
  },
  {
    kind: 'accuracy-vs-budget',
    name: 'eviction-recall',
    title: `Recall of a name defined ~${PROMPT} bytes earlier against KV budget (code-target, ${RECALLS} prompts)`,
    xLabel: 'share of prompt positions kept',
    yLabel: 'name bytes recalled',
    xScale: 'linear',
    lines: [
      { label: 'full cache', points: BUDGETS.map((x) => ({ x, y: fullRecall.accuracy })) },
      { label: 'control (name never defined)', points: BUDGETS.map((x) => ({ x, y: control.accuracy })) },
      ...rows.map((r) => ({ label: r.name, points: BUDGETS.map((x, i) => ({ x, y: r.recall[i] })) })),
    ],
  },
];

const w0 = windows[0];
const timed = (name: string, m: Method, budget: number) => {
  const bpbOf = (s: Score) => s.bits / s.count;
  return defineCase<Score>({
    name: `${name} vs full cache, code-target (${PROMPT}-byte prompt + ${EVAL} scored bytes)`,
    baselineLabel: 'full f32 cache',
    methodLabel: name,
    baseline: () => score(w0.prompt, w0.target, null, 1),
    method: () => score(w0.prompt, w0.target, m, budget),
    quality: (a, b) => {
      const rise = bpbOf(b) - bpbOf(a);
      return {
        metric: 'bits per byte rise over the full cache',
        value: rise,
        pass: rise <= 0.25,
        threshold: '<= 0.25',
      };
    },
    work: { amount: EVAL, unit: 'tokens' },
  });
};
await runAndWrite(
  defineBenchmark({
    package: 'kv',
    name: 'quality',
    description: `Eviction and KIVI quality on code-target over held-out files (table in the kv README), with the time of prefill + compression + ${EVAL} scored steps against the full cache`,
    warmup: 1,
    repeats: quick ? 2 : 5,
    environment: { backend: 'cpu' },
    cases: [
      timed('StreamingLLM 25%', { name: 'StreamingLLM', policy: streamingLLM() }, 0.25),
      timed('SnapKV + AdaKV 25%', { name: 'SnapKV + AdaKV', policy: snapKV(), allocation: 'ada-kv' }, 0.25),
      timed('KIVI 4-bit', { name: 'KIVI 4-bit', bits: 4 }, 1),
    ],
    series,
  }),
  quick ? { write: false } : {},
);
model.dispose();
