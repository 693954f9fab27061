/**
 * Prefill and decode speed of the fixture target (fixtures/code-target, 3.1M parameters) on three
 * engines, in one process on the same tokens:
 * - transformers.js (@huggingface/transformers, offline, on the same model exported with
 *   Optimum-style inputs: fixtures/code-target/onnx-optimum), through its `generate`;
 * - hasten ORT (OrtCausalLM over onnxruntime-node, our export: the lean graph of
 *   tools/fixtures/onnx_graph.py with a 4-D additive mask);
 * - hasten ORT on the Optimum export (the very graph transformers.js runs), which separates what
 *   the graph gains from what the runtime around session.run costs;
 * - hasten native (LlamaModel on core-tensor's 'cpu' backend);
 * - hasten native addon (the same LlamaModel on 'cpu-native': @hasten/kernels-cpu's matrix-vector
 *   and attention kernels), when the addon is built (else the bench says why it is absent);
 * - node-llama-cpp (llama.cpp's prebuilt CPU build from tools/peers, llama-cpp-peer.ts) on the same
 *   f32 weights written to GGUF from the native model, when it is installed (else the bench says
 *   it is absent; `--skip-peer` leaves it out). Its cases are against hasten native.
 * onnxruntime runs with the same intra-op thread count in both ORT engines, llama.cpp with as many
 * threads.
 *
 * prefill: one forward over a 256-token prompt (BOS + the first 255 bytes of a held-out CPython
 *   file) and the greedy first token.
 * decode: 128 greedy tokens after the same prompt, each a single-token forward through the KV cache,
 *   starting from a cache that holds the first 255 prompt tokens (so exactly 128 forwards of one
 *   token); transformers.js gets the same through `generate({ past_key_values })`.
 * Quality: the greedy tokens of the engines must be identical.
 *
 *   npm run bench -w @hasten/models -- [--threads 1] [--repeats 5] [--warmup 1] [--new 128] [--prompt 256] [--quick]
 *
 * Then, in a process of its own, the real-size bench (real-size.ts: a random-weight checkpoint with
 * Qwen2-0.5B's shapes on native and ORT; load time, peak RSS, decode tok/s). `--only fixture` or
 * `--only real-size` runs one of the two; `--real-size-dir <dir>` keeps (and reuses) its checkpoint
 * and export there, `--real-size-new N` / `--real-size-prompt P` size its decode and prefill.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tensor } from '@hasten/core-tensor';
import { defineBenchmark, defineCase } from '@hasten/eval';
import { runAndWrite } from '@hasten/eval/node';
import type { KVCache } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM, loadTokenizer } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';
import { AutoModelForCausalLM, DynamicCache, env, Tensor as TjsTensor } from '@huggingface/transformers';
import { argmaxRow, FIXTURES, fixtureDir, greedy } from '../src/testing';
import { type LlamaCppSession, llamaCppGreedy, loadLlamaCppPeer, saveGGUFForPeer } from './llama-cpp-peer';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    repeats: { type: 'string' },
    warmup: { type: 'string' },
    new: { type: 'string' },
    prompt: { type: 'string' },
    quick: { type: 'boolean', default: false },
    fixture: { type: 'string' },
    only: { type: 'string' },
    'real-size-dir': { type: 'string' },
    'real-size-new': { type: 'string' },
    'real-size-prompt': { type: 'string' },
    'skip-peer': { type: 'boolean', default: false },
  },
});
if (args.only !== undefined && args.only !== 'fixture' && args.only !== 'real-size') {
  throw new Error(`--only must be 'fixture' or 'real-size', got '${args.only}'`);
}

/** The real-size bench in its own process (its memory figures must not include this one's). */
function realSizeBench(): number {
  const forward = [`--threads=${args.threads}`];
  if (args['real-size-dir']) forward.push(`--dir=${args['real-size-dir']}`);
  if (args['real-size-new']) forward.push(`--new=${args['real-size-new']}`);
  if (args['real-size-prompt']) forward.push(`--prompt=${args['real-size-prompt']}`);
  if (args.quick) forward.push('--no-write', '--repeats=1', ...(args['real-size-new'] ? [] : ['--new=4']));
  const script = fileURLToPath(new URL('./real-size.ts', import.meta.url));
  return (
    spawnSync(process.execPath, ['--import', 'tsx', script, ...forward], { stdio: 'inherit' }).status ?? 1
  );
}
if (args.only === 'real-size') process.exit(realSizeBench());
const threads = Number(args.threads);
const quick = args.quick;
const NEW = Number(args.new ?? (quick ? 16 : 128));
const PROMPT = Number(args.prompt ?? (quick ? 64 : 256));
const repeats = Number(args.repeats ?? (quick ? 2 : 5));
const warmup = Number(args.warmup ?? 1);

// --fixture: another folder laid out like fixtures/code-target (config.json, model.safetensors,
// onnx/model.onnx, onnx-optimum/), e.g. for trying the bench on a freshly exported model.
// A relative --fixture is taken from where npm was invoked (INIT_CWD), not the package folder.
const dir = args.fixture
  ? resolve(process.env.INIT_CWD ?? process.cwd(), args.fixture)
  : fixtureDir('code-target', 'onnx/model.onnx');
if (!existsSync(join(dir, 'onnx-optimum', 'onnx', 'model.onnx'))) {
  throw new Error(`${dir}/onnx-optimum/onnx/model.onnx is missing; run \`npm run fixtures\` to build it`);
}

// Prompt: BOS + the first PROMPT - 1 bytes of the first held-out file.
const heldout = join(FIXTURES, 'corpus', 'heldout');
const file = readdirSync(heldout).sort()[0];
const tok = loadTokenizer(dir);
const prompt = tok.encode(readFileSync(join(heldout, file), 'utf8')).slice(0, PROMPT);
if (prompt.length !== PROMPT) throw new Error(`held-out file ${file} is shorter than ${PROMPT} tokens`);

const native = await loadCausalLM(dir);
// The native kernels addon, where built: the same model on 'cpu-native'.
const kernelsCpu = await import('@hasten/kernels-cpu');
const addonAbsent = kernelsCpu.isCpuAddonAvailable() ? undefined : kernelsCpu.cpuKernelsInfo().reason;
if (!addonAbsent) kernelsCpu.registerCpuNative();
const nativeAddon = addonAbsent ? undefined : await loadCausalLM(dir, { device: kernelsCpu.NATIVE_BACKEND });
const ort = await OrtCausalLM.load(dir, { intraOpNumThreads: threads });
const ortOptimum = await OrtCausalLM.load(join(dir, 'onnx-optimum'), { intraOpNumThreads: threads });

env.allowRemoteModels = false;
env.localModelPath = dirname(dir);
const tjs = await AutoModelForCausalLM.from_pretrained(`${basename(dir)}/onnx-optimum`, {
  dtype: 'fp32',
  session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
});

const ids = (t: number[]) => new TjsTensor('int64', BigInt64Array.from(t, BigInt), [1, t.length]);
const ones = (n: number) => new TjsTensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
const genOpts = { do_sample: false, eos_token_id: [] as number[] };

// ---- the measured calls

async function hastenPrefill(model: CausalLM): Promise<number[]> {
  const cache = model.createCache();
  const t = tensor(Int32Array.from(prompt), [1, prompt.length]);
  const { logits } = await model.forward({ tokens: t, cache, logitsToKeep: 1 });
  const next = argmaxRow(await logits.data(), 0, model.config.vocabSize);
  t.dispose();
  logits.dispose();
  cache.dispose();
  return [next];
}

async function hastenDecode(model: CausalLM, base: KVCache): Promise<number[]> {
  const cache = base.fork();
  const { tokens } = await greedy(model, cache, [prompt[prompt.length - 1]], NEW);
  cache.dispose();
  return tokens;
}

async function tjsPrefill(): Promise<number[]> {
  const out = (await tjs.generate({
    input_ids: ids(prompt),
    attention_mask: ones(prompt.length),
    max_new_tokens: 1,
    ...genOpts,
  })) as TjsTensor;
  return Array.from(out.data as BigInt64Array, Number).slice(prompt.length);
}

// transformers.js's cache after the first PROMPT - 1 tokens, reused (copied) by every decode call.
const tjsBase = (
  (await tjs.generate({
    input_ids: ids(prompt.slice(0, -1)),
    max_new_tokens: 1,
    return_dict_in_generate: true,
    ...genOpts,
  })) as {
    past_key_values: DynamicCache;
  }
).past_key_values;

async function tjsDecode(): Promise<number[]> {
  const past = new DynamicCache({ ...tjsBase } as unknown as Record<string, TjsTensor>);
  const out = (await tjs.generate({
    input_ids: ids(prompt),
    attention_mask: ones(prompt.length),
    past_key_values: past,
    max_new_tokens: NEW,
    ...genOpts,
  })) as TjsTensor;
  return Array.from(out.data as BigInt64Array, Number).slice(prompt.length);
}

async function prefilled(model: CausalLM): Promise<KVCache> {
  const cache = model.createCache();
  const t = tensor(Int32Array.from(prompt.slice(0, -1)), [1, prompt.length - 1]);
  (await model.forward({ tokens: t, cache, logitsToKeep: 1 })).logits.dispose();
  t.dispose();
  return cache;
}
const ortBase = await prefilled(ort);
const ortOptimumBase = await prefilled(ortOptimum);
const nativeBase = await prefilled(native);
const nativeAddonBase = nativeAddon ? await prefilled(nativeAddon) : undefined;

// node-llama-cpp on the native model's f32 weights as GGUF, the sequence holding the prompt minus
// its last token (as the other engines' caches).
const loadedPeer = args['skip-peer']
  ? { peer: undefined, absent: 'left out (--skip-peer)' }
  : await loadLlamaCppPeer(join(FIXTURES, '..'));
const peerTmp = loadedPeer.peer ? mkdtempSync(join(tmpdir(), 'hasten-gguf-')) : undefined;
let peerSession: LlamaCppSession | undefined;
if (loadedPeer.peer && peerTmp) {
  const path = join(peerTmp, 'model-f32.gguf');
  await saveGGUFForPeer(native, dir, path);
  peerSession = await loadedPeer.peer.open(path, { contextSize: PROMPT + NEW + 8, threads });
  await peerSession.sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
}
console.log(
  loadedPeer.peer
    ? `node-llama-cpp ${loadedPeer.peer.version} (llama.cpp ${loadedPeer.peer.buildType} CPU binaries), ${threads} thread(s), f32 GGUF`
    : `node-llama-cpp absent: ${loadedPeer.absent}`,
);
const peerPrefill = (s: LlamaCppSession) => llamaCppGreedy(s.sequence, 0, prompt, 1);
const peerDecode = (s: LlamaCppSession) =>
  llamaCppGreedy(s.sequence, prompt.length - 1, [prompt[prompt.length - 1]], NEW);

const identical = (a: number[], b: number[]) => {
  const same = a.length === b.length && a.every((x, i) => x === b[i]);
  let n = 0;
  while (n < Math.min(a.length, b.length) && a[n] === b[n]) n++;
  return {
    metric: 'identical greedy tokens (matching prefix length)',
    value: n,
    pass: same,
    threshold: `= ${b.length}`,
  };
};

const prefillWork = { amount: PROMPT, unit: 'tokens' };
const decodeWork = { amount: NEW, unit: 'tokens' };

const definition = defineBenchmark({
  package: 'models',
  // The committed result is the target's; other fixtures get their own file.
  name: basename(dir) === 'code-target' ? 'causal-lm' : `causal-lm-${basename(dir)}`,
  description: `${basename(dir)} (${prompt.length}-token prompt, ${NEW} greedy tokens), onnxruntime intraOpNumThreads=${threads}`,
  warmup,
  repeats,
  environment: {
    backend: 'cpu',
    versions: {
      'onnxruntime-node': '1.30.0',
      '@huggingface/transformers': '4.3.1',
      ...(loadedPeer.peer ? { 'node-llama-cpp': loadedPeer.peer.version } : {}),
    },
  },
  cases: [
    defineCase<number[]>({
      name: `prefill-${PROMPT}`,
      baselineLabel: 'transformers.js',
      methodLabel: 'hasten ORT',
      baseline: tjsPrefill,
      method: () => hastenPrefill(ort),
      quality: identical,
      work: prefillWork,
    }),
    defineCase<number[]>({
      name: `decode-${NEW}`,
      baselineLabel: 'transformers.js',
      methodLabel: 'hasten ORT',
      baseline: tjsDecode,
      method: () => hastenDecode(ort, ortBase),
      quality: identical,
      work: decodeWork,
    }),
    defineCase<number[]>({
      name: `decode-${NEW}-optimum-graph`,
      baselineLabel: 'transformers.js',
      methodLabel: 'hasten ORT, Optimum graph',
      baseline: tjsDecode,
      method: () => hastenDecode(ortOptimum, ortOptimumBase),
      quality: identical,
      work: decodeWork,
    }),
    defineCase<number[]>({
      name: `prefill-${PROMPT}-native`,
      baselineLabel: 'hasten ORT',
      methodLabel: 'hasten native cpu',
      baseline: () => hastenPrefill(ort),
      method: () => hastenPrefill(native),
      quality: identical,
      work: prefillWork,
    }),
    defineCase<number[]>({
      name: `decode-${NEW}-native`,
      baselineLabel: 'hasten ORT',
      methodLabel: 'hasten native cpu',
      baseline: () => hastenDecode(ort, ortBase),
      method: () => hastenDecode(native, nativeBase),
      quality: identical,
      work: decodeWork,
    }),
    ...(nativeAddon && nativeAddonBase
      ? [
          defineCase<number[]>({
            name: `prefill-${PROMPT}-native-addon`,
            baselineLabel: 'hasten ORT',
            methodLabel: 'hasten native addon',
            baseline: () => hastenPrefill(ort),
            method: () => hastenPrefill(nativeAddon),
            quality: identical,
            work: prefillWork,
          }),
          defineCase<number[]>({
            name: `decode-${NEW}-native-addon`,
            baselineLabel: 'hasten ORT',
            methodLabel: 'hasten native addon',
            baseline: () => hastenDecode(ort, ortBase),
            method: () => hastenDecode(nativeAddon, nativeAddonBase),
            quality: identical,
            work: decodeWork,
          }),
        ]
      : []),
    ...(peerSession
      ? [
          defineCase<number[]>({
            name: `prefill-${PROMPT}-llama-cpp`,
            baselineLabel: 'hasten native cpu',
            methodLabel: 'node-llama-cpp f32',
            baseline: () => hastenPrefill(native),
            method: () => peerPrefill(peerSession),
            quality: identical,
            work: prefillWork,
          }),
          defineCase<number[]>({
            name: `decode-${NEW}-llama-cpp`,
            baselineLabel: 'hasten native cpu',
            methodLabel: 'node-llama-cpp f32',
            baseline: () => hastenDecode(native, nativeBase),
            method: () => peerDecode(peerSession),
            quality: identical,
            work: decodeWork,
          }),
        ]
      : []),
  ],
});

// Quick runs and models outside fixtures/ are not written.
const inFixtures = resolve(dir).startsWith(`${FIXTURES}/`);
const { result } = await runAndWrite(definition, quick || !inFixtures ? { write: false } : {});
await peerSession?.dispose();
await loadedPeer.peer?.dispose();
if (peerTmp) rmSync(peerTmp, { recursive: true, force: true });

// Side by side: tokens/s at the median of each engine.
const rate = (name: string, side: 'baseline' | 'method') => {
  const c = result.cases.find((x) => x.name === name)!;
  return c.work![side === 'baseline' ? 'baselinePerSecond' : 'methodPerSecond'];
};
const rows = [
  [
    'transformers.js (ORT, Optimum export)',
    rate(`prefill-${PROMPT}`, 'baseline'),
    rate(`decode-${NEW}`, 'baseline'),
  ],
  ['hasten ORT (our export)', rate(`prefill-${PROMPT}`, 'method'), rate(`decode-${NEW}`, 'method')],
  ['hasten ORT (Optimum export)', undefined, rate(`decode-${NEW}-optimum-graph`, 'method')],
  [
    'hasten native (core-tensor cpu)',
    rate(`prefill-${PROMPT}-native`, 'method'),
    rate(`decode-${NEW}-native`, 'method'),
  ],
  ...(nativeAddon
    ? [
        [
          'hasten native addon (cpu-native)',
          rate(`prefill-${PROMPT}-native-addon`, 'method'),
          rate(`decode-${NEW}-native-addon`, 'method'),
        ],
      ]
    : []),
  ...(peerSession
    ? [
        [
          'node-llama-cpp (llama.cpp, f32 GGUF)',
          rate(`prefill-${PROMPT}-llama-cpp`, 'method'),
          rate(`decode-${NEW}-llama-cpp`, 'method'),
        ],
      ]
    : []),
];
console.log(`\n| engine | prefill ${PROMPT} tok/s | decode tok/s |\n|---|---|---|`);
for (const [name, p, d] of rows)
  console.log(
    `| ${name} | ${p === undefined ? 'not measured' : (p as number).toFixed(0)} | ${(d as number).toFixed(0)} |`,
  );
if (!nativeAddon) console.log(`| hasten native addon | absent: ${addonAbsent} | |`);
if (!peerSession) console.log(`| node-llama-cpp | absent: ${loadedPeer.absent} | |`);

if (args.only !== 'fixture') {
  console.log('\nreal-size bench (Qwen2-0.5B shapes, random weights):');
  process.exitCode = realSizeBench();
}
