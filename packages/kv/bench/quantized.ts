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
 *
 * KIVI on the paged pool (`quantization: { bits, residualBlocks }`, blocks of 16 = KIVI's group,
 * 8 blocks = R 128 in f32):
 * - best-of-16 memory on the code-target model: one prompt, 16 forks (sample i starts with the
 *   prompt's i-th most likely next token, then decodes greedily), all through LlamaModel's
 *   `cache.attend`; paged+KIVI 4-bit against 16 contiguous f32 caches sized exactly (used bytes).
 *   Quality: the share of sampled tokens equal to the f32 samples', beside the memory ratio.
 * - one decode step's attention (code-target shape) on a paged+KIVI cache against the f32 paged cache
 *   (pagedSdpa) holding the same positions: time ratio, with the error against f32 (rel. L2), the
 *   memory ratio, and max |Δ| against a QuantizedKVCache of the same bits, group and residual.
 */
import { cpuStorage, pagedSdpa, randn, sdpa, type Tensor, tensor } from '@hasten/core-tensor';
import { type BenchmarkCase, type BenchmarkDefinition, defineBenchmark, defineCase } from '@hasten/eval';
import { findRepoRoot, loadHeldoutFiles } from '@hasten/eval/node';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM, loadTokenizer } from '@hasten/models/node';
import {
  ContiguousKVCache,
  dequantizedAttention,
  type KVCache,
  type PagedKVCache,
  PagedKVPool,
  QuantizedKVCache,
} from '../src/index';

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

// ------------------------------------------------------------------ KIVI on the paged pool

const BLOCK = 16;
const RESIDUAL_BLOCKS = 8; // R = 128 positions in f32, KIVI's default
const SAMPLES = 16;

/** Random positions (keys with outlier channels, as in `build`) written to every cache, committed in chunks. */
function fillSame(caches: KVCache[], shape: Shape, T: number): void {
  const outlier = new Float32Array(shape.d).map((_, c) => (c % 16 === 0 ? 5 : 1));
  for (let at = 0, seed = 1; at < T; at += 512) {
    const S = Math.min(512, T - at);
    for (let l = 0; l < shape.layers; l++) {
      const k = randn([1, shape.kv, S, shape.d], { seed: seed++ });
      const ks = cpuStorage(k) as Float32Array;
      for (let i = 0; i < ks.length; i++) ks[i] *= outlier[i % shape.d];
      const v = randn([1, shape.kv, S, shape.d], { seed: seed++ });
      for (const c of caches) c.append(l, k, v);
      k.dispose();
      v.dispose();
    }
    for (const c of caches) c.commit();
  }
}

function relL2(approx: Float32Array[], exact: Float32Array[]): number {
  let num = 0;
  let den = 0;
  exact.forEach((e, l) => {
    for (let i = 0; i < e.length; i++) {
      num += (approx[l][i] - e[i]) ** 2;
      den += e[i] ** 2;
    }
  });
  return Math.sqrt(num / den);
}

/** One decode step's attention over every layer: paged+KIVI against the f32 paged cache. */
function pagedAttentionCase(
  shape: Shape,
  T: number,
  bits: 8 | 4 | 2,
  quick: boolean,
): BenchmarkCase<unknown> {
  interface State {
    f32: PagedKVCache;
    kivi: PagedKVCache;
    q: Tensor;
    relError: number;
    memoryRatio: number;
    vsContiguous: number;
  }
  let st: State | null = null;
  const get = () => {
    if (!st) throw new Error('case not set up');
    return st;
  };
  /** pagedSdpa over an f32 pool's view, the fused KIVI kernel on a quantized pool or QuantizedKVCache. */
  const attendAll = (c: KVCache, q: Tensor) =>
    read(
      layers(shape).map((l) => {
        if (c.attentionView) return pagedSdpa(q, c.attentionView(l), { causal: true });
        if (!c.attend) throw new Error('no attend');
        return c.attend(l, q, { causal: true });
      }),
    );
  const base = { numLayers: shape.layers, numKvHeads: shape.kv, headDim: shape.d, blockSize: BLOCK };
  const numBlocks = Math.ceil((T + 1) / BLOCK) + 1;
  return defineCase<Float32Array[]>({
    name: `decode-step attention, paged KIVI ${bits}-bit vs paged f32, ${shape.name} at ${T} positions`,
    baselineLabel: 'PagedKVCache f32 (pagedSdpa)',
    methodLabel: `PagedKVCache, KIVI ${bits}-bit blocks (attend)`,
    setup: () => {
      const f32 = new PagedKVPool({ ...base, numBlocks }).createCache();
      const kivi = new PagedKVPool({
        ...base,
        numBlocks,
        quantization: { bits, residualBlocks: RESIDUAL_BLOCKS },
      }).createCache();
      const twin = new QuantizedKVCache({
        numLayers: shape.layers,
        batch: 1,
        numKvHeads: shape.kv,
        headDim: shape.d,
        maxLength: T + 1,
        bits,
        groupSize: BLOCK,
        residual: RESIDUAL_BLOCKS * BLOCK,
      });
      fillSame([f32, kivi, twin], shape, T);
      const q = randn([1, shape.heads, 1, shape.d], { seed: 999 });
      const exact = attendAll(f32, q);
      const approx = attendAll(kivi, q);
      const mem = kivi.memory();
      st = {
        f32,
        kivi,
        q,
        relError: relL2(approx, exact),
        memoryRatio: mem.allocatedBytes / mem.f32Bytes,
        vsContiguous: maxAbsDiff(approx, attendAll(twin, q)),
      };
      twin.dispose();
    },
    teardown: () => {
      st?.f32.pool.dispose();
      st?.kivi.pool.dispose();
      st?.q.dispose();
      st = null;
    },
    baseline: () => attendAll(get().f32, get().q),
    method: () => attendAll(get().kivi, get().q),
    quality: () => {
      const s = get();
      // Thresholds as for the contiguous cache on these inputs (Gaussian values, flat attention).
      const limit = { 8: 0.02, 4: 0.2, 2: 1 }[bits];
      return {
        metric: `attention error vs f32 (rel. L2); memory ${s.memoryRatio.toFixed(3)}× f32; max |paged − QuantizedKVCache| ${s.vsContiguous.toExponential(1)}`,
        value: s.relError,
        pass: s.relError < limit && s.vsContiguous < 1e-5,
        threshold: `< ${limit}`,
      };
    },
    work: { amount: 1, unit: 'steps' },
    repeats: quick ? 2 : 7,
  });
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Best-of-16 on the code-target model: memory of paged+KIVI forks vs 16 contiguous f32 caches. */
async function bestOfCases(quick: boolean): Promise<BenchmarkCase<unknown>[]> {
  const root = findRepoRoot();
  const dir = `${root}/fixtures/code-target`;
  const model: CausalLM = await loadCausalLM(dir);
  const corpus = loadTokenizer(dir).encode(
    loadHeldoutFiles({ root })
      .map((f) => f.text)
      .join('\n'),
  );
  const cfg = model.config;
  const GEN = quick ? 4 : 16;
  const ids = (xs: number[]) => tensor(Int32Array.from(xs), [1, xs.length], { dtype: 'i32' });
  const next = async (cache: KVCache, xs: number[]) => {
    const t = ids(xs);
    const { logits } = await model.forward({ tokens: t, cache, logitsToKeep: 1 });
    const row = Float32Array.from((await logits.data()) as Float32Array);
    t.dispose();
    logits.dispose();
    return row;
  };
  interface Out {
    tokens: number[][];
    usedBytes: number;
    quantizedBlocks: number;
    /** The same blocks in f32 (what the f32 paged pool's forks would hold). */
    f32Bytes: number;
  }
  return (quick ? [256] : [256, 500]).map((P) => {
    const prompt = corpus.slice(0, P);
    const run = async (kivi: boolean): Promise<Out> => {
      const pool = kivi
        ? PagedKVPool.forModel(cfg, {
            numBlocks: Math.ceil((P + GEN) / BLOCK) * (SAMPLES + 1),
            blockSize: BLOCK,
            quantization: { bits: 4, residualBlocks: RESIDUAL_BLOCKS },
          })
        : null;
      const parent = pool ? pool.createCache() : model.createCache({ maxLength: P + GEN, capacity: P + GEN });
      const row = await next(parent, prompt);
      const ranked = [...row.keys()].sort((a, b) => row[b] - row[a]);
      const forks = Array.from({ length: SAMPLES }, () => parent.fork());
      parent.dispose();
      const tokens: number[][] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const seq = [ranked[i]];
        for (let t = 1; t < GEN; t++) seq.push(argmax(await next(forks[i], [seq[t - 1]])));
        tokens.push(seq);
      }
      const usedBytes = pool ? pool.stats().usedBytes : forks.reduce((s, f) => s + f.memory().usedBytes, 0);
      const stats = pool?.stats();
      const quantizedBlocks = stats?.quantization?.quantizedBlocks ?? 0;
      const f32Bytes = stats ? stats.usedBlocks * stats.bytesPerBlock : usedBytes;
      for (const f of forks) f.dispose();
      pool?.dispose();
      return { tokens, usedBytes, quantizedBlocks, f32Bytes };
    };
    const MiB = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
    return defineCase<Out>({
      name: `best-of-16 memory, paged KIVI 4-bit vs 16 contiguous f32 caches, code-target, ${P}-token prompt + ${GEN} tokens each`,
      baselineLabel: '16 ContiguousKVCache forks (f32)',
      methodLabel: '16 PagedKVCache forks, KIVI 4-bit blocks (R = 128)',
      baseline: () => run(false),
      method: () => run(true),
      quality: (a, b) => {
        const ratio = a.usedBytes / b.usedBytes;
        let same = 0;
        a.tokens.forEach((seq, i) => {
          seq.forEach((t, j) => {
            if (b.tokens[i][j] === t) same++;
          });
        });
        const agree = same / (SAMPLES * GEN);
        return {
          metric: `memory ${MiB(a.usedBytes)} / ${MiB(b.usedBytes)} (${b.quantizedBlocks} blocks quantized; the same blocks in f32: ${MiB(b.f32Bytes)}); sampled tokens equal to f32's: ${(100 * agree).toFixed(1)}%`,
          value: ratio,
          pass: ratio >= 5 && agree >= 0.9,
          threshold: '>= 5',
        };
      },
      work: { amount: SAMPLES * GEN, unit: 'tokens' },
      warmup: 1,
      repeats: quick ? 1 : 3,
    });
  });
}

export async function quantizedBenchmark(quick: boolean): Promise<BenchmarkDefinition> {
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
  const codeTarget = SHAPES[0];
  for (const T of contexts)
    for (const bits of widths) cases.push(pagedAttentionCase(codeTarget, T, bits, quick));
  cases.push(...(await bestOfCases(quick)));
  return defineBenchmark({
    package: 'kv',
    name: 'quantized',
    description:
      'KIVI QuantizedKVCache (G = 32, R = 128): memory and attention error vs f32; one decode step of attention, fused (codes read in place) vs dequantize-then-attend and vs f32 sdpa. KIVI on the paged pool (blocks of 16, R = 128): decode-step attention vs the f32 paged cache, and best-of-16 memory on the code-target model vs 16 contiguous f32 caches',
    warmup: 1,
    repeats: quick ? 2 : 5,
    environment: { backend: 'cpu' },
    cases,
  });
}
