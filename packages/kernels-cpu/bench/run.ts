/**
 * @file Benchmark of the native CPU matrix-vector kernels (@hasten/kernels-cpu) against the
 * WebAssembly ones of core-tensor's 'cpu' backend, same process, same inputs, on the decode shapes
 * of a Qwen2-0.5B-sized model: MLP up/gate (K = 896, N = 4864), MLP down (K = 4864, N = 896) and
 * the LM head (K = 896, N = 151936), at m = 1 and m = 4 rows.
 *
 * Cases, per shape, m and weight format:
 * - "native vs wasm": baseline quantLinear (linear() for f32, its packed copy cached) on the 'cpu'
 *   backend (WebAssembly SIMD; Q4_K and Q6_K have no WebAssembly kernel there, so their baseline is
 *   core-tensor's float64 reference kernel), method the same call on the 'cpu-native' backend
 *   (kernels-cpu, 1 thread).
 * - "2 threads vs 1": the native kernel on 2 threads against 1 (qgemvNative, the helper thread of the
 *   addon's pool splitting N).
 * - "int8 dot vs float dot": for the formats with an integer-dot kernel (int8, int8 g32, int4 g32,
 *   int4 g128 asym, Q8_0, Q4_0 on MLP up and the LM head; Q4_K, Q6_K on MLP down), m = 1 and 4: qgemvNative with
 *   { dot: 'int8' } (x rounded to int8 per block of 32, integer dot products) against { dot: 'float' },
 *   1 thread each, same inputs; quality: max |y_int8 - y_float| / max |y_float| (the cost of
 *   rounding x to 8 bits per block of 32, as llama.cpp's Q8_0 activations).
 * Q4_K / Q6_K need K % 256 == 0: 896 is not (llama.cpp stores such tensors in another format), so they
 * run on MLP down only.
 *
 * GB/s = weight bytes (scales and zero points included) / median time (and / the fastest sample's
 * time, the figure least disturbed by other load on a shared machine). The bound is measured in the
 * same run: single-core copy bandwidth (@hasten/eval measureCopyBandwidth: TypedArray.set of 256 MiB,
 * read + written bytes, best of 5), before and after the cases. Quality: max |y - y_ref| / max |y_ref|
 * against core-tensor's float64 reference decode (dequantizeRow) of the same weight, for the native
 * and the WebAssembly output (over every output column, or every 19th of the LM head's).
 *
 * Usage: npm run bench -w @hasten/kernels-cpu [-- --rounds 5 --quick --out f --cases all|native|dot
 *   --formats Q8_0,Q4_0 --shapes 'lm head,mlp up']  (--cases / --formats / --shapes select cases;
 *   default all)
 * Writes bench-results/kernels-cpu/native.json.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  dequantizeRow,
  linear,
  type QuantizedWeight,
  quantizeInt4Group,
  quantizeInt8Group,
  quantizeInt8PerChannel,
  quantizeQ4_0,
  quantizeQ8_0,
  quantLinear,
  type Tensor,
  tensor,
  toHalfWeight,
} from '@hasten/core-tensor';
import { type BenchmarkCase, defineBenchmark, defineCase, measureCopyBandwidth } from '@hasten/eval';
import { findRepoRoot, runAndWrite, writeBenchResult } from '@hasten/eval/node';
import {
  configureCpuKernels,
  cpuKernelsInfo,
  type F32Weight,
  isCpuAddonAvailable,
  NATIVE_BACKEND,
  qgemvNative,
  registerCpuNative,
} from '../src/index';
import { mulberry32, WEIGHT_CASES } from '../src/test-utils';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    cases: { type: 'string', default: 'all' },
    formats: { type: 'string' },
    shapes: { type: 'string' },
  },
});
if (!['all', 'native', 'dot'].includes(args.cases)) {
  throw new Error(`--cases must be all, native or dot, got '${args.cases}'`);
}
const pick = (list: string | undefined, what: string, allowed: string[]): Set<string> | null => {
  if (list === undefined) return null;
  const set = new Set(list.split(',').map((s) => s.trim()));
  for (const v of set)
    if (!allowed.includes(v)) throw new Error(`--${what}: '${v}' is not one of ${allowed.join(', ')}`);
  return set;
};
const QUICK = args.quick;
const ROUNDS = Number(args.rounds ?? (QUICK ? 3 : 5));
const SAMPLE_MS = QUICK ? 8 : 20;
const COPY_BYTES = (QUICK ? 64 : 256) * 2 ** 20;

/** [name, K, N] */
const SHAPES: [string, number, number][] = [
  ['mlp up', 896, 4864],
  ['mlp down', 4864, 896],
  ['lm head', 896, QUICK ? 151936 / 8 : 151936],
];
const ROWS = [1, 4];
/** Formats with an integer-dot kernel, and the shapes their dot cases run on (the K-quants: MLP down). */
const DOT_FORMATS = ['int8', 'int8 g32', 'int4 g32', 'int4 g128 asym', 'Q8_0', 'Q4_0', 'Q4_K', 'Q6_K'];
const DOT_SHAPES = ['mlp up', 'lm head'];
const dotShape = (shape: string, format: string) =>
  format.endsWith('_K') ? shape === 'mlp down' : DOT_SHAPES.includes(shape);

type W = QuantizedWeight | F32Weight;
type Maker = (w: Float32Array, shape: [number, number]) => W;
const gguf256 = (label: string): Maker => {
  const make = WEIGHT_CASES.find(([l]) => l === label)?.[2];
  if (!make) throw new Error(label);
  return (_w, [n, k]) => make(mulberry32(n + k), n, k); // random blocks (core-tensor has no K-quant quantizer)
};
const FORMATS: [string, Maker, number][] = [
  ['f32', (w, s) => ({ format: 'f32', shape: s, data: w }), 1],
  ['f16', (w, s) => toHalfWeight(w, s, 'f16'), 1],
  ['bf16', (w, s) => toHalfWeight(w, s, 'bf16'), 1],
  ['int8', (w, s) => quantizeInt8PerChannel(w, s), 1],
  ['int8 g32', (w, s) => quantizeInt8Group(w, s, { groupSize: 32 }), 1],
  ['int4 g32', (w, s) => quantizeInt4Group(w, s, { groupSize: 32 }), 1],
  ['int4 g128 asym', (w, s) => quantizeInt4Group(w, s, { groupSize: 128, symmetric: false }), 1],
  ['Q8_0', (w, s) => quantizeQ8_0(w, s), 32],
  ['Q4_0', (w, s) => quantizeQ4_0(w, s), 32],
  ['Q4_K', gguf256('q4_k'), 256],
  ['Q6_K', gguf256('q6_k'), 256],
];

const bytesOf = (q: W) =>
  q.format === 'f32' ? q.data.byteLength : q.data.length + (q.scales?.length ?? 0) + (q.zeros?.length ?? 0);
const sig = (x: number, d = 3) => Number(x.toPrecision(d));

function uniforms(seed: number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return out;
}

/** Per shape: the weights of every format, and f32 tensors on both backends; made once. */
interface ShapeData {
  q: Map<string, W>;
  wCpu: Tensor;
  wNative: Tensor;
}
const shapeData = new Map<string, ShapeData>();
function getShape(name: string, k: number, n: number): ShapeData {
  let d = shapeData.get(name);
  if (!d) {
    for (const old of shapeData.values()) {
      old.wCpu.dispose();
      old.wNative.dispose();
    }
    shapeData.clear();
    const wv = uniforms(1000 + n + k, n * k, 0.05);
    const q = new Map<string, W>();
    for (const [f, make, mult] of FORMATS) if (k % mult === 0) q.set(f, make(wv, [n, k]));
    d = { q, wCpu: tensor(wv, [n, k]), wNative: tensor(wv, [n, k], { device: NATIVE_BACKEND }) };
    shapeData.set(name, d);
  }
  return d;
}

/** The reference outputs y[r, j] (float64 decode) for the columns j it checks. */
function reference(w: W, x: Float32Array, m: number): { cols: number[]; y: Float64Array } {
  const [n, k] = w.shape;
  const stride = n > 8192 ? 19 : 1;
  const cols: number[] = [];
  for (let j = 0; j < n; j += stride) cols.push(j);
  const row = new Float64Array(k);
  const y = new Float64Array(m * cols.length);
  cols.forEach((j, c) => {
    if (w.format === 'f32') for (let q = 0; q < k; q++) row[q] = w.data[j * k + q];
    else dequantizeRow(w, j, row);
    for (let r = 0; r < m; r++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += x[r * k + q] * row[q];
      y[r * cols.length + c] = s;
    }
  });
  return { cols, y };
}

function relErr(
  out: ArrayLike<number>,
  n: number,
  ref: { cols: number[]; y: Float64Array },
  m: number,
): number {
  let d = 0;
  let mx = 0;
  for (let r = 0; r < m; r++)
    ref.cols.forEach((j, c) => {
      const want = ref.y[r * ref.cols.length + c];
      d = Math.max(d, Math.abs(out[r * n + j] - want));
      mx = Math.max(mx, Math.abs(want));
    });
  return d / mx;
}

interface Row {
  kind: 'wasm' | 'threads' | 'dot';
  shape: string;
  m: number;
  format: string;
  bytes: number;
  wasmErr?: number;
}
const rows: Row[] = [];
const ONE = { threads: 1 } as const;
const TWO = { threads: 2 } as const;
const ONE_FLOAT = { threads: 1, dot: 'float' } as const;
const ONE_INT8 = { threads: 1, dot: 'int8' } as const;

function nativeCase(shape: string, k: number, n: number, m: number, format: string): BenchmarkCase<unknown> {
  let d: ShapeData;
  let w: W;
  let xCpu: Tensor;
  let xNative: Tensor;
  let xs: Float32Array;
  let lastB: Tensor | undefined;
  let lastM: Tensor | undefined;
  const row: Row = { kind: 'wasm', shape: `${shape} ${k}x${n}`, m, format, bytes: 0 };
  rows.push(row);
  const run = (x: Tensor, wt: Tensor) => (w.format === 'f32' ? linear(x, wt) : quantLinear(x, w));
  const wasmLabel =
    format.startsWith('Q') && format.endsWith('K') ? 'reference kernel (no wasm kernel)' : 'wasm';
  return defineCase<Tensor>({
    name: `${format} native vs ${wasmLabel}, ${shape} (K ${k}, N ${n}), m = ${m}, Qwen2-0.5B-shaped random weights`,
    baselineLabel: `${w0(format)} ${wasmLabel} ('cpu')`,
    methodLabel: `${w0(format)} native ('cpu-native', 1 thread)`,
    baseline: () => {
      lastB?.dispose();
      lastB = run(xCpu, d.wCpu);
      return lastB;
    },
    method: () => {
      lastM?.dispose();
      lastM = run(xNative, d.wNative);
      return lastM;
    },
    work: { amount: (n * k) / 1e9, unit: 'G weights' },
    sampleMs: SAMPLE_MS,
    setup: () => {
      d = getShape(shape, k, n);
      w = d.q.get(format) as W;
      row.bytes = bytesOf(w);
      xs = uniforms(7 + m, m * k);
      xCpu = tensor(xs, [m, k]);
      xNative = tensor(xs, [m, k], { device: NATIVE_BACKEND });
    },
    quality: async (bOut, mOut) => {
      const ref = reference(w, xs, m);
      row.wasmErr = relErr(await bOut.data(), n, ref, m);
      const e = relErr(await mOut.data(), n, ref, m);
      return {
        metric: 'max |y - y_ref| / max |y_ref| (native vs float64 reference)',
        value: e,
        pass: e < 1e-5,
        threshold: '< 1e-5 (f32 accumulation)',
      };
    },
    teardown: () => {
      lastB?.dispose();
      lastM?.dispose();
      lastB = lastM = undefined;
      xCpu.dispose();
      xNative.dispose();
    },
  });
}

function w0(format: string): string {
  return format === 'f32' ? 'linear f32' : `quantLinear ${format}`;
}

function threadCase(shape: string, k: number, n: number, m: number, format: string): BenchmarkCase<unknown> {
  let w: W;
  let xs: Float32Array;
  const y1 = new Float32Array(m * n);
  const y2 = new Float32Array(m * n);
  const row: Row = { kind: 'threads', shape: `${shape} ${k}x${n}`, m, format, bytes: 0 };
  rows.push(row);
  return defineCase<Float32Array>({
    name: `${format} native 2 threads vs 1, ${shape} (K ${k}, N ${n}), m = ${m}, Qwen2-0.5B-shaped random weights`,
    baselineLabel: `native ${format}, 1 thread`,
    methodLabel: `native ${format}, 2 threads`,
    baseline: () => qgemvNative(w, xs, m, ONE, y1),
    method: () => qgemvNative(w, xs, m, TWO, y2),
    work: { amount: (n * k) / 1e9, unit: 'G weights' },
    sampleMs: SAMPLE_MS,
    setup: () => {
      w = getShape(shape, k, n).q.get(format) as W;
      row.bytes = bytesOf(w);
      xs = uniforms(7 + m, m * k);
    },
    quality: (a, b) => {
      let e = 0;
      for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
      return {
        metric: 'max |y_2threads - y_1thread|',
        value: e,
        pass: e === 0,
        threshold: '0 (same kernel, split over N)',
      };
    },
  });
}

function dotCase(shape: string, k: number, n: number, m: number, format: string): BenchmarkCase<unknown> {
  let w: W;
  let xs: Float32Array;
  const yF = new Float32Array(m * n);
  const yI = new Float32Array(m * n);
  const row: Row = { kind: 'dot', shape: `${shape} ${k}x${n}`, m, format, bytes: 0 };
  rows.push(row);
  return defineCase<Float32Array>({
    name: `${format} native int8 dot vs float dot, ${shape} (K ${k}, N ${n}), m = ${m}, Qwen2-0.5B-shaped random weights`,
    baselineLabel: `native ${format}, dot 'float' (1 thread)`,
    methodLabel: `native ${format}, dot 'int8' (1 thread)`,
    baseline: () => qgemvNative(w, xs, m, ONE_FLOAT, yF),
    method: () => qgemvNative(w, xs, m, ONE_INT8, yI),
    work: { amount: (n * k) / 1e9, unit: 'G weights' },
    sampleMs: SAMPLE_MS,
    setup: () => {
      w = getShape(shape, k, n).q.get(format) as W;
      row.bytes = bytesOf(w);
      xs = uniforms(7 + m, m * k);
    },
    quality: (f, i) => {
      let d = 0;
      let mx = 0;
      for (let j = 0; j < f.length; j++) {
        d = Math.max(d, Math.abs(i[j] - f[j]));
        mx = Math.max(mx, Math.abs(f[j]));
      }
      return {
        metric: 'max |y_int8 - y_float| / max |y_float| (x rounded to int8 per block of 32)',
        value: d / mx,
        pass: d / mx < 0.02,
        threshold: '< 0.02 (8-bit activations; about 4e-3 expected on uniform x)',
      };
    },
  });
}

async function main() {
  if (!isCpuAddonAvailable()) {
    console.log(`@hasten/kernels-cpu bench: skipped: ${cpuKernelsInfo().reason}`);
    return;
  }
  registerCpuNative();
  configureCpuKernels({ threads: 1 });
  const info = cpuKernelsInfo();
  const copy0 = measureCopyBandwidth({ bytes: COPY_BYTES });
  const load0 = os.loadavg();
  const cases: BenchmarkCase<unknown>[] = [];
  const formats = pick(
    args.formats,
    'formats',
    FORMATS.map(([f]) => f),
  );
  const shapes = pick(
    args.shapes,
    'shapes',
    SHAPES.map(([s]) => s),
  );
  const wanted = (shape: string, format: string) =>
    (!formats || formats.has(format)) && (!shapes || shapes.has(shape));
  if (args.cases !== 'dot')
    for (const [shape, k, n] of SHAPES)
      for (const m of ROWS)
        for (const [format, , mult] of FORMATS) {
          if (k % mult || !wanted(shape, format)) continue;
          cases.push(nativeCase(shape, k, n, m, format));
          cases.push(threadCase(shape, k, n, m, format));
        }
  if (args.cases !== 'native')
    for (const [shape, k, n] of SHAPES)
      for (const m of ROWS)
        for (const format of DOT_FORMATS)
          if (dotShape(shape, format) && wanted(shape, format)) cases.push(dotCase(shape, k, n, m, format));
  const definition = defineBenchmark({
    package: 'kernels-cpu',
    name: 'native',
    description: 'native CPU matrix-vector',
    warmup: 1,
    repeats: ROUNDS,
    environment: {
      backend: 'cpu-native',
      adapter: `kernels-cpu ${info.isa} (${info.compiler ?? '?'}) vs wasm`,
    },
    cases,
  });
  const { result } = await runAndWrite(definition, { write: false });
  const copy1 = measureCopyBandwidth({ bytes: COPY_BYTES });
  const copy = Math.max(copy0, copy1);
  const lines = [
    '| shape (K x N) | m | format | bytes/weight | wasm GB/s | native GB/s | native % of copy bw | native best GB/s (% of copy) | native vs wasm | native 2 thr GB/s | 2 thr vs 1 | err native | err wasm |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const dotLines = [
    '| shape (K x N) | m | format | bytes/weight | float dot GB/s | int8 dot GB/s | int8 best GB/s | int8 vs float | max rel err int8 vs float |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (let i = 0; i < result.cases.length; i++) {
    const r = rows[i];
    if (r.kind !== 'dot') continue;
    const c = result.cases[i];
    const [, k, n] = SHAPES.find(([s]) => r.shape.startsWith(s)) ?? ['', 1, 1];
    dotLines.push(
      `| ${r.shape} | ${r.m} | ${r.format} | ${sig(r.bytes / (k * n))} | ${sig(r.bytes / (c.baseline.median * 1e6))} | ` +
        `${sig(r.bytes / (c.method.median * 1e6))} | ${sig(r.bytes / (c.method.min * 1e6))} | ${sig(c.speedup.ratio)}x | ` +
        `${c.quality ? sig(c.quality.value, 2) : ''} |`,
    );
  }
  for (let i = 0; i + 1 < result.cases.length; i += 2) {
    const r = rows[i];
    if (r.kind !== 'wasm') break; // the dot cases follow the native / threads pairs
    const c = result.cases[i];
    const t = result.cases[i + 1];
    const gbW = r.bytes / (c.baseline.median * 1e6);
    const gbN = r.bytes / (c.method.median * 1e6);
    const gb2 = r.bytes / (t.method.median * 1e6);
    const gbBest = r.bytes / (c.method.min * 1e6); // the fastest sample: the least disturbed by other load
    const [, k, n] = SHAPES.find(([s]) => r.shape.startsWith(s)) ?? ['', 1, 1];
    lines.push(
      `| ${r.shape} | ${r.m} | ${r.format} | ${sig(r.bytes / (k * n))} | ${sig(gbW)} | ${sig(gbN)} | ${sig((100 * gbN) / copy, 2)}% | ` +
        `${sig(gbBest)} (${sig((100 * gbBest) / copy, 2)}%) | ` +
        `${sig(c.speedup.ratio)}x | ${sig(gb2)} | ${sig(t.speedup.ratio)}x | ${c.quality ? sig(c.quality.value, 2) : ''} | ${r.wasmErr !== undefined ? sig(r.wasmErr, 2) : ''} |`,
    );
  }
  result.description =
    `Issue 13's native CPU matrix-vector kernels (@hasten/kernels-cpu, ${info.isa}, isas available: ${info.isas?.join(', ')}). ` +
    `Baseline: the 'cpu' backend's quantLinear / linear (wasm SIMD; Q4_K and Q6_K: the float64 reference kernel, ` +
    `there being no wasm kernel for them); method: the same call on 'cpu-native', 1 thread; and the native kernel on 2 ` +
    `threads vs 1. GB/s = weight bytes (scales included) / median time (best: / the fastest sample's time); single-core ` +
    `copy bandwidth (TypedArray.set of ` +
    `${COPY_BYTES / 2 ** 20} MiB, read + written bytes, best of 5) measured in this run: ${sig(copy0)} GB/s before the ` +
    `cases, ${sig(copy1)} after. ${ROUNDS} rounds, ~${SAMPLE_MS} ms samples; load average ` +
    `${load0.map((x) => sig(x)).join(' ')} -> ${os
      .loadavg()
      .map((x) => sig(x))
      .join(' ')} on ${os.cpus().length} cores.\n${lines.length > 2 ? lines.join('\n') : ''}` +
    (dotLines.length > 2
      ? `\nint8 dot (integer-dot kernel ${info.int8DotKernel ?? '?'}) vs float dot, native, 1 thread:\n${dotLines.join('\n')}`
      : '');
  const path = writeBenchResult(result, args.out ? { path: args.out } : { root: findRepoRoot() });
  console.log(`\n${result.description}\nwrote ${path}`);
}

await main();
