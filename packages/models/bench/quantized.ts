/**
 * Decode speed of weight-only quantized models (LlamaModel.quantize, round-to-nearest) against the
 * same model in f32, in one process on the same tokens: int8 per channel, int4 in groups of 32,
 * and the GGUF Q8_0 / Q4_0 blocks, on
 * - the code target (fixtures/code-target, 3.1M parameters), 64 greedy tokens after a 128-byte
 *   held-out prompt; quality: greedy tokens identical to f32's, and the first step's logits;
 * - the random-weight Qwen2-0.5B-shaped checkpoint of real-size.ts (494M parameters), 8 greedy
 *   tokens after 16; quality: the first step's logits against f32 (random weights: no text).
 * Decoding reads every weight once per token, so beside each speed are the weight bytes and the
 * memory-bound ceiling (copy bandwidth measured in this run / weight bytes).
 *
 * `--backend cpu-native` runs every model (f32 and quantized) on @hasten/kernels-cpu's native
 * matrix-vector kernels instead of the WebAssembly ones (the addon must be built:
 * `npm run build:addon -w @hasten/kernels-cpu`), and writes quantized-<model>-cpu-native.json.
 * `--dot int8` (with `--backend cpu-native` only) sets the addon's integer-dot path
 * (configureCpuKernels({ dot: 'int8' }): activations rounded to int8 per block of 32 for the int8 /
 * int4 / Q8_0 / Q4_0 weights, as llama.cpp does; f32 weights keep the float kernels); case names then
 * say "int8 dot" and the file is quantized-<model>-cpu-native-int8dot.json.
 *
 * Peer: node-llama-cpp (llama.cpp's prebuilt CPU build, tools/peers; llama-cpp-peer.ts) decodes
 * the same model written to GGUF from the native model's own weights (saveGGUF: f32, F16, Q8_0,
 * Q4_0), on `--peer-threads` threads (default 1, as the native engine), greedy from the same
 * prompt state; each case is node-llama-cpp against native in the same weight type. Quality: the
 * first step's logits against native's (llama.cpp also rounds activations to f16 / Q8_0 for those
 * weight types), with the greedy tokens equal to native's beside it. Where the peer is not
 * installed the bench says so and runs without it (`--skip-peer` leaves it out). The 0.5B-shaped
 * model is written by qwen2-gguf.ts (qwen2 architecture, placeholder vocabulary) in Q8_0 and Q4_0
 * only: the GGUF writer assembles a file in memory, and f32 / F16 files of 2 / 1 GB beside the
 * five native models in this process would crowd a small machine.
 *
 *   npm run bench:quantized -w @hasten/models -- [--dir <0.5B checkpoint dir>] [--only code-target|qwen2-0.5b] [--backend cpu|cpu-native] [--dot float|int8] [--peer-threads N] [--skip-peer] [--quick]
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setDefaultBackend, tensor } from '@hasten/core-tensor';
import { defineBenchmark, defineCase, measureCopyBandwidth } from '@hasten/eval';
import { findRepoRoot, runAndWrite } from '@hasten/eval/node';
import type { KVCache } from '@hasten/kv';
import type { LlamaModel, QuantizeOptions } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { findPython } from '../../../scripts/python';
import {
  type LlamaCppPeer,
  type LlamaCppSession,
  llamaCppGreedy,
  llamaCppNextLogits,
  loadLlamaCppPeer,
  saveGGUFForPeer,
} from './llama-cpp-peer';
import { ensureRealSizeCheckpoint } from './real-size-checkpoint';
import { argmax, benchTokens } from './tokens';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'cpu' },
    dot: { type: 'string', default: 'float' },
    'peer-threads': { type: 'string', default: '1' },
    'skip-peer': { type: 'boolean', default: false },
  },
});
const peerThreads = Number(args['peer-threads']);
if (!Number.isInteger(peerThreads) || peerThreads < 1) {
  throw new Error(`--peer-threads must be a positive integer, got '${args['peer-threads']}'`);
}
if (!['cpu', 'cpu-native'].includes(args.backend)) {
  throw new Error(`--backend must be cpu or cpu-native, got '${args.backend}'`);
}
const native = args.backend === 'cpu-native';
if (!['float', 'int8'].includes(args.dot)) {
  throw new Error(`--dot must be float or int8, got '${args.dot}'`);
}
if (args.dot === 'int8' && !native) {
  throw new Error("--dot int8 needs --backend cpu-native (the integer-dot kernels are the addon's)");
}
const int8Dot = args.dot === 'int8';
if (native) {
  const { configureCpuKernels, registerCpuNative } = await import('@hasten/kernels-cpu');
  registerCpuNative(); // throws, with the reason, when the addon is not built
  if (int8Dot) configureCpuKernels({ dot: 'int8' });
  setDefaultBackend('cpu-native');
}
/** Suffix of case names for the backend (and the addon's dot setting). */
const BACKEND_TAG = native ? `, cpu-native${int8Dot ? ', int8 dot' : ''}` : '';
/** Engine label in case names and the result file's suffix. */
const ENGINE = native ? 'native addon' : 'native';
if (args.only !== undefined && !['code-target', 'qwen2-0.5b'].includes(args.only)) {
  throw new Error(`--only must be code-target or qwen2-0.5b, got '${args.only}'`);
}
const runs = (name: string) => args.only === undefined || args.only === name;
const root = findRepoRoot();
const FORMATS: [string, QuantizeOptions][] = [
  ['int8', { format: 'int8' }],
  ['int4 g32', { format: 'int4-group', groupSize: 32 }],
  ['Q8_0', { format: 'q8_0' }],
  ['Q4_0', { format: 'q4_0' }],
];
const loadedPeer = args['skip-peer']
  ? { peer: undefined, absent: 'left out (--skip-peer)' }
  : await loadLlamaCppPeer(root);
const peer: LlamaCppPeer | undefined = loadedPeer.peer;
console.log(
  peer
    ? `peer: node-llama-cpp ${peer.version} (${peer.buildType} CPU binaries), ${peerThreads} thread(s)`
    : `peer: node-llama-cpp absent: ${loadedPeer.absent}`,
);
/** Peer weight types: GGUF type label -> the native model that holds the same weights. */
const PEER_FORMATS: [string, QuantizeOptions | null][] = [
  ['f32', null],
  ['F16', { format: 'f16' }],
  ['Q8_0', { format: 'q8_0' }],
  ['Q4_0', { format: 'q4_0' }],
];
/**
 * First-step logit tolerance (of the range) per peer weight type, see llama-cpp-peer.test.ts: for
 * F16 / Q8_0 / Q4_0 weights llama.cpp rounds the activations to f16 / Q8_0 blocks too. On the
 * trained code target that rounding moves the logits by < 1e-2 of their range; through the 24
 * random-weight layers of the 0.5B-shaped model by ~3e-2 (its F16 file, checked once, stays within
 * 1e-3, so the mapping is exact), which gets the bound this bench already gives 8-bit rounding there.
 */
const PEER_TOL: Record<string, number> = { f32: 1e-4, F16: 1e-3, Q8_0: 2e-2, Q4_0: 2e-2 };
const PEER_TOL_RANDOM: Record<string, number> = { ...PEER_TOL, Q8_0: 0.05, Q4_0: 0.05 };
const bandwidth = measureCopyBandwidth();
console.log(`copy bandwidth (TypedArray.set, 256 MiB, read + written): ${bandwidth.toFixed(1)} GB/s`);

interface Decoded {
  tokens: number[];
  first: Float32Array;
}

/** `n` greedy tokens from a cache holding prompt[0..P-2]: the last prompt token is the first input. */
async function decode(model: LlamaModel, base: KVCache, last: number, n: number): Promise<Decoded> {
  const cache = base.fork();
  const tokens: number[] = [];
  let input = last;
  let first = new Float32Array(0);
  for (let i = 0; i < n; i++) {
    const ids = tensor(Int32Array.from([input]), [1, 1], { dtype: 'i32' });
    const { logits } = await model.forward({ tokens: ids, cache, logitsToKeep: 1 });
    const row = (await logits.data()) as Float32Array;
    if (i === 0) first = Float32Array.from(row);
    input = argmax(row);
    tokens.push(input);
    logits.dispose();
    ids.dispose();
  }
  cache.dispose();
  return { tokens, first };
}

async function prefilled(model: LlamaModel, prompt: number[], n: number): Promise<KVCache> {
  const cache = model.createCache({ maxLength: prompt.length + n });
  const t = tensor(Int32Array.from(prompt.slice(0, -1)), [1, prompt.length - 1], { dtype: 'i32' });
  (await model.forward({ tokens: t, cache, logitsToKeep: 1 })).logits.dispose();
  t.dispose();
  return cache;
}

const relErr = (a: Float32Array, b: Float32Array) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
};

const table: string[] = [];
const peerTable: string[] = [];

interface PeerRun {
  label: string;
  /** The native model holding the same weights (f32, or quantized to the GGUF type). */
  m: LlamaModel;
  base: KVCache;
  fileBytes: number;
  first: Float32Array;
  session: LlamaCppSession;
}

/**
 * Each peer weight type written to GGUF from the native model that holds it (loading F16 here) and
 * opened in llama.cpp with the prompt minus its last token evaluated, plus the first step's logits.
 */
async function openPeerRuns(
  p: LlamaCppPeer,
  dir: string,
  tmp: string,
  prompt: number[],
  n: number,
  f32: { m: LlamaModel; base: KVCache },
  models: { label: string; m: LlamaModel; base: KVCache }[],
  extras: { m: LlamaModel; base: KVCache }[],
  labels: readonly string[],
): Promise<PeerRun[]> {
  const runs: PeerRun[] = [];
  for (const [label, q] of PEER_FORMATS.filter(([l]) => labels.includes(l))) {
    let nat = q === null ? f32 : models.find((x) => x.label === label);
    if (!nat && q) {
      const m = await loadCausalLM(dir, { quantize: q });
      nat = { m, base: await prefilled(m, prompt, n) };
      extras.push(nat);
    }
    if (!nat) throw new Error(`no native model for ${label}`);
    const path = join(tmp, `${label}.gguf`);
    await saveGGUFForPeer(nat.m, dir, path);
    const session = await p.open(path, { contextSize: prompt.length + n + 8, threads: peerThreads });
    await session.sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
    const first = await llamaCppNextLogits(session.sequence, prompt.slice(-1), nat.m.config.vocabSize);
    runs.push({ label, m: nat.m, base: nat.base, fileBytes: statSync(path).size, first, session });
  }
  return runs;
}

async function benchModel(
  name: string,
  dir: string,
  prompt: number[],
  n: number,
  realText: boolean,
  peerLabels: readonly string[],
) {
  const f32 = await loadCausalLM(dir);
  const f32Base = await prefilled(f32, prompt, n);
  const models: { label: string; m: LlamaModel; base: KVCache; loadMs: number }[] = [];
  for (const [label, q] of FORMATS) {
    const t0 = performance.now();
    const m = await loadCausalLM(dir, { quantize: q });
    const loadMs = performance.now() - t0;
    models.push({ label, m, base: await prefilled(m, prompt, n), loadMs });
  }
  const last = prompt[prompt.length - 1];
  const f32Bytes = f32.weightBytes();
  const extras: { m: LlamaModel; base: KVCache }[] = [];
  const tmp = peer ? mkdtempSync(join(tmpdir(), 'hasten-gguf-')) : undefined;
  const peerRuns =
    peer && tmp
      ? await openPeerRuns(peer, dir, tmp, prompt, n, { m: f32, base: f32Base }, models, extras, peerLabels)
      : [];
  const peerCases = peerRuns.map(({ label, m, base, first, session }) =>
    defineCase<Decoded>({
      name: `decode-${n} node-llama-cpp ${label} vs ${ENGINE} ${label}, ${name}${BACKEND_TAG}`,
      baselineLabel: `${ENGINE} ${label}`,
      methodLabel: `node-llama-cpp ${label} (${peerThreads} thread${peerThreads > 1 ? 's' : ''})`,
      baseline: () => decode(m, base, last, n),
      method: async () => ({
        tokens: await llamaCppGreedy(session.sequence, prompt.length - 1, [last], n),
        first,
      }),
      quality: (a, b) => {
        const err = relErr(b.first, a.first);
        const same = a.tokens.filter((t, i) => t === b.tokens[i]).length;
        const tol = (realText ? PEER_TOL : PEER_TOL_RANDOM)[label];
        return {
          metric: `first-step logits vs native's, max |Δ| / max |native| (greedy tokens equal to native's: ${same}/${n})`,
          value: err,
          pass: err <= tol,
          threshold: `<= ${tol}${realText ? '' : ' (random weights)'}`,
        };
      },
      work: { amount: n, unit: 'tokens' },
    }),
  );
  // The copy rate counts read + written bytes, so it bounds a read-only stream of the weights from
  // above only loosely: tok/s <= bandwidth / weight bytes.
  const ceiling = (bytes: number) => (bandwidth * 1e9) / bytes;
  const cases = models.map(({ label, m, base }) =>
    defineCase<Decoded>({
      name: `decode-${n} ${label} vs f32, ${name}${BACKEND_TAG}`,
      baselineLabel: `${ENGINE} f32`,
      methodLabel: `${ENGINE} ${label}`,
      baseline: () => decode(f32, f32Base, last, n),
      method: () => decode(m, base, last, n),
      quality: (a, b) => {
        const err = relErr(b.first, a.first);
        const same = a.tokens.filter((t, i) => t === b.tokens[i]).length / n;
        return realText
          ? {
              metric: `greedy tokens equal to f32's (first-step logit error ${err.toPrecision(2)} of the range)`,
              value: same,
              pass: label.includes('8') ? same >= 0.9 : same >= 0.5,
              threshold: label.includes('8') ? '>= 0.9 (8-bit)' : '>= 0.5 (4-bit)',
            }
          : {
              metric: 'first-step logits, max |Δ| / max |f32| (random weights)',
              value: err,
              pass: err <= (label.includes('8') ? 0.05 : 0.25),
              threshold: label.includes('8') ? '<= 0.05 (8-bit)' : '<= 0.25 (4-bit)',
            };
      },
      work: { amount: n, unit: 'tokens' },
    }),
  );
  const { result } = await runAndWrite(
    defineBenchmark({
      package: 'models',
      name: `quantized-${name}${native ? '-cpu-native' : ''}${int8Dot ? '-int8dot' : ''}`,
      description:
        `Native decode (${native ? `@hasten/kernels-cpu addon kernels${int8Dot ? ", dot 'int8' (activations rounded to int8 per block of 32 for the quantized weights)" : ''}` : 'WebAssembly kernels'}) of ${name} with RTN-quantized linear weights against f32 (${f32Bytes / 1e6} MB of weights), ` +
        `${prompt.length}-token prompt, ${n} greedy tokens. Copy bandwidth ${bandwidth.toFixed(1)} GB/s in this run; ` +
        `f32 memory-bound ceiling ${ceiling(f32Bytes).toFixed(1)} tok/s. ` +
        models
          .map(
            (x) =>
              `${x.label}: ${(x.m.weightBytes() / 1e6).toFixed(1)} MB (load + quantize ${(x.loadMs / 1000).toFixed(1)} s)`,
          )
          .join('; ') +
        '. Peer: ' +
        (peerRuns.length > 0
          ? `node-llama-cpp ${peer?.version} (llama.cpp ${peer?.buildType} CPU binaries, ${peerThreads} thread(s), f32 KV cache, no flash attention) on GGUF files written from the native weights: ${peerRuns.map((r) => `${r.label} ${(r.fileBytes / 1e6).toFixed(1)} MB`).join(', ')}`
          : `node-llama-cpp absent: ${loadedPeer.absent}`),
      warmup: 1,
      repeats: args.quick ? 2 : 5,
      environment: {
        backend: args.backend,
        ...(peerRuns.length > 0 && peer ? { versions: { 'node-llama-cpp': peer.version } } : {}),
      },
      cases: [...cases, ...peerCases],
    }),
    args.quick ? { write: false } : {},
  );
  const f32Rate = result.cases[0].work?.baselinePerSecond ?? Number.NaN;
  table.push(
    `| ${name} | f32 | ${(f32Bytes / 1e6).toFixed(1)} MB | ${f32Rate.toFixed(1)} | ${ceiling(f32Bytes).toFixed(1)} | 1× | |`,
  );
  result.cases.slice(0, models.length).forEach((c, i) => {
    const { m } = models[i];
    const rate = c.work?.methodPerSecond ?? Number.NaN;
    table.push(
      `| ${name} | ${models[i].label} | ${(m.weightBytes() / 1e6).toFixed(1)} MB | ${rate.toFixed(1)} | ${ceiling(m.weightBytes()).toFixed(1)} | **${c.speedup.ratio.toPrecision(3)}×** [${c.speedup.low.toPrecision(3)}, ${c.speedup.high.toPrecision(3)}] | ${c.quality?.pass ? 'PASS' : 'FAIL'} ${c.quality?.metric.replaceAll('|', '\\|')} = ${Number(c.quality?.value).toPrecision(3)} |`,
    );
  });
  result.cases.slice(models.length).forEach((c, i) => {
    const r = peerRuns[i];
    peerTable.push(
      `| ${name} | ${r.label} | ${(r.fileBytes / 1e6).toFixed(1)} MB | ${(c.work?.baselinePerSecond ?? Number.NaN).toFixed(1)} | ${(c.work?.methodPerSecond ?? Number.NaN).toFixed(1)} | **${c.speedup.ratio.toPrecision(3)}×** [${c.speedup.low.toPrecision(3)}, ${c.speedup.high.toPrecision(3)}] | ${c.quality?.pass ? 'PASS' : 'FAIL'} ${c.quality?.metric.replaceAll('|', '\\|')} = ${Number(c.quality?.value).toPrecision(2)} |`,
    );
  });
  if (peerRuns.length === 0) peerTable.push(`| ${name} | — | — | — | — | — | absent: ${loadedPeer.absent} |`);
  for (const r of peerRuns) await r.session.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  for (const x of [...models, ...extras]) {
    x.base.dispose();
    x.m.dispose();
  }
  f32Base.dispose();
  f32.dispose();
}

if (runs('code-target')) {
  const text = readFileSync(join(root, 'fixtures/corpus/heldout/shutil.py'));
  let at = 4000;
  while (text[at - 1] !== 0x0a) at++;
  const prompt = [256, ...text.subarray(at, at + 127)];
  await benchModel('code-target', join(root, 'fixtures/code-target'), prompt, args.quick ? 16 : 64, true, [
    'f32',
    'F16',
    'Q8_0',
    'Q4_0',
  ]);
}
if (runs('qwen2-0.5b')) {
  const given = args.dir !== undefined;
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'hasten-qwen2-0.5b-'));
  try {
    ensureRealSizeCheckpoint(dir, root, findPython(), { onnx: false });
    const vocab = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).vocab_size as number;
    await benchModel('qwen2-0.5b-shaped', dir, benchTokens(16, vocab), args.quick ? 4 : 8, false, [
      'Q8_0',
      'Q4_0',
    ]);
  } finally {
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}
console.log(
  '\n| model | weights | weight memory | decode tok/s | memory-bound ceiling tok/s | speed-up vs f32 [95% CI] | quality |\n|---|---|---|---|---|---|---|',
);
console.log(table.join('\n'));
console.log(
  `\nPeer (decode tok/s, ${peerThreads} thread(s) each; the ratio is node-llama-cpp's speed over native's):\n| model | weights | GGUF file | ${ENGINE} tok/s | node-llama-cpp tok/s | node-llama-cpp vs ${ENGINE} [95% CI] | quality |\n|---|---|---|---|---|---|---|`,
);
console.log(peerTable.join('\n'));
await peer?.dispose();
