/**
 * @file Benchmark of the 'cpu' backend's matmul (WebAssembly SIMD GEMM, src/ops/matmul/) against
 * onnxruntime-node's MatMul, same process, same inputs:
 *
 * 1. Throughput: y = linear(x, W) = x @ W^T with W in Hugging Face layout [N, K] (so "a 4096x1024
 *    weight" is N = 4096 outputs, K = 1024 inputs), against an ORT MatMul whose initializer is W^T
 *    [K, N] (ORT pre-packs it, as in a real model). Shapes M x K x N: 1x1024x1024, 8x1024x1024,
 *    1x1024x4096, 8x1024x4096, 64x1024x1024, 512x512x512, on 1 and 2 threads each. GFLOP/s = 2MKN/t.
 * 2. Rows for the price of one: cost(8 rows) / cost(1 row) for the 1024x1024 and 4096x1024 weights
 *    (target < 2.5: speculative decoding verifies 8 tokens in one pass only if that pass is cheap).
 *    "hot": the same weight every call, so it sits in the L2/L3 cache; "streamed": a cycle of distinct
 *    weights totalling 256 MiB, each read from DRAM once per pass, as in decoding a model larger than
 *    the cache. (There ORT needs a session per weight; on 2 threads they are set not to spin, so
 *    their many pools do not fight each other.)
 * 3. Quality beside the speed: max |y - y_ref| / max |y_ref| against the f64-accumulating reference
 *    kernel, for ours and for ORT.
 * 4. Why the hot 8-row / 1-row ratio is what it is (one core, the bare kernel without linear()'s
 *    packing and copying): the 1-row rate over a cache-resident weight (set by cache bandwidth), the
 *    8-row rate, the kernel's arithmetic peak (8 rows with B in L1) and the instruction set's
 *    bound, 12 flops per cycle for 128-bit mul + add (a Golden Cove-class core issues at most 3
 *    vector FP uops a cycle, each 4 lanes; relaxed FMA: 2 a cycle, 16 flops), at the clock
 *    estimated from a chain of dependent imul + xor (4 cycles each).
 *    8 rows need 8x the arithmetic of one, so ratio >= 8 * rate(1 row) / bound.
 *
 * Timing: every contestant is warmed up, then measured in interleaved rounds (ours, ORT, ours, ...)
 * of calls lasting ~25 ms each (on 2 threads: 120 ms apart, as ORT's thread pool spins that long
 * after work, and each after an untimed warm-up of half a round). The median round is reported,
 * and the fastest (less disturbed by other processes on a shared machine). Thread counts are not
 * interleaved (switching ours re-packs the weights), but ours and ORT at the same thread count are.
 *
 * Usage: npm run bench -w @hasten/core-tensor [-- --rounds 11 --quick --relaxed --bound-only]
 * Writes bench-results/core-tensor/matmul.json (matmul-relaxed.json with --relaxed; schema in the
 * package README) and prints Markdown tables.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { cpuMatmulInfo, linear, type Tensor, tensor } from '../src/index';
import { enableCpuThreads } from '../src/node';
import { f32View, getGemmRuntime, KC } from '../src/ops/matmul/gemm-runtime';
import { ortMatmul, ortVersion } from './onnx-matmul';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '11' },
    quick: { type: 'boolean', default: false },
    relaxed: { type: 'boolean', default: false },
    'bound-only': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
// Node 22+ and Chrome run relaxed SIMD (fused multiply-add) by default; on Node 20 this V8 flag,
// set before the kernel is compiled, shows what they get.
if (args.relaxed) setFlagsFromString('--experimental-wasm-relaxed-simd');
const OUT =
  args.out ??
  fileURLToPath(
    new URL(
      `../../../bench-results/core-tensor/matmul${args.relaxed ? '-relaxed' : ''}.json`,
      import.meta.url,
    ),
  );
const ROUNDS = Number(args.rounds);
const SAMPLE_MS = args.quick ? 8 : 25;
const STREAM_BYTES = (args.quick ? 64 : 256) * 2 ** 20;
const THREADS = [1, 2];
/** Pause before each round (see race). */
const PAUSE_MS = 120;
const SHAPES: [number, number, number][] = [
  [1, 1024, 1024],
  [8, 1024, 1024],
  [1, 1024, 4096],
  [8, 1024, 4096],
  [64, 1024, 1024],
  [512, 512, 512],
];
const WEIGHTS: [number, number][] = [
  [1024, 1024],
  [4096, 1024],
]; // [N, K]

/** mulberry32: seeded uniforms, so every run multiplies the same numbers. */
function uniforms(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

/** W [N, K] -> W^T [K, N] for the ORT initializer. */
function transpose(w: Float32Array, n: number, k: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let i = 0; i < n; i++) for (let q = 0; q < k; q++) t[q * n + i] = w[i * k + q];
  return t;
}

type Fn = () => unknown;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * ms per call for each contestant (median and fastest round): warm-up, calibrate calls per round,
 * then interleaved rounds.
 */
async function race(
  fns: Fn[],
  threads: number,
  callsPerRound?: number[],
): Promise<{ median: number; min: number }[]> {
  const calls: number[] = [];
  for (const [i, f] of fns.entries()) {
    await f();
    const t0 = performance.now();
    await f();
    const t = Math.max(performance.now() - t0, 0.005);
    calls.push(callsPerRound?.[i] ?? Math.min(2000, Math.max(1, Math.ceil(SAMPLE_MS / t))));
  }
  const times: number[][] = fns.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, f] of fns.entries()) {
      if (threads > 1) {
        // Let the previous contestant's idle threads go to sleep (ORT's pool keeps a core spinning
        // for ~50-100 ms after a parallel run), then warm up again: after an idle pause both
        // contestants run slower for a few ms (caches, clocks, the VM's halted vCPU).
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
        for (let c = 0; c < Math.ceil(calls[i] / 2); c++) await f();
      }
      const t0 = performance.now();
      for (let c = 0; c < calls[i]; c++) await f();
      times[i].push((performance.now() - t0) / calls[i]);
    }
  }
  return times.map((ts) => ({ median: median(ts), min: Math.min(...ts) }));
}

function relErr(y: ArrayLike<number>, ref: ArrayLike<number>): number {
  let e = 0;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(y[i] - ref[i]));
    s = Math.max(s, Math.abs(ref[i]));
  }
  return e / s;
}

interface ThroughputRow {
  kind: 'throughput';
  m: number;
  k: number;
  n: number;
  threads: number;
  /** Median and fastest round, ms per call; GFLOP/s from the median. */
  ours: { ms: number; bestMs: number; gflops: number; relErr: number };
  ort: { ms: number; bestMs: number; gflops: number; relErr: number };
  /** ours GFLOP/s / ORT GFLOP/s from the medians (target >= 0.25); bestRatio from the fastest rounds. */
  ratio: number;
  bestRatio: number;
}
interface RowsRow {
  kind: 'rows8vs1';
  /** Weight [N, K], HF layout. */
  weight: [number, number];
  threads: number;
  mode: 'hot' | 'streamed';
  /** Medians, ms per product; ratio = ms8 / ms1; bestRatio from the fastest rounds. */
  ours: { ms1: number; ms8: number; ratio: number; bestRatio: number };
  ort: { ms1: number; ms8: number; ratio: number; bestRatio: number };
  target: number;
}

interface BoundRow {
  kind: 'kernelBound';
  /** Estimated core clock (dependent imul + xor chain, 4 cycles per step). */
  clockGHz: number;
  /** Bare kernel, 8 x 256 x 64 (B in L1): the arithmetic peak the kernel reaches. */
  peakGflops: number;
  /** Flops per cycle x clock: plain SIMD 12 (128-bit mul + add, at most 3 vector FP uops a cycle),
   * relaxed 16 (128-bit FMA on 2 ports). */
  isaBoundGflops: number;
  /** Per weight [N, K], hot: bare kernel GFLOP/s at 1 and 8 rows, their time ratio, and the floor
   * 8 * gflops1 / isaBoundGflops that no plain-SIMD kernel can go under on this core. */
  weights: { weight: [number, number]; gflops1: number; gflops8: number; ratio: number; floor: number }[];
}

const gflops = (m: number, k: number, n: number, ms: number) => (2 * m * k * n) / ms / 1e6;
const log = (s: string) => process.stderr.write(`${s}\n`);

async function throughput(threads: number): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  for (const [m, k, n] of SHAPES) {
    const wv = uniforms(1000 + n + k, n * k);
    const xv = uniforms(2000 + m, m * k);
    const w = tensor(wv, [n, k]);
    const x = tensor(xv, [m, k]);
    const session = await ortMatmul(m, k, n, transpose(wv, n, k), threads);
    // Quality: both against the reference kernel (f64 accumulation) on these inputs.
    const wr = tensor(wv, [n, k], { device: 'reference' });
    const xr = tensor(xv, [m, k], { device: 'reference' });
    const yRef = linear(xr, wr);
    const ref = await yRef.data();
    const yOurs = linear(x, w);
    const errOurs = relErr(await yOurs.data(), ref);
    const errOrt = relErr(await session.run(xv), ref);
    for (const t of [wr, xr, yRef, yOurs]) t.dispose();

    const [tOurs, tOrt] = await race([() => linear(x, w).dispose(), () => session.run(xv)], threads);
    const [msOurs, msOrt] = [tOurs.median, tOrt.median];
    rows.push({
      kind: 'throughput',
      m,
      k,
      n,
      threads,
      ours: { ms: msOurs, bestMs: tOurs.min, gflops: gflops(m, k, n, msOurs), relErr: errOurs },
      ort: { ms: msOrt, bestMs: tOrt.min, gflops: gflops(m, k, n, msOrt), relErr: errOrt },
      ratio: msOrt / msOurs,
      bestRatio: tOrt.min / tOurs.min,
    });
    log(`  ${m}x${k}x${n} t=${threads}: ours ${msOurs.toFixed(3)} ms, ORT ${msOrt.toFixed(3)} ms`);
    await session.release();
    w.dispose();
    x.dispose();
  }
  return rows;
}

/** 8-row vs 1-row cost over a cycle of distinct weights (streamed) or one weight (hot). */
/**
 * 8-row vs 1-row cost, measured in one interleaved race: "hot" multiplies by one weight again and
 * again, "streamed" by a cycle of distinct weights totalling STREAM_BYTES.
 */
async function rowsScaling(threads: number): Promise<RowsRow[]> {
  const out: RowsRow[] = [];
  for (const [n, k] of WEIGHTS) {
    const count = Math.max(2, Math.round(STREAM_BYTES / (n * k * 4)));
    const ws: Tensor[] = [];
    const sessions: Record<1 | 8, Awaited<ReturnType<typeof ortMatmul>>[]> = { 1: [], 8: [] };
    for (let i = 0; i < count; i++) {
      const wv = uniforms(5000 + i, n * k);
      ws.push(tensor(wv, [n, k]));
      const wt = transpose(wv, n, k);
      for (const m of [1, 8] as const) sessions[m].push(await ortMatmul(m, k, n, wt, threads, threads === 1));
    }
    const xv = { 1: uniforms(7, k), 8: uniforms(8, 8 * k) } as const;
    const x = { 1: tensor(xv[1], [1, k]), 8: tensor(xv[8], [8, k]) } as const;
    for (const mode of ['hot', 'streamed'] as const) {
      // One pass = `count` products: over the same weight (hot) or each weight once (streamed).
      const pick = <T>(xs: T[]) => (mode === 'hot' ? xs.map(() => xs[0]) : xs);
      const ours = (m: 1 | 8) => () => {
        for (const w of pick(ws)) linear(x[m], w).dispose();
      };
      const ort = (m: 1 | 8) => async () => {
        for (const s of pick(sessions[m])) await s.run(xv[m]);
      };
      const t = await race([ours(1), ort(1), ours(8), ort(8)], threads, [1, 1, 1, 1]);
      const [o1, r1, o8, r8] = t.map((r) => r.median / count);
      out.push({
        kind: 'rows8vs1',
        weight: [n, k],
        threads,
        mode,
        ours: { ms1: o1, ms8: o8, ratio: o8 / o1, bestRatio: t[2].min / t[0].min },
        ort: { ms1: r1, ms8: r8, ratio: r8 / r1, bestRatio: t[3].min / t[1].min },
        target: 2.5,
      });
      log(
        `  ${mode} ${n}x${k} t=${threads}: 8 rows / 1 row: ours ${(o8 / o1).toFixed(2)}, ORT ${(r8 / r1).toFixed(2)}`,
      );
    }
    for (const w of ws) w.dispose();
    for (const s of [...sessions[1], ...sessions[8]]) await s.release();
    x[1].dispose();
    x[8].dispose();
  }
  return out;
}

/** Best-of-rounds ms per call of f (already warm). */
function bestMs(f: () => void, reps: number): number {
  for (let i = 0; i < reps; i++) f();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    best = Math.min(best, (performance.now() - t0) / reps);
  }
  return best;
}

/** imul + xor steps chained through a local (a closure variable would add a load and a store). */
function imulChain(steps: number): number {
  let x = 1;
  for (let i = 0; i < steps; i++) x = Math.imul(x, 7) ^ i;
  return x;
}

function clockGHz(): number {
  const steps = 5e6;
  let sink = 0;
  const ms = bestMs(() => {
    sink ^= imulChain(steps);
  }, 1);
  if (sink === 0.5) log(''); // keep the result alive
  return (4 * steps) / ms / 1e6;
}

/** Section 4: the bare single-threaded kernel on hot weights, beside the instruction set's bound. */
function kernelBound(): BoundRow {
  const rt = getGemmRuntime();
  const call = (m: number, k: number, n: number, b: number, a: number, c: number) => () =>
    rt.gemm(a, b, c, m, k, n, KC, 0, n >> 3, 0);
  const maxK = 1024;
  const maxN = 4096;
  const a = rt.heap.alloc(8 * maxK * 4);
  const c = rt.heap.alloc(8 * maxN * 4);
  const b = rt.heap.alloc(maxK * maxN * 4);
  const mem = f32View(rt);
  mem.set(uniforms(9, 8 * maxK), a >> 2);
  mem.set(uniforms(10, maxK * maxN), b >> 2);
  const clock = clockGHz();
  const peakMs = bestMs(call(8, 256, 64, b, a, c), 2000);
  const row: BoundRow = {
    kind: 'kernelBound',
    clockGHz: clock,
    peakGflops: gflops(8, 256, 64, peakMs),
    isaBoundGflops: (rt.variant.startsWith('relaxed') ? 16 : 12) * clock,
    weights: [],
  };
  for (const [n, k] of WEIGHTS) {
    const ms1 = bestMs(call(1, k, n, b, a, c), Math.ceil(40 / (n / 1024)));
    const ms8 = bestMs(call(8, k, n, b, a, c), Math.ceil(10 / (n / 1024)));
    const g1 = gflops(1, k, n, ms1);
    row.weights.push({
      weight: [n, k],
      gflops1: g1,
      gflops8: gflops(8, k, n, ms8),
      ratio: ms8 / ms1,
      floor: (8 * g1) / row.isaBoundGflops,
    });
  }
  for (const p of [a, b, c]) rt.heap.release(p);
  return row;
}

function gitCommit(): string | undefined {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

const f = (x: number, d = 2) => x.toFixed(d);

function markdown(rows: (ThroughputRow | RowsRow | BoundRow)[]): string {
  const t = rows.filter((r): r is ThroughputRow => r.kind === 'throughput');
  const s = rows.filter((r): r is RowsRow => r.kind === 'rows8vs1');
  const b = rows.filter((r): r is BoundRow => r.kind === 'kernelBound');
  const lines = [
    '| M x K x N | threads | ours ms | ours GFLOP/s | ORT ms | ORT GFLOP/s | ours / ORT | (best rounds) | rel. err ours | rel. err ORT |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...t.map(
      (r) =>
        `| ${r.m}x${r.k}x${r.n} | ${r.threads} | ${f(r.ours.ms, 3)} | ${f(r.ours.gflops, 1)} | ${f(r.ort.ms, 3)} | ${f(r.ort.gflops, 1)} | **${f(r.ratio)}** | ${f(r.bestRatio)} | ${r.ours.relErr.toExponential(1)} | ${r.ort.relErr.toExponential(1)} |`,
    ),
    '',
    '| weight [N, K] | threads | weights | ours 1 row ms | ours 8 rows ms | ours 8/1 | (best rounds) | ORT 8/1 | target |',
    '|---|---|---|---|---|---|---|---|---|',
    ...s.map(
      (r) =>
        `| ${r.weight[0]}x${r.weight[1]} | ${r.threads} | ${r.mode} | ${f(r.ours.ms1, 3)} | ${f(r.ours.ms8, 3)} | **${f(r.ours.ratio)}** | ${f(r.ours.bestRatio)} | ${f(r.ort.ratio)} | < ${r.target} |`,
    ),
    '',
    '| bare kernel, 1 core, hot weight [N, K] | 1 row GFLOP/s | 8 rows GFLOP/s | 8/1 | kernel peak | ISA bound (clock) | floor 8 x 1-row / bound |',
    '|---|---|---|---|---|---|---|',
    ...b.flatMap((r) =>
      r.weights.map(
        (w) =>
          `| ${w.weight[0]}x${w.weight[1]} | ${f(w.gflops1, 1)} | ${f(w.gflops8, 1)} | ${f(w.ratio)} | ${f(r.peakGflops, 1)} | ${f(r.isaBoundGflops, 1)} (${f(r.clockGHz)} GHz) | **${f(w.floor)}** |`,
      ),
    ),
  ];
  return lines.join('\n');
}

async function main() {
  const load0 = os.loadavg();
  const rows: (ThroughputRow | RowsRow | BoundRow)[] = [];
  const variants: string[] = [];
  for (const threads of args['bound-only'] ? [] : THREADS) {
    await enableCpuThreads(threads);
    variants.push(cpuMatmulInfo().variant);
    log(`threads ${threads} (${cpuMatmulInfo().variant})`);
    const t = await throughput(threads);
    rows.push(...t, ...(await rowsScaling(threads)));
  }
  await enableCpuThreads(1);
  rows.push(kernelBound());
  if (args['bound-only']) {
    console.log(markdown(rows)); // a quick look: nothing written
    return;
  }
  const record = {
    name: 'core-tensor/matmul',
    commit: gitCommit(),
    date: new Date().toISOString(),
    env: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      onnxruntime: ortVersion(),
      kernel: variants,
      loadavg: { before: load0, after: os.loadavg() },
    },
    config: {
      rounds: ROUNDS,
      sampleMs: SAMPLE_MS,
      streamBytes: STREAM_BYTES,
      statistic: 'median (best: fastest round)',
    },
    rows,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(record, null, 2)}\n`);
  const worst = Math.max(...rows.flatMap((r) => (r.kind === 'throughput' ? [r.ours.relErr] : [])));
  console.log(markdown(rows));
  console.log(
    `\nquality: max relative error of ours ${worst.toExponential(1)} (${worst < 1e-5 ? 'ok' : 'TOO LARGE'}); load average ${load0.map((x) => f(x)).join(' ')} -> ${os
      .loadavg()
      .map((x) => f(x))
      .join(' ')} on ${record.env.cores} cores; wrote ${OUT}`,
  );
  if (!(worst < 1e-5)) process.exitCode = 1;
}

await main();
