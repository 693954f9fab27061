/**
 * Real-size bench: a random-weight checkpoint with Qwen2-0.5B's shapes (494M parameters: hidden 896,
 * 24 layers, 14 heads / 2 KV heads of 64, intermediate 4864, vocab 151936, tied embeddings, q/k/v
 * biases, rope_theta 1e6; 988 MB of bf16 safetensors) on both engines:
 * - hasten native (`loadCausalLM`, core-tensor 'cpu': f32 weights, WebAssembly GEMM over packed copies;
 *   with `--backend cpu-native`, @hasten/kernels-cpu's addon serves the products of up to 8 rows, i.e.
 *   every decode step, and the result goes to real-size-qwen2-0.5b-cpu-native.json);
 * - hasten ORT (`OrtCausalLM` over onnxruntime-node) on the graph `npm run export-onnx` writes.
 *
 * 1. tools/fixtures/random_checkpoint.py writes the checkpoint into a temporary folder (deleted at the
 *    end; never in the repo), then `npm run export-onnx -- <folder> --skip-parity` adds onnx/.
 * 2. One probe process per engine (real-size-probe.ts): load, a short prefill, greedy decode steps,
 *    with the resident set size after each, so that each engine's memory is measured alone.
 * 3. The harness (same process, both engines, interleaved): `load` (the models loaded here are the
 *    ones the next cases run), `prefill-P` and `decode-N` from a cache holding the prompt.
 * Written to bench-results/models/real-size-qwen2-0.5b.json; the RSS curves are its `series`.
 *
 *   npm run bench -w @hasten/models -- --only real-size [--real-size-dir <dir>] [--real-size-new 8]
 *   (or directly: tsx bench/real-size.ts [--dir <dir>] [--prompt 16] [--new 8] [--repeats 3] [--threads 1]
 *    [--backend cpu|cpu-native])
 * --dir keeps the checkpoint and the export there and reuses them on the next run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tensor } from '@hasten/core-tensor';
import { defineBenchmark, defineCase, type QualityCheck, type Series } from '@hasten/eval';
import { findRepoRoot, runAndWrite } from '@hasten/eval/node';
import type { KVCache } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';
import { findPython, missingPythonModules } from '../../../scripts/python';
import { ensureRealSizeCheckpoint } from './real-size-checkpoint';
import type { MemoryPoint, ProbeResult } from './real-size-probe';
import { argmax, benchTokens } from './tokens';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const GB = 1e9;

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    prompt: { type: 'string', default: '16' },
    new: { type: 'string', default: '8' },
    repeats: { type: 'string', default: '3' },
    'load-repeats': { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    'no-write': { type: 'boolean', default: false },
    backend: { type: 'string', default: 'cpu' },
  },
});
if (!['cpu', 'cpu-native'].includes(args.backend))
  throw new Error(`--backend must be cpu or cpu-native, got '${args.backend}'`);
const device = args.backend;
if (device === 'cpu-native') (await import('@hasten/kernels-cpu')).registerCpuNative(); // throws, with the reason, without the addon
const NATIVE = `hasten native ${device}`;
const P = Number(args.prompt);
const N = Number(args.new);
const threads = Number(args.threads);
for (const [name, v] of [
  ['prompt', P],
  ['new', N],
  ['repeats', Number(args.repeats)],
  ['load-repeats', Number(args['load-repeats'])],
  ['threads', threads],
] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
}

const root = findRepoRoot(HERE);
const python = findPython();
const missing = missingPythonModules(python, ['numpy', 'onnx']);
if (missing.length) {
  console.log(
    `real-size bench skipped: ${python} cannot import ${missing.join(', ')} (apt-get install python3-numpy python3-onnx)`,
  );
  process.exit(0);
}

const given = args.dir ? resolve(process.env.INIT_CWD ?? process.cwd(), args.dir) : undefined;
const dir = given ?? mkdtempSync(join(tmpdir(), 'hasten-real-size-'));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function probe(engine: 'native' | 'ort'): ProbeResult {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(HERE, 'real-size-probe.ts'),
      `--engine=${engine}`,
      `--dir=${dir}`,
      `--prompt=${P}`,
      `--new=${N}`,
      `--threads=${threads}`,
      `--backend=${device}`,
    ],
    { cwd: join(HERE, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('PROBE '));
  if (r.status !== 0 || !line) throw new Error(`probe ${engine} failed (exit ${r.status}):\n${r.stdout}`);
  return JSON.parse(line.slice(6)) as ProbeResult;
}

try {
  const { genMs, exportMs } = ensureRealSizeCheckpoint(dir, root, python);
  const fileBytes = statSync(join(dir, 'model.safetensors')).size;
  const onnxBytes =
    statSync(join(dir, 'onnx', 'model.onnx')).size +
    (existsSync(join(dir, 'onnx', 'model.onnx_data'))
      ? statSync(join(dir, 'onnx', 'model.onnx_data')).size
      : 0);

  const probes = { native: probe('native'), ort: probe('ort') };
  const peak = (p: ProbeResult) =>
    Math.max(p.afterLoad.peak, p.afterPrefill.peak, ...p.afterDecode.map((m) => m.peak));
  const tokS = (p: ProbeResult) => (1000 * p.decodeMs.length) / p.decodeMs.reduce((a, b) => a + b, 0);
  const packed = probes.native.matmul?.packedWeights;
  const fits = packed ? packed.overflowWeights === 0 : true;
  for (const p of [probes.native, probes.ort]) {
    console.log(
      `probe ${p.engine}: load ${secs(p.loadMs)}, RSS ${(p.afterLoad.rss / GB).toFixed(2)} GB after load, ` +
        `first forward (${P} tokens) ${secs(p.prefillMs)}, decode ${tokS(p).toFixed(2)} tok/s, ` +
        `peak RSS ${(peak(p) / GB).toFixed(2)} GB = ${(peak(p) / fileBytes).toFixed(2)}x the ${(fileBytes / GB).toFixed(3)} GB checkpoint`,
    );
  }
  if (packed) {
    console.log(
      `native packed weights: ${packed.cached} in WebAssembly memory (${(packed.cachedBytes / GB).toFixed(2)} GB of a ` +
        `${((probes.native.matmul?.wasmMemoryLimitBytes ?? 0) / GB).toFixed(2)} GB limit), ${packed.overflowWeights} did not fit`,
    );
  }

  // ---- harness: both engines in this process
  let native: CausalLM | undefined;
  let ort: CausalLM | undefined;
  const vocab = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { vocab_size: number })
    .vocab_size;
  const prompt = benchTokens(P, vocab); // the probes' prompt too

  async function prefill(model: CausalLM): Promise<Float32Array> {
    const cache = model.createCache({ maxLength: P });
    const t = tensor(Int32Array.from(prompt), [1, P]);
    const { logits } = await model.forward({ tokens: t, cache, logitsToKeep: 1 });
    const row = ((await logits.data()) as Float32Array).slice();
    t.dispose();
    logits.dispose();
    cache.dispose();
    return row;
  }
  const bases = new Map<CausalLM, KVCache>();
  async function decode(model: CausalLM): Promise<{ tokens: number[]; last: Float32Array }> {
    const cache = bases.get(model)!.fork();
    const tokens: number[] = [];
    let input = prompt[P - 1];
    let last = new Float32Array(0);
    for (let i = 0; i < N; i++) {
      const t = tensor(Int32Array.from([input]), [1, 1]);
      const { logits } = await model.forward({ tokens: t, cache });
      last = ((await logits.data()) as Float32Array).slice();
      t.dispose();
      logits.dispose();
      input = argmax(last);
      tokens.push(input);
    }
    cache.dispose();
    return { tokens, last };
  }
  /** Identical logits up to float32 summation order: the bound of scripts/onnx-parity.ts. */
  function sameLogits(a: Float32Array, b: Float32Array, what: string): QualityCheck {
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      diff = d <= diff ? diff : Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
      scale = Math.max(scale, Math.abs(a[i]));
    }
    const bound = 1e-3 * Math.max(1, scale);
    return {
      metric: `max |logit diff|, ${what}`,
      value: diff,
      pass: diff <= bound && argmax(a) === argmax(b),
      threshold: `<= ${bound.toExponential(2)} (1e-3 x max |logit|) and the same argmax`,
    };
  }

  const memPoints = (p: ProbeResult) =>
    [p.afterLoad, p.afterPrefill, ...p.afterDecode].map((m: MemoryPoint, i) => ({ x: i, y: m.peak / GB }));
  const series: Series[] = [
    {
      kind: 'quality-vs-steps',
      name: 'peak-rss',
      title: `Peak resident memory, each engine in its own process (x: 0 = loaded, 1 = after the ${P}-token prefill, then decode steps)`,
      xLabel: 'step',
      yLabel: 'peak RSS (GB)',
      lines: [
        { label: NATIVE, points: memPoints(probes.native) },
        { label: 'hasten ORT', points: memPoints(probes.ort) },
        {
          label: 'checkpoint file (bf16)',
          points: memPoints(probes.native).map(({ x }) => ({ x, y: fileBytes / GB })),
        },
      ],
    },
  ];

  const nativePeak = peak(probes.native) / fileBytes;
  const definition = defineBenchmark({
    package: 'models',
    name: device === 'cpu' ? 'real-size-qwen2-0.5b' : `real-size-qwen2-0.5b-${device}`,
    description:
      `Random weights with Qwen2-0.5B's shapes (494M params, ${(fileBytes / GB).toFixed(3)} GB bf16 safetensors; ` +
      `ONNX export ${(onnxBytes / GB).toFixed(2)} GB f32${exportMs ? ` in ${secs(exportMs)}` : ''}), ${P}-token prompt, ${N} greedy tokens, ` +
      `onnxruntime intraOpNumThreads=${threads}, native on one JS thread (backend ${device}). Fresh-process probes: ` +
      `native load ${secs(probes.native.loadMs)}, first forward ${secs(probes.native.prefillMs)} (packs every weight), ` +
      `peak RSS ${(peak(probes.native) / GB).toFixed(2)} GB (${nativePeak.toFixed(2)}x the file), ` +
      `packed weights ${packed ? `${(packed.cachedBytes / GB).toFixed(2)} GB, ${fits ? 'all fit' : `${packed.overflowWeights} did not fit`} in WebAssembly memory` : 'n/a'}; ` +
      `ORT load ${secs(probes.ort.loadMs)}, first forward ${secs(probes.ort.prefillMs)}, ` +
      `peak RSS ${(peak(probes.ort) / GB).toFixed(2)} GB (${(peak(probes.ort) / fileBytes).toFixed(2)}x the file).`,
    warmup: 1,
    repeats: Number(args.repeats),
    environment: { backend: device, versions: { 'onnxruntime-node': '1.30.0' } },
    series,
    cases: [
      defineCase<number>({
        name: 'load',
        baselineLabel: 'hasten ORT',
        methodLabel: NATIVE,
        warmup: 0,
        repeats: Number(args['load-repeats']),
        // The last loaded models stay for the cases below.
        baseline: async () => {
          ort?.dispose();
          ort = await OrtCausalLM.load(dir, { intraOpNumThreads: threads });
          return peak(probes.ort);
        },
        method: async () => {
          native?.dispose();
          native = await loadCausalLM(dir, { device });
          return peak(probes.native);
        },
        // f32 weights are 2x a bf16 file and their packed copy about as much again, so a native load
        // that keeps nothing else needs ~4x the file plus the runtime: 5x flags a leaked copy.
        quality: () => ({
          metric: 'peak RSS of the native engine (own process) / checkpoint file bytes',
          value: nativePeak,
          pass: nativePeak <= 5,
          threshold: '<= 5 (f32 weights 2x a bf16 file + their packed copy 2x + runtime)',
        }),
        work: { amount: fileBytes / 1e6, unit: 'MB of checkpoint' },
      }),
      defineCase<Float32Array>({
        name: `prefill-${P}`,
        baselineLabel: 'hasten ORT',
        methodLabel: NATIVE,
        baseline: () => prefill(ort!),
        method: () => prefill(native!),
        quality: (a, b) => sameLogits(a, b, 'last prompt position'),
        work: { amount: P, unit: 'tokens' },
      }),
      defineCase<{ tokens: number[]; last: Float32Array }>({
        name: `decode-${N}`,
        baselineLabel: 'hasten ORT',
        methodLabel: NATIVE,
        setup: async () => {
          for (const m of [ort!, native!]) {
            const cache = m.createCache({ maxLength: P + N });
            const t = tensor(Int32Array.from(prompt.slice(0, -1)), [1, P - 1]);
            (await m.forward({ tokens: t, cache, logitsToKeep: 1 })).logits.dispose();
            t.dispose();
            bases.set(m, cache);
          }
        },
        baseline: () => decode(ort!),
        method: () => decode(native!),
        quality: (a, b) => {
          const q = sameLogits(
            a.last,
            b.last,
            `step ${N} (greedy tokens ${a.tokens.join() === b.tokens.join() ? 'identical' : 'DIFFER'})`,
          );
          return { ...q, pass: q.pass && a.tokens.join() === b.tokens.join() };
        },
        work: { amount: N, unit: 'tokens' },
      }),
    ],
  });
  const { result } = await runAndWrite(definition, args['no-write'] ? { write: false } : {});
  native?.dispose();
  ort?.dispose();

  const rate = (name: string, side: 'baselinePerSecond' | 'methodPerSecond') =>
    result.cases.find((c) => c.name === name)?.work?.[side] ?? Number.NaN;
  const loadMs = (side: 'baseline' | 'method') => result.cases.find((c) => c.name === 'load')![side].median;
  console.log(
    `\n| engine | load (s) | peak RSS / file | prefill ${P} tok/s | decode tok/s |\n|---|---|---|---|---|\n` +
      `| hasten ORT | ${(loadMs('baseline') / 1000).toFixed(1)} | ${(peak(probes.ort) / fileBytes).toFixed(2)} | ${rate(`prefill-${P}`, 'baselinePerSecond').toFixed(1)} | ${rate(`decode-${N}`, 'baselinePerSecond').toFixed(2)} |\n` +
      `| ${NATIVE} | ${(loadMs('method') / 1000).toFixed(1)} | ${nativePeak.toFixed(2)} | ${rate(`prefill-${P}`, 'methodPerSecond').toFixed(1)} | ${rate(`decode-${N}`, 'methodPerSecond').toFixed(2)} |`,
  );
  if (genMs) console.log(`(checkpoint written in ${secs(genMs)})`);
} finally {
  if (!given) rmSync(dir, { recursive: true, force: true });
}
