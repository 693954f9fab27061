/**
 * @file Benchmark of the weight-only quantized matrix-vector product (quantLinear, src/ops/quant/)
 * against the f32 linear() on the same inputs, for the decode shapes of a Qwen2-0.5B-sized model:
 * MLP up/gate (K = 896, N = 4864), MLP down (K = 4864, N = 896) and the LM head (K = 896,
 * N = 151936), at m = 1 and m = 4 rows, one thread.
 *
 * Baseline: linear(x, W) with W f32 [N, K] (its packed copy cached in WebAssembly memory, as in a
 * model). Method: quantLinear(x, Wq) for Wq in f16, int8 (per channel, f16 scales), int4 (groups of
 * 32, symmetric), Q8_0 and Q4_0, quantized from the same W. A decode step reads every weight once,
 * so the figure that sets tokens/s is the weight bytes streamed per second: for each case the table
 * gives f32's GB/s (4 N K bytes / its time), the format's GB/s (its bytes, scales included / its
 * time) and the speed-up (f32 time / format time). Quality: max |y_q - y_f32| / max |y_f32|, the
 * quantization error (the kernels' agreement with their references is what the tests check).
 *
 * The bound is measured in the same run, not assumed: the single-core copy bandwidth of this
 * machine, from TypedArray.prototype.set copying a 256 MiB Uint8Array into another (V8's memcpy),
 * best of 5, counted as bytes read + bytes written per second (the STREAM "Copy" convention).
 *
 * Usage: npm run bench:quant -w @hasten/core-tensor [-- --rounds 5 --quick --relaxed --out f]
 * Writes bench-results/core-tensor/quant.json (quant-relaxed.json with --relaxed).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { type BenchmarkCase, defineBenchmark, defineCase, measureCopyBandwidth } from '@hasten/eval';
import { findRepoRoot, runAndWrite, writeBenchResult } from '@hasten/eval/node';
import {
  linear,
  type QuantizedWeight,
  quantizeInt4Group,
  quantizeInt8PerChannel,
  quantizeQ4_0,
  quantizeQ8_0,
  quantLinear,
  type Tensor,
  tensor,
  toHalfWeight,
} from '../src/index';
import { getQgemvRuntime } from '../src/ops/quant/qgemv-runtime';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    relaxed: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
if (args.relaxed) setFlagsFromString('--experimental-wasm-relaxed-simd');
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

type Maker = (w: Float32Array, shape: [number, number]) => QuantizedWeight;
const FORMATS: [string, Maker][] = [
  ['f16', (w, s) => toHalfWeight(w, s, 'f16')],
  ['int8', (w, s) => quantizeInt8PerChannel(w, s)],
  ['int4 g32', (w, s) => quantizeInt4Group(w, s, { groupSize: 32 })],
  ['Q8_0', (w, s) => quantizeQ8_0(w, s)],
  ['Q4_0', (w, s) => quantizeQ4_0(w, s)],
];

const bytesOf = (q: QuantizedWeight) => q.data.length + (q.scales?.length ?? 0) + (q.zeros?.length ?? 0);
const sig = (x: number, d = 3) => Number(x.toPrecision(d));

/** Deterministic uniforms in [-1, 1) (a 32-bit LCG; the values only need to be fixed and varied). */
function uniforms(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

/** Per shape: the f32 weight and its quantized forms, made once and shared by its cases. */
interface ShapeData {
  w: Tensor;
  q: Map<string, QuantizedWeight>;
}
const shapeData = new Map<string, ShapeData>();

function getShape(name: string, k: number, n: number): ShapeData {
  let d = shapeData.get(name);
  if (!d) {
    // Free the previous shape's weights first (the LM head alone is 545 MB in f32).
    for (const old of shapeData.values()) old.w.dispose();
    shapeData.clear();
    const wv = uniforms(1000 + n + k, n * k);
    for (let i = 0; i < wv.length; i++) wv[i] *= 0.05;
    d = { w: tensor(wv, [n, k]), q: new Map(FORMATS.map(([f, make]) => [f, make(wv, [n, k])])) };
    shapeData.set(name, d);
  }
  return d;
}

interface Row {
  shape: string;
  m: number;
  format: string;
  bytes: number;
  f32Bytes: number;
}
const rows: Row[] = [];

function quantCase(shape: string, k: number, n: number, m: number, format: string): BenchmarkCase<unknown> {
  let x: Tensor;
  let d: ShapeData;
  let qw: QuantizedWeight;
  let lastF: Tensor | undefined;
  let lastQ: Tensor | undefined;
  const row: Row = { shape: `${shape} ${k}x${n}`, m, format, bytes: 0, f32Bytes: 4 * n * k };
  rows.push(row);
  return defineCase<Tensor>({
    name: `${format} vs f32, ${shape} (K ${k}, N ${n}), m = ${m}, Qwen2-0.5B-shaped random weights`,
    baselineLabel: 'linear f32 (wasm SIMD)',
    methodLabel: `quantLinear ${format} (wasm SIMD)`,
    baseline: () => {
      lastF?.dispose();
      lastF = linear(x, d.w);
      return lastF;
    },
    method: () => {
      lastQ?.dispose();
      lastQ = quantLinear(x, qw);
      return lastQ;
    },
    work: { amount: (n * k) / 1e9, unit: 'G weights' },
    sampleMs: SAMPLE_MS,
    setup: () => {
      d = getShape(shape, k, n);
      qw = d.q.get(format) as QuantizedWeight;
      row.bytes = bytesOf(qw);
      x = tensor(uniforms(7 + m, m * k), [m, k]);
    },
    quality: async (f32Out, qOut) => {
      const e = maxRelDiff(await qOut.data(), await f32Out.data());
      return {
        metric: 'max |y_q - y_f32| / max |y_f32| (quantization error)',
        value: e,
        pass: e < 0.25,
        threshold: '< 0.25 (RTN on uniform random weights)',
      };
    },
  });
}

async function main() {
  const copy0 = measureCopyBandwidth({ bytes: COPY_BYTES });
  const load0 = os.loadavg();
  const cases: BenchmarkCase<unknown>[] = [];
  for (const [shape, k, n] of SHAPES)
    for (const m of ROWS) for (const [format] of FORMATS) cases.push(quantCase(shape, k, n, m, format));
  const variant = getQgemvRuntime().variant;
  const definition = defineBenchmark({
    package: 'core-tensor',
    name: args.relaxed ? 'quant-relaxed' : 'quant',
    description: 'quantized matrix-vector',
    warmup: 1,
    repeats: ROUNDS,
    environment: { backend: 'cpu', adapter: `wasm ${variant}, 1 thread` },
    cases,
  });
  const { result } = await runAndWrite(definition, { write: false });
  for (const d of shapeData.values()) d.w.dispose();
  const copy1 = measureCopyBandwidth({ bytes: COPY_BYTES });
  const copy = Math.max(copy0, copy1);
  const lines = [
    `| shape (K x N) | m | format | bytes/weight | f32 GB/s | format GB/s | % of copy bw | speed-up vs f32 | quant. error |`,
    `|---|---|---|---|---|---|---|---|---|`,
  ];
  result.cases.forEach((c, i) => {
    const r = rows[i];
    const gbF = r.f32Bytes / (c.baseline.median * 1e6);
    const gbQ = r.bytes / (c.method.median * 1e6);
    lines.push(
      `| ${r.shape} | ${r.m} | ${r.format} | ${sig((4 * r.bytes) / r.f32Bytes)} | ${sig(gbF)} | ${sig(gbQ)} | ` +
        `${sig((100 * gbQ) / copy, 2)}% | ${sig(c.speedup.ratio)}x | ${c.quality ? sig(c.quality.value, 2) : ''} |`,
    );
  });
  result.description =
    `Issue 13's quantized matrix-vector product. Baseline: f32 linear() (wasm SIMD GEMM, packed weight ` +
    `cached); method: quantLinear on the same weights in each format (wasm ${variant}, weight decoded in ` +
    `the kernel), 1 thread. GB/s = weight bytes (scales included) / median time; single-core copy ` +
    `bandwidth (TypedArray.set of ${COPY_BYTES / 2 ** 20} MiB, read + written bytes, best of 5) measured ` +
    `in this run: ${sig(copy0)} GB/s before the cases, ${sig(copy1)} after. ${ROUNDS} rounds, ` +
    `~${SAMPLE_MS} ms samples; load average ${load0.map((x) => sig(x)).join(' ')} -> ` +
    `${os
      .loadavg()
      .map((x) => sig(x))
      .join(' ')} on ${os.cpus().length} cores.\n${lines.join('\n')}`;
  const path = writeBenchResult(result, args.out ? { path: args.out } : { root: findRepoRoot() });
  console.log(`\n${result.description}\nwrote ${path}`);
}

await main();
