/**
 * The KIVI QuantizedKVCache (arXiv:2402.02750; G = 32, R = 128, its defaults) at 8, 4 and 2 bits:
 * memory against f32, the error of its attention output against f32 attention, and the time of one
 * decode step's attention (every layer, one query position over T cached ones):
 *
 * - fused (`cache.attend`: reads the packed codes, fused-attention.ts) against dequantize-then-attend
 *   (`keys()` / `values()` build dense f32 K/V, then sdpa: what a model did before `attend`), and
 * - fused against sdpa over a ContiguousKVCache holding the same keys and values in f32.
 *
 * Shapes: code-target (4 layers, 8 query and 4 kv heads of 32) and Llama-3.2-1B (16 layers, 32
 * query and 8 kv heads of 64), at T = 1024 and 4096. Keys are Gaussian with every 16th channel 5×
 * larger (the outlier channels that make KIVI quantize keys per channel), values and queries
 * Gaussian. Quality: fused vs dequantize-then-attend max |Δ| (the same codes: rounding only), and the
 * relative L2 error ‖o_quant − o_f32‖ / ‖o_f32‖ over all layers, with the memory ratio beside it.
 * Caches are built in each case's setup and dropped in its teardown.
 */
import { cpuStorage, randn, sdpa, type Tensor } from '@hasten/core-tensor';
import { type BenchmarkCase, type BenchmarkDefinition, defineBenchmark, defineCase } from '@hasten/eval';
import { ContiguousKVCache, dequantizedAttention, QuantizedKVCache } from '../src/index';

interface Shape {
  name: string;
  layers: number;
  heads: number;
  kv: number;
  d: number;
}
const SHAPES: Shape[] = [
  { name: 'code-target', layers: 4, heads: 8, kv: 4, d: 32 },
  { name: 'llama-3.2-1b', layers: 16, heads: 32, kv: 8, d: 64 },
];

interface Caches {
  f32: ContiguousKVCache;
  quant: QuantizedKVCache;
  q: Tensor;
  /** ‖o_quant − o_f32‖ / ‖o_f32‖ over every layer. */
  relError: number;
  memoryRatio: number;
}

function read(outs: Tensor[]): Float32Array[] {
  return outs.map((o) => {
    const a = Float32Array.from(cpuStorage(o) as Float32Array);
    o.dispose();
    return a;
  });
}

/** f32 and quantized caches holding the same T random positions per layer, and a decode query. */
function build(shape: Shape, T: number, bits: 8 | 4 | 2): Caches {
  const opts = {
    numLayers: shape.layers,
    batch: 1,
    numKvHeads: shape.kv,
    headDim: shape.d,
    maxLength: T + 1,
  };
  const f32 = new ContiguousKVCache(opts);
  const quant = new QuantizedKVCache({ ...opts, bits });
  const outlier = new Float32Array(shape.d).map((_, c) => (c % 16 === 0 ? 5 : 1));
  const CHUNK = 512;
  for (let at = 0, seed = 1; at < T; at += CHUNK) {
    const S = Math.min(CHUNK, T - at);
    for (let l = 0; l < shape.layers; l++) {
      const k = randn([1, shape.kv, S, shape.d], { seed: seed++ });
      const ks = cpuStorage(k) as Float32Array;
      for (let i = 0; i < ks.length; i++) ks[i] *= outlier[i % shape.d];
      const v = randn([1, shape.kv, S, shape.d], { seed: seed++ });
      f32.append(l, k, v);
      quant.append(l, k, v);
      k.dispose();
      v.dispose();
    }
    f32.commit();
    quant.commit();
  }
  const q = randn([1, shape.heads, 1, shape.d], { seed: 999 });
  const exact = read(dense(f32, shape, q));
  const approx = read(fused(quant, shape, q));
  let num = 0;
  let den = 0;
  exact.forEach((e, l) => {
    for (let i = 0; i < e.length; i++) {
      num += (approx[l][i] - e[i]) ** 2;
      den += e[i] ** 2;
    }
  });
  const memoryRatio = quant.memory().usedBytes / f32.memory().usedBytes;
  return { f32, quant, q, relError: Math.sqrt(num / den), memoryRatio };
}

const layers = (shape: Shape) => Array.from({ length: shape.layers }, (_, l) => l);
const fused = (c: QuantizedKVCache, s: Shape, q: Tensor) =>
  layers(s).map((l) => c.attend(l, q, { causal: true }));
const dequant = (c: QuantizedKVCache, s: Shape, q: Tensor) =>
  layers(s).map((l) => dequantizedAttention(c, l, q, { causal: true }));
function dense(c: ContiguousKVCache, s: Shape, q: Tensor): Tensor[] {
  return layers(s).map((l) => {
    const k = c.keys(l);
    const v = c.values(l);
    const o = sdpa(q, k, v, { causal: true });
    k.dispose();
    v.dispose();
    return o;
  });
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => {
    for (let j = 0; j < x.length; j++) m = Math.max(m, Math.abs(x[j] - b[i][j]));
  });
  return m;
}

export function quantizedBenchmark(quick: boolean): BenchmarkDefinition {
  const cases: BenchmarkCase<unknown>[] = [];
  const contexts = quick ? [1024] : [1024, 4096];
  const widths: (8 | 4 | 2)[] = quick ? [4] : [8, 4, 2];
  for (const shape of SHAPES)
    for (const T of contexts)
      for (const bits of widths) {
        let c: Caches | null = null;
        const get = () => {
          if (!c) throw new Error('case not set up');
          return c;
        };
        const setup = () => {
          c = build(shape, T, bits);
        };
        const teardown = () => {
          c?.f32.dispose();
          c?.quant.dispose();
          c?.q.dispose();
          c = null;
        };
        const mem = () =>
          `memory ${get().memoryRatio.toFixed(3)}× f32, attention error vs f32 ${get().relError.toExponential(2)} (rel. L2)`;
        const repeats = quick ? 2 : shape.layers * T > 16 * 1024 ? 3 : 7;
        cases.push(
          defineCase<Float32Array[]>({
            name: `decode-step attention, KIVI ${bits}-bit fused vs dequantize-then-attend, ${shape.name} at ${T} positions`,
            baselineLabel: 'dequantize (keys()/values()) + sdpa',
            methodLabel: `QuantizedKVCache.attend (${bits}-bit codes in place)`,
            setup,
            teardown,
            baseline: () => read(dequant(get().quant, shape, get().q)),
            method: () => read(fused(get().quant, shape, get().q)),
            quality: (a, b) => {
              const d = maxAbsDiff(a, b);
              return {
                metric: `max |fused − dequantized| over ${shape.layers} layers; ${mem()}`,
                value: d,
                pass: d < 1e-4,
                threshold: '< 1e-4',
              };
            },
            work: { amount: 1, unit: 'steps' },
            repeats,
          }),
        );
        if (bits !== 4) continue;
        cases.push(
          defineCase<Float32Array[]>({
            name: `decode-step attention, KIVI 4-bit fused vs f32 contiguous sdpa, ${shape.name} at ${T} positions`,
            baselineLabel: 'ContiguousKVCache (f32) + sdpa',
            methodLabel: 'QuantizedKVCache.attend (4-bit)',
            setup,
            teardown,
            baseline: () => read(dense(get().f32, shape, get().q)),
            method: () => read(fused(get().quant, shape, get().q)),
            quality: () => ({
              metric: `attention error vs f32 (rel. L2), memory ${get().memoryRatio.toFixed(3)}× f32`,
              value: get().relError,
              // Gaussian values, near-uniform attention: the error is about the 4-bit value step / √12
              // relative to the values' spread (~0.08) plus the keys' share.
              pass: get().relError < 0.2,
              threshold: '< 0.2',
            }),
            work: { amount: 1, unit: 'steps' },
            repeats,
          }),
        );
      }
  return defineBenchmark({
    package: 'kv',
    name: 'quantized',
    description:
      'KIVI QuantizedKVCache (G = 32, R = 128): memory and attention error vs f32; one decode step of attention, fused (codes read in place) vs dequantize-then-attend and vs f32 sdpa',
    warmup: 1,
    repeats: quick ? 2 : 5,
    environment: { backend: 'cpu' },
    cases,
  });
}
