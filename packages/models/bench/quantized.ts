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
 *
 *   npm run bench:quantized -w @hasten/models -- [--dir <0.5B checkpoint dir>] [--only code-target|qwen2-0.5b] [--backend cpu|cpu-native] [--quick]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { ensureRealSizeCheckpoint } from './real-size-checkpoint';
import { argmax, benchTokens } from './tokens';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'cpu' },
  },
});
if (!['cpu', 'cpu-native'].includes(args.backend)) {
  throw new Error(`--backend must be cpu or cpu-native, got '${args.backend}'`);
}
const native = args.backend === 'cpu-native';
if (native) {
  const { registerCpuNative } = await import('@hasten/kernels-cpu');
  registerCpuNative(); // throws, with the reason, when the addon is not built
  setDefaultBackend('cpu-native');
}
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

async function benchModel(name: string, dir: string, prompt: number[], n: number, realText: boolean) {
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
  // The copy rate counts read + written bytes, so it bounds a read-only stream of the weights from
  // above only loosely: tok/s <= bandwidth / weight bytes.
  const ceiling = (bytes: number) => (bandwidth * 1e9) / bytes;
  const cases = models.map(({ label, m, base }) =>
    defineCase<Decoded>({
      name: `decode-${n} ${label} vs f32, ${name}${native ? ', cpu-native' : ''}`,
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
      name: `quantized-${name}${native ? '-cpu-native' : ''}`,
      description:
        `Native decode (${native ? '@hasten/kernels-cpu addon kernels' : 'WebAssembly kernels'}) of ${name} with RTN-quantized linear weights against f32 (${f32Bytes / 1e6} MB of weights), ` +
        `${prompt.length}-token prompt, ${n} greedy tokens. Copy bandwidth ${bandwidth.toFixed(1)} GB/s in this run; ` +
        `f32 memory-bound ceiling ${ceiling(f32Bytes).toFixed(1)} tok/s. ` +
        models
          .map(
            (x) =>
              `${x.label}: ${(x.m.weightBytes() / 1e6).toFixed(1)} MB (load + quantize ${(x.loadMs / 1000).toFixed(1)} s)`,
          )
          .join('; '),
      warmup: 1,
      repeats: args.quick ? 2 : 5,
      environment: { backend: args.backend },
      cases,
    }),
    args.quick ? { write: false } : {},
  );
  const f32Rate = result.cases[0].work?.baselinePerSecond ?? Number.NaN;
  table.push(
    `| ${name} | f32 | ${(f32Bytes / 1e6).toFixed(1)} MB | ${f32Rate.toFixed(1)} | ${ceiling(f32Bytes).toFixed(1)} | 1× | |`,
  );
  result.cases.forEach((c, i) => {
    const { m } = models[i];
    const rate = c.work?.methodPerSecond ?? Number.NaN;
    table.push(
      `| ${name} | ${models[i].label} | ${(m.weightBytes() / 1e6).toFixed(1)} MB | ${rate.toFixed(1)} | ${ceiling(m.weightBytes()).toFixed(1)} | **${c.speedup.ratio.toPrecision(3)}×** [${c.speedup.low.toPrecision(3)}, ${c.speedup.high.toPrecision(3)}] | ${c.quality?.pass ? 'PASS' : 'FAIL'} ${c.quality?.metric.replaceAll('|', '\\|')} = ${Number(c.quality?.value).toPrecision(3)} |`,
    );
  });
  for (const x of models) {
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
  await benchModel('code-target', join(root, 'fixtures/code-target'), prompt, args.quick ? 16 : 64, true);
}
if (runs('qwen2-0.5b')) {
  const given = args.dir !== undefined;
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'hasten-qwen2-0.5b-'));
  try {
    ensureRealSizeCheckpoint(dir, root, findPython(), { onnx: false });
    const vocab = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).vocab_size as number;
    await benchModel('qwen2-0.5b-shaped', dir, benchTokens(16, vocab), args.quick ? 4 : 8, false);
  } finally {
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}
console.log(
  '\n| model | weights | weight memory | decode tok/s | memory-bound ceiling tok/s | speed-up vs f32 [95% CI] | quality |\n|---|---|---|---|---|---|---|',
);
console.log(table.join('\n'));
