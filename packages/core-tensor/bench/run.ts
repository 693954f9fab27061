/**
 * @file Benchmark of the 'cpu' backend's matmul (WebAssembly SIMD GEMM, src/ops/matmul/) against
 * onnxruntime-node's MatMul, same process, same inputs, run by @hasten/eval's harness (result schema
 * hasten.bench/1, so `hasten-bench report` and `compare` include it):
 *
 * 1. Throughput: y = linear(x, W) = x @ W^T with W in Hugging Face layout [N, K] (so "a 4096x1024
 *    weight" is N = 4096 outputs, K = 1024 inputs). Baseline: an ORT MatMul whose initializer is W^T
 *    [K, N] (ORT pre-packs it, as in a real model); method: ours. Shapes M x K x N: 1x1024x1024,
 *    8x1024x1024, 1x1024x4096, 8x1024x4096, 64x1024x1024, 512x512x512, on 1 and 2 threads each.
 *    Work: 2MKN flops, so the rates are GFLOP/s and the speed-up is ours / ORT (aim: >= 0.25).
 *    Quality: max |y - y_ref| / max |y_ref| against the f64-accumulating reference kernel (ORT's in
 *    the threshold text).
 * 2. Rows for the price of one (target: an 8-row product costs under 2.5x a 1-row product, for the
 *    1024x1024 and 4096x1024 weights; speculative decoding verifies 8 tokens in one pass only if that
 *    pass is cheap). Baseline: 8 separate 1-row products (8 calls of linear, one row each); method:
 *    one 8-row product. speed-up = 8 ms1 / ms8, so > 3.2 meets the target; the quality check states
 *    ms8 / ms1 against 2.5. "hot": the same weight every call, so it sits in the L2/L3 cache;
 *    "streamed": a cycle of distinct weights totalling 256 MiB, each read from DRAM once per pass, as
 *    in decoding a model larger than the cache. The same cases for ORT show what it does. (ORT needs
 *    a session per weight; on 2 threads they are set not to spin, so their pools do not fight.)
 * 3. The bare kernel (no linear() around it: no shape checks, packing of x or copies), one thread,
 *    hot weight, in the same 8-rows-against-8-single-rows form, beside the instruction set's bound
 *    MEASURED on this core, not assumed (a table of flops per cycle was wrong here: 12 assumed, 16
 *    reached): bench/wasm/peak-flops.ts, compiled at start with the same SIMD variant as the kernel,
 *    runs twelve register-resident multiply-add chains, best of rounds. The clock is estimated from a
 *    chain of dependent imul + xor (4 cycles each) and only reported (flops per cycle = bound /
 *    clock). 8 rows need 8x the arithmetic of one, so ms8 / ms1 >= floor = 8 * rate(1 row) / bound,
 *    whatever the kernel. The clock, the bound and the kernel's arithmetic peak (8 x 256 x 64, B in
 *    L1) go into the result's description.
 *
 * Timing (the harness): per case a warm-up round, then calls per sample calibrated per side so a
 * sample lasts ~25 ms (8 with --quick), then interleaved rounds (ABBA) of baseline and method;
 * median per side, paired bootstrap CI of the speed-up. On 2 threads each sample comes after a
 * 120 ms pause (ORT's thread pool spins that long after work) and an untimed re-warm of half a
 * sample. Thread counts are not interleaved (switching ours re-packs the weights), but ours and ORT
 * at the same thread count are.
 *
 * Usage: npm run bench -w @hasten/core-tensor [-- --rounds 11 --quick --relaxed --bound-only --out f]
 * Writes bench-results/core-tensor/matmul.json (matmul-relaxed.json with --relaxed) and prints the
 * table. --bound-only prints the bare-kernel figures (best of rounds) and writes nothing.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { type BenchmarkCase, type CaseTiming, defineBenchmark, defineCase } from '@hasten/eval';
import { findRepoRoot, runAndWrite, writeBenchResult } from '@hasten/eval/node';
import asc from 'assemblyscript/asc';
import { cpuMatmulInfo, linear, type Tensor, tensor } from '../src/index';
import { cpuThreads, enableCpuThreads } from '../src/node';
import { f32View, getGemmRuntime, KC } from '../src/ops/matmul/gemm-runtime';
import { ortMatmul, ortVersion } from './onnx-matmul';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
    relaxed: { type: 'boolean', default: false },
    'bound-only': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
// Node 22+ and Chrome run relaxed SIMD (fused multiply-add) by default; on Node 20 this V8 flag,
// set before the kernel is compiled, shows what they get.
if (args.relaxed) setFlagsFromString('--experimental-wasm-relaxed-simd');
const QUICK = args.quick;
const ROUNDS = Number(args.rounds ?? (QUICK ? 5 : 11));
const SAMPLE_MS = QUICK ? 8 : 25;
const STREAM_BYTES = (QUICK ? 64 : 256) * 2 ** 20;
const THREADS = [1, 2];
/** Pause before each sample on 2 threads (see pausedSamples). */
const PAUSE_MS = 120;
/** Max relative error of ours against the reference kernel (f32 accumulation over K <= 1024). */
const MAX_REL_ERR = 1e-5;
/** Issue 2's targets: ours / ORT throughput, and the cost of 8 rows over 1 row. */
const THROUGHPUT_AIM = 0.25;
const ROWS_TARGET = 2.5;
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

function relErr(y: ArrayLike<number>, ref: ArrayLike<number>): number {
  let e = 0;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(y[i] - ref[i]));
    s = Math.max(s, Math.abs(ref[i]));
  }
  return e / s;
}

const gflop = (m: number, k: number, n: number) => (2 * m * k * n) / 1e9;
const gflops = (m: number, k: number, n: number, ms: number) => (2 * m * k * n) / ms / 1e6;
const log = (s: string) => process.stderr.write(`${s}\n`);
const sig = (x: number, d = 2) => x.toFixed(d);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Switches ours to `threads` (only when it changes: switching re-packs the weights). */
async function useThreads(threads: number): Promise<void> {
  if (cpuThreads() !== threads) await enableCpuThreads(threads);
}

/**
 * On 2 threads, before each timed sample: let the previous side's idle threads go to sleep (ORT's
 * pool keeps a core spinning for ~50-100 ms after a parallel run), then warm this side up again with
 * half a sample: after an idle pause both contestants run slower for a few ms (caches, clocks, the
 * VM's halted vCPU). On 1 thread: nothing.
 */
function pausedSamples(
  threads: number,
  sides: { baseline: () => unknown; method: () => unknown },
): Pick<BenchmarkCase<unknown>, 'beforeSample'> {
  if (threads === 1) return {};
  return {
    beforeSample: async (side, calls) => {
      await sleep(PAUSE_MS);
      for (let c = 0; c < Math.ceil(calls / 2); c++) await sides[side]();
    },
  };
}

/** The quality check of a rows case: the measured cost of 8 rows over 1 row against the target. */
function rowsCost(timing: CaseTiming, floor?: number) {
  const ratio = (8 * timing.method.median) / timing.baseline.median;
  return {
    metric: 'ms(8 rows) / ms(1 row)',
    value: ratio,
    pass: ratio < ROWS_TARGET,
    threshold: `< ${ROWS_TARGET} (speed-up > ${8 / ROWS_TARGET})${floor === undefined ? '' : `; SIMD floor here ${sig(floor)}`}`,
  };
}

type Ort = Awaited<ReturnType<typeof ortMatmul>>;

/** Case 1: ORT (baseline) against ours (method) on one shape and thread count. */
function throughputCase(m: number, k: number, n: number, threads: number): BenchmarkCase<unknown> {
  let w: Tensor;
  let x: Tensor;
  let xv: Float32Array;
  let session: Ort;
  let ref: Float32Array;
  let last: Tensor | undefined;
  const ort = () => session.run(xv);
  const ours = () => {
    last?.dispose();
    last = linear(x, w);
    return last;
  };
  return defineCase<Float32Array | Tensor>({
    name: `${m}x${k}x${n}, ${threads} thread${threads > 1 ? 's' : ''}`,
    baselineLabel: 'ORT MatMul',
    methodLabel: 'linear (wasm SIMD)',
    baseline: ort,
    method: ours,
    work: { amount: gflop(m, k, n), unit: 'GFLOP' },
    sampleMs: SAMPLE_MS,
    ...pausedSamples(threads, { baseline: ort, method: ours }),
    setup: async () => {
      await useThreads(threads);
      const wv = uniforms(1000 + n + k, n * k);
      xv = uniforms(2000 + m, m * k);
      w = tensor(wv, [n, k]);
      x = tensor(xv, [m, k]);
      session = await ortMatmul(m, k, n, transpose(wv, n, k), threads);
      // The reference kernel (f64 accumulation) on the same inputs.
      const wr = tensor(wv, [n, k], { device: 'reference' });
      const xr = tensor(xv, [m, k], { device: 'reference' });
      const yr = linear(xr, wr);
      ref = Float32Array.from(await yr.data());
      for (const t of [wr, xr, yr]) t.dispose();
    },
    quality: async (ortOut, oursOut) => {
      const err = relErr(await (oursOut as Tensor).data(), ref);
      const errOrt = relErr(ortOut as Float32Array, ref);
      return {
        metric: 'max |y - y_ref| / max |y_ref| (ours)',
        value: err,
        pass: err < MAX_REL_ERR,
        threshold: `< ${MAX_REL_ERR} (ORT: ${errOrt.toExponential(1)})`,
      };
    },
    teardown: async () => {
      last?.dispose();
      last = undefined;
      await session.release();
      w.dispose();
      x.dispose();
    },
  });
}

/** The weights of one [N, K] cycle and their ORT sessions, shared by the four rows cases using them. */
function weightCycle(n: number, k: number, threads: number) {
  const count = Math.max(2, Math.round(STREAM_BYTES / (n * k * 4)));
  let made: Promise<{ ws: Tensor[]; s1: Ort[]; s8: Ort[] }> | undefined;
  const x8v = uniforms(8, 8 * k);
  const rows = Array.from({ length: 8 }, (_, r) => x8v.slice(r * k, (r + 1) * k));
  return {
    count,
    x8v,
    rows,
    x8: tensor(x8v, [8, k]),
    x1: rows.map((r) => tensor(r, [1, k])),
    get: () => {
      made ??= (async () => {
        const ws: Tensor[] = [];
        const s1: Ort[] = [];
        const s8: Ort[] = [];
        for (let i = 0; i < count; i++) {
          const wv = uniforms(5000 + i, n * k);
          ws.push(tensor(wv, [n, k]));
          const wt = transpose(wv, n, k);
          s1.push(await ortMatmul(1, k, n, wt, threads, threads === 1));
          s8.push(await ortMatmul(8, k, n, wt, threads, threads === 1));
        }
        return { ws, s1, s8 };
      })();
      return made;
    },
    release: async () => {
      if (!made) return;
      const { ws, s1, s8 } = await made;
      made = undefined;
      for (const w of ws) w.dispose();
      for (const s of [...s1, ...s8]) await s.release();
    },
  };
}

/**
 * Case 2 for ours or ORT: one call is a pass of `count` products, over one weight (hot) or each
 * weight of the cycle once (streamed); the baseline makes 8 such passes with 1 row each.
 */
function rowsCases(n: number, k: number, threads: number): BenchmarkCase<unknown>[] {
  const cycle = weightCycle(n, k, threads);
  const { count } = cycle;
  let ws: Tensor[] = [];
  let s1: Ort[] = [];
  let s8: Ort[] = [];
  const out: BenchmarkCase<unknown>[] = [];
  for (const mode of ['hot', 'streamed'] as const) {
    const pick = <T>(xs: T[]) => (mode === 'hot' ? xs.map(() => xs[0]) : xs);
    const contestants = {
      ours: {
        one: () => {
          for (const x of cycle.x1) for (const w of pick(ws)) linear(x, w).dispose();
        },
        eight: () => {
          for (const w of pick(ws)) linear(cycle.x8, w).dispose();
        },
        labels: ['linear, 8 x 1 row', 'linear, 8 rows'],
      },
      ort: {
        one: async () => {
          for (const x of cycle.rows) for (const s of pick(s1)) await s.run(x);
        },
        eight: async () => {
          for (const s of pick(s8)) await s.run(cycle.x8v);
        },
        labels: ['ORT MatMul, 8 x 1 row', 'ORT MatMul, 8 rows'],
      },
    };
    for (const who of ['ours', 'ort'] as const) {
      const c = contestants[who];
      const last = mode === 'streamed' && who === 'ort';
      out.push(
        defineCase({
          name: `8 rows vs 8 x 1 row, ${n}x${k} weight, ${mode} (${count} products a call), ${threads} thread${threads > 1 ? 's' : ''}${who === 'ort' ? ', ORT' : ''}`,
          baselineLabel: c.labels[0],
          methodLabel: c.labels[1],
          baseline: c.one,
          method: c.eight,
          work: { amount: count * gflop(8, k, n), unit: 'GFLOP' },
          ...pausedSamples(threads, { baseline: c.one, method: c.eight }),
          setup: async () => {
            await useThreads(threads);
            ({ ws, s1, s8 } = await cycle.get());
          },
          quality: (_b: unknown, _m: unknown, timing) => rowsCost(timing),
          ...(last
            ? {
                teardown: async () => {
                  await cycle.release();
                  cycle.x8.dispose();
                  for (const x of cycle.x1) x.dispose();
                },
              }
            : {}),
        }),
      );
    }
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

/** The bare kernel on one thread, over the single-threaded runtime's heap. */
function bareKernel() {
  const rt = getGemmRuntime();
  const maxK = 1024;
  const maxN = 4096;
  const a = rt.heap.alloc(8 * maxK * 4);
  const c = rt.heap.alloc(8 * maxN * 4);
  const b = rt.heap.alloc(maxK * maxN * 4);
  const mem = f32View(rt);
  mem.set(uniforms(9, 8 * maxK), a >> 2);
  mem.set(uniforms(10, maxK * maxN), b >> 2);
  return {
    /** One product m x k x n with B read in place (already in the kernel's panel layout). */
    call: (m: number, k: number, n: number) => () => rt.gemm(a, b, c, m, k, n, KC, 0, n >> 3, 0),
    release: () => {
      for (const p of [a, b, c]) rt.heap.release(p);
    },
  };
}

interface Bound {
  clockGHz: number;
  /** Bare kernel, 8 x 256 x 64 (B in L1): the arithmetic peak the kernel reaches. */
  peakGflops: number;
  /** Measured SIMD bound (bench/wasm/peak-flops.ts) over the estimated clock. */
  isaFlopsPerCycle: number;
  /** Measured: twelve register-resident 128-bit multiply-add chains, best of rounds. */
  isaBoundGflops: number;
  /** Per weight [N, K], hot, best rounds: GFLOP/s at 1 and 8 rows, time ratio, floor. */
  weights: { weight: [number, number]; gflops1: number; gflops8: number; ratio: number; floor: number }[];
}

/**
 * GFLOP/s of bench/wasm/peak-flops.ts (12 register-resident chains of vector ops), compiled now with
 * the kernel's SIMD variant; best of rounds after enough calls for V8 to tier the module up.
 */
async function measuredSimdPeak(relaxed: boolean): Promise<number> {
  const source = fileURLToPath(new URL('./wasm/peak-flops.ts', import.meta.url));
  const flags = ['-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd'];
  if (relaxed) flags.push('--enable', 'relaxed-simd');
  let wasm: Uint8Array | undefined;
  const errors: string[] = [];
  const { error } = await asc.main([source, '-o', 'peak-flops.wasm', ...flags], {
    writeFile: (name: string, contents: Uint8Array | string) => {
      if (name.endsWith('.wasm') && typeof contents !== 'string') wasm = contents;
    },
    stdout: { write: () => true } as never,
    stderr: { write: (s: string) => errors.push(String(s)) > 0 } as never,
  });
  if (error || !wasm)
    throw new Error(`asc failed on peak-flops.ts: ${error?.message ?? ''}\n${errors.join('')}`);
  const { instance } = await WebAssembly.instantiate(Uint8Array.from(wasm), {});
  const peak = instance.exports.peak as (iters: number, seed: number) => number;
  const flops = (instance.exports.flopsPerIteration as () => number)();
  const iters = 20_000;
  let sink = 0;
  const ms = bestMs(() => {
    sink += peak(iters, 1e-7);
  }, 100);
  if (!Number.isFinite(sink)) throw new Error('peak-flops: the chains overflowed');
  return (iters * flops) / ms / 1e6;
}

/** The clock, the measured SIMD bound and the bare kernel's rates, best of rounds (one thread). */
function kernelBound(simdPeakGflops: number): Bound {
  const bare = bareKernel();
  const clock = clockGHz();
  const peakMs = bestMs(bare.call(8, 256, 64), 2000);
  const bound: Bound = {
    clockGHz: clock,
    peakGflops: gflops(8, 256, 64, peakMs),
    // The higher of the chains' rate and the kernel's own peak: a bound the kernel beats is no bound.
    isaFlopsPerCycle: Math.max(simdPeakGflops, gflops(8, 256, 64, peakMs)) / clock,
    isaBoundGflops: Math.max(simdPeakGflops, gflops(8, 256, 64, peakMs)),
    weights: [],
  };
  for (const [n, k] of WEIGHTS) {
    const ms1 = bestMs(bare.call(1, k, n), Math.ceil(40 / (n / 1024)));
    const ms8 = bestMs(bare.call(8, k, n), Math.ceil(10 / (n / 1024)));
    const g1 = gflops(1, k, n, ms1);
    bound.weights.push({
      weight: [n, k],
      gflops1: g1,
      gflops8: gflops(8, k, n, ms8),
      ratio: ms8 / ms1,
      floor: (8 * g1) / bound.isaBoundGflops,
    });
  }
  bare.release();
  return bound;
}

/** Case 3: the bare kernel, 8 single-row products against one 8-row product, hot weight. */
function bareCase(n: number, k: number, isaBoundGflops: number): BenchmarkCase<unknown> {
  let bare: ReturnType<typeof bareKernel>;
  let one = () => {};
  let eight = () => {};
  return defineCase({
    name: `bare kernel, 8 rows vs 8 x 1 row, ${n}x${k} weight, hot, 1 thread`,
    baselineLabel: 'kernel, 8 x 1 row',
    methodLabel: 'kernel, 8 rows',
    baseline: () => one(),
    method: () => eight(),
    work: { amount: gflop(8, k, n), unit: 'GFLOP' },
    sampleMs: SAMPLE_MS,
    setup: async () => {
      await useThreads(1);
      bare = bareKernel();
      const call1 = bare.call(1, k, n);
      one = () => {
        for (let r = 0; r < 8; r++) call1();
      };
      eight = bare.call(8, k, n);
    },
    // floor = 8 x (1-row rate) / bound, the 1-row rate being this case's baseline rate.
    quality: (_b: unknown, _m: unknown, timing) =>
      rowsCost(timing, (8 * gflops(8, k, n, timing.baseline.median)) / isaBoundGflops),
    teardown: () => bare.release(),
  });
}

function boundTable(b: Bound): string {
  return [
    '| bare kernel, 1 core, hot weight [N, K] | 1 row GFLOP/s | 8 rows GFLOP/s | 8/1 | kernel peak | measured SIMD bound (clock) | floor 8 x 1-row / bound |',
    '|---|---|---|---|---|---|---|',
    ...b.weights.map(
      (w) =>
        `| ${w.weight[0]}x${w.weight[1]} | ${sig(w.gflops1, 1)} | ${sig(w.gflops8, 1)} | ${sig(w.ratio)} | ${sig(b.peakGflops, 1)} | ${sig(b.isaBoundGflops, 1)} (${sig(b.clockGHz)} GHz) | **${sig(w.floor)}** |`,
    ),
  ].join('\n');
}

async function main() {
  const load0 = os.loadavg();
  await useThreads(1);
  const variant = cpuMatmulInfo().variant;
  const bound = kernelBound(await measuredSimdPeak(variant.startsWith('relaxed')));
  if (args['bound-only']) {
    console.log(boundTable(bound)); // a quick look: nothing written
    return;
  }
  const cases: BenchmarkCase<unknown>[] = WEIGHTS.map(([n, k]) => bareCase(n, k, bound.isaBoundGflops));
  for (const threads of THREADS) {
    cases.push(...SHAPES.map(([m, k, n]) => throughputCase(m, k, n, threads)));
    for (const [n, k] of WEIGHTS) cases.push(...rowsCases(n, k, threads));
  }
  const describe = (load1?: number[]) =>
    [
      `Issue 2's matmul properties. Throughput: baseline ORT MatMul, method ours, GFLOP/s as the rates; ` +
        `the speed-up is ours / ORT (aim >= ${THROUGHPUT_AIM}). Rows: baseline 8 separate 1-row products, ` +
        `method one 8-row product; speed-up > ${8 / ROWS_TARGET} means 8 rows cost under ${ROWS_TARGET}x one ` +
        `(the quality check states ms8 / ms1). "hot": one weight; "streamed": ${STREAM_BYTES / 2 ** 20} MiB ` +
        `of distinct weights.`,
      `Kernel bound (1 core, best of ${ROUNDS} rounds): clock ~${sig(bound.clockGHz)} GHz, measured SIMD bound ` +
        `${sig(bound.isaBoundGflops, 1)} GFLOP/s (${sig(bound.isaFlopsPerCycle, 1)} flops/cycle, bench/wasm/peak-flops.ts), ` +
        `kernel peak ${sig(bound.peakGflops, 1)} GFLOP/s (8x256x64, B in L1); ` +
        bound.weights
          .map(
            (w) =>
              `${w.weight[0]}x${w.weight[1]}: 1 row ${sig(w.gflops1, 1)}, 8 rows ${sig(w.gflops8, 1)} GFLOP/s, ` +
              `8/1 ${sig(w.ratio)}, floor ${sig(w.floor)}`,
          )
          .join('; ') +
        '.',
      `Run: ${QUICK ? '--quick, ' : ''}${ROUNDS} rounds, ~${SAMPLE_MS} ms samples; load average ` +
        `${load0.map((x) => sig(x)).join(' ')}${load1 ? ` -> ${load1.map((x) => sig(x)).join(' ')}` : ''} ` +
        `on ${os.cpus().length} cores.`,
    ].join(' ');
  const definition = defineBenchmark({
    package: 'core-tensor',
    name: args.relaxed ? 'matmul-relaxed' : 'matmul',
    description: describe(),
    warmup: 1,
    repeats: ROUNDS,
    environment: {
      backend: 'cpu',
      adapter: `wasm ${variant} (shared memory on 2 threads)`,
      versions: { 'onnxruntime-node': ortVersion() },
    },
    cases,
  });
  const { result } = await runAndWrite(definition, { write: false });
  await useThreads(1);
  result.description = describe(os.loadavg());
  const root = findRepoRoot();
  const path = writeBenchResult(result, args.out ? { path: args.out } : { root });
  console.log(`\n${boundTable(bound)}\n\n${result.description}\nwrote ${path}`);
  const worst = Math.max(
    ...result.cases.flatMap((c) => (c.quality?.metric.startsWith('max |y') ? [c.quality.value] : [])),
  );
  if (!(worst < MAX_REL_ERR)) {
    console.log(`quality: max relative error of ours ${worst.toExponential(1)} is TOO LARGE`);
    process.exitCode = 1;
  }
}

await main();
