/**
 * The paged cache (PagedKVPool / PagedKVCache) against ContiguousKVCache on the code-target fixture
 * (4 layers, 4 KV heads of 32, byte-level, 1024-token context), in one process on the same tokens.
 *
 * - best-of-16: prefill one prompt, fork 16 samples (sample i starts with the prompt's i-th most
 *   likely next token, then decodes greedily), as best-of-N, beams and particles do. Contiguous:
 *   16 deep copies; paged: 16 forks sharing the prompt's blocks (copy-on-write). Reported: memory of
 *   the shared prompt part and in total (quality check: >= 10x less on the prompt part, identical
 *   tokens), and the time of the whole thing.
 * - decode: 128 greedy tokens after a 256-token prompt; paged through pagedSdpa (attentionView) and,
 *   to measure the fallback, through keys()/values() gathering a dense copy every layer and step.
 *   Target: paged at most 10% slower than contiguous. Quality: identical tokens, max |Δ logit|.
 * - decode at context T: 32 greedy tokens from a cache holding T = 64 .. 896 positions: the per-token
 *   time grows with T only through attention (both caches), and the paged cache's own work (block
 *   allocation, table upkeep, prefix keys) per token stays flat (series).
 * - attention alone, one decode step of the 4 layers at T = 896: sdpa over dense caches against
 *   pagedSdpa over a head-major pool whose blocks are in id order (what the pool's lowest-id-first
 *   allocation gives a sequence in a fresh pool) or scattered at random (a long-running pool), with
 *   16- and 32-position blocks. Quality: identical outputs.
 */
import {
  cpuStorage,
  fromStorageArray,
  pagedSdpa,
  randn,
  sdpa,
  type Tensor,
  tensor,
  zeros,
} from '@hasten/core-tensor';
import { type BenchmarkDefinition, defineBenchmark, defineCase, type Series } from '@hasten/eval';
import { findRepoRoot, loadHeldoutFiles } from '@hasten/eval/node';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM, loadTokenizer } from '@hasten/models/node';
import { type KVCache, PagedKVCache, PagedKVPool } from '../src/index';

const BLOCK = 16;
const SAMPLES = 16;

interface Run {
  tokens: number[];
  logits: Float32Array[];
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Feeds `feed`, then `steps` greedy tokens; a paged cache records the ids it holds. */
async function decode(
  model: CausalLM,
  cache: KVCache,
  feed: number[],
  steps: number,
  keepLogits = false,
): Promise<Run> {
  const out: Run = { tokens: [], logits: [] };
  let ids = feed;
  for (let i = 0; i <= steps; i++) {
    const t = tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'i32' });
    const { logits } = await model.forward({ tokens: t, cache, logitsToKeep: 1 });
    const row = (await logits.data()) as Float32Array;
    t.dispose();
    logits.dispose();
    if (cache instanceof PagedKVCache) cache.recordTokens(ids);
    if (keepLogits) out.logits.push(row);
    if (i === steps) break;
    const next = argmax(row);
    out.tokens.push(next);
    ids = [next];
  }
  return out;
}

/** The cache without attentionView: the model falls back to keys()/values() (dense gathers). */
function gatherOnly(cache: PagedKVCache): KVCache {
  return new Proxy(cache, {
    get(target, prop) {
      if (prop === 'attentionView') return undefined;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};

export async function pagedBenchmark(quick: boolean): Promise<BenchmarkDefinition> {
  const root = findRepoRoot();
  const dir = `${root}/fixtures/code-target`;
  const model = await loadCausalLM(dir);
  const tok = loadTokenizer(dir);
  const text = loadHeldoutFiles({ root })
    .map((f) => f.text)
    .join('\n');
  const corpus = tok.encode(text);
  const cfg = model.config;
  const pool = PagedKVPool.forModel(cfg, { numBlocks: 640, blockSize: BLOCK });
  const perPos = cfg.numKvHeads * cfg.headDim * 4 * 2 * cfg.numLayers; // bytes of one position, K and V, all layers

  // ---------------------------------------------------------------- best-of-16
  const GEN = quick ? 4 : 16;
  const bestOf = (P: number) => {
    const prompt = corpus.slice(0, P);
    interface Out {
      tokens: number[][];
      promptBytes: number;
      usedBytes: number;
    }
    const run = async (paged: boolean): Promise<Out> => {
      const parent = paged
        ? pool.createCache()
        : model.createCache({ maxLength: P + GEN, capacity: P + GEN });
      const { logits } = await model.forward({
        tokens: tensor(Int32Array.from(prompt), [1, P], { dtype: 'i32' }),
        cache: parent,
        logitsToKeep: 1,
      });
      if (parent instanceof PagedKVCache) parent.recordTokens(prompt);
      const row = (await logits.data()) as Float32Array;
      logits.dispose();
      const ranked = [...row.keys()].sort((a, b) => row[b] - row[a]);
      const forks = Array.from({ length: SAMPLES }, () => parent.fork());
      parent.dispose();
      const tokens: number[][] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const r = await decode(model, forks[i], [ranked[i]], GEN - 1);
        tokens.push([ranked[i], ...r.tokens]);
      }
      let promptBytes: number;
      let usedBytes: number;
      if (paged) {
        const blocks = new Set<number>();
        for (const f of forks as PagedKVCache[])
          for (const id of f.blockTable(0).slice(0, Math.ceil(P / BLOCK))) blocks.add(id);
        promptBytes = blocks.size * pool.bytesPerBlock;
        usedBytes = pool.stats().usedBytes;
      } else {
        promptBytes = SAMPLES * P * perPos;
        usedBytes = forks.reduce((s, f) => s + f.memory().usedBytes, 0);
      }
      for (const f of forks) f.dispose();
      return { tokens, promptBytes, usedBytes };
    };
    const MiB = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
    return defineCase<Out>({
      name: `best-of-16 memory, ${P}-token prompt + ${GEN} tokens each`,
      baselineLabel: '16 ContiguousKVCache forks',
      methodLabel: '16 PagedKVCache forks',
      baseline: () => run(false),
      method: () => run(true),
      quality: (a, b) => {
        const ratio = a.promptBytes / b.promptBytes;
        const same = JSON.stringify(a.tokens) === JSON.stringify(b.tokens);
        return {
          metric: `prompt-part memory ${MiB(a.promptBytes)} / ${MiB(b.promptBytes)} (total ${MiB(a.usedBytes)} / ${MiB(b.usedBytes)})${same ? ', identical tokens' : ', TOKENS DIFFER'}`,
          value: ratio,
          pass: same && ratio >= 10,
          threshold: '>= 10',
        };
      },
      work: { amount: SAMPLES * GEN, unit: 'tokens' },
      warmup: 1,
      repeats: quick ? 2 : 3,
    });
  };

  // ---------------------------------------------------------------- decode throughput
  const PROMPT = 256;
  const NEW = quick ? 32 : 128;
  const prompt = corpus.slice(0, PROMPT);
  const dense = model.createCache({ maxLength: PROMPT + NEW + 1 });
  const paged = pool.createCache();
  const primed = async (cache: KVCache) => {
    await decode(model, cache, prompt.slice(0, -1), 0);
    return cache;
  };
  await primed(dense);
  await primed(paged);
  const fallback = gatherOnly(paged);
  const decodeFrom = async (cache: KVCache) => {
    const r = await decode(model, cache, [prompt[PROMPT - 1]], NEW, true);
    cache.truncate(PROMPT - 1);
    return r;
  };
  /** Identical tokens and logits within 1e-5; with a speed target, also at most 10% slower. */
  const compare = (target: boolean) => (a: Run, b: Run, timing: { speedup: { ratio: number } }) => {
    const same = JSON.stringify(a.tokens) === JSON.stringify(b.tokens);
    let diff = 0;
    a.logits.forEach((row, i) => {
      for (let j = 0; j < row.length; j++) diff = Math.max(diff, Math.abs(row[j] - b.logits[i][j]));
    });
    const ratio = timing.speedup.ratio;
    return {
      metric: `max |Δ logit|${same ? ', identical tokens' : ', TOKENS DIFFER'}${target ? `; speed-up ${ratio.toFixed(3)} (target >= 0.9)` : ''}`,
      value: diff,
      pass: same && diff <= 1e-5 && (!target || ratio >= 0.9),
      threshold: '<= 1e-5',
    };
  };
  const throughput = [
    defineCase<Run>({
      name: `decode ${NEW} tokens after ${PROMPT}, paged attention`,
      baselineLabel: 'ContiguousKVCache',
      methodLabel: 'PagedKVCache (pagedSdpa)',
      baseline: () => decodeFrom(dense),
      method: () => decodeFrom(paged),
      quality: compare(true),
      work: { amount: NEW, unit: 'tokens' },
      repeats: quick ? 3 : 15,
    }),
    defineCase<Run>({
      name: `decode ${NEW} tokens after ${PROMPT}, dense-gather fallback`,
      baselineLabel: 'ContiguousKVCache',
      methodLabel: 'PagedKVCache (keys()/values() gathers)',
      baseline: () => decodeFrom(dense),
      method: () => decodeFrom(fallback),
      quality: compare(false),
      work: { amount: NEW, unit: 'tokens' },
      repeats: quick ? 3 : 5,
    }),
  ];

  // ---------------------------------------------------------------- decode time vs context
  const CONTEXTS = quick ? [64, 512] : [64, 256, 512, 896];
  const STEPS = 32;
  const perContext = new Map<number, { dense: number[]; paged: number[] }>();
  const contextCases = CONTEXTS.map((T) => {
    const ctx = corpus.slice(0, T);
    const caches: { dense?: KVCache; paged?: KVCache } = {};
    const times = { dense: [] as number[], paged: [] as number[] };
    perContext.set(T, times);
    const timed = async (side: 'dense' | 'paged') => {
      const cache = caches[side] as KVCache;
      const t0 = performance.now();
      const r = await decode(model, cache, [ctx[T - 1]], STEPS - 1);
      times[side].push((performance.now() - t0) / STEPS);
      cache.truncate(T - 1);
      return r.tokens;
    };
    return defineCase<number[]>({
      name: `decode ${STEPS} tokens at context ${T}`,
      baselineLabel: 'ContiguousKVCache',
      methodLabel: 'PagedKVCache',
      setup: async () => {
        caches.dense = await primedAt(model.createCache({ maxLength: T + STEPS }), ctx);
        caches.paged = await primedAt(pool.createCache(), ctx);
      },
      teardown: () => {
        caches.dense?.dispose();
        caches.paged?.dispose();
      },
      baseline: () => timed('dense'),
      method: () => timed('paged'),
      quality: (a, b) => ({
        metric: 'identical tokens',
        value: JSON.stringify(a) === JSON.stringify(b) ? 1 : 0,
        pass: JSON.stringify(a) === JSON.stringify(b),
        threshold: '= 1',
      }),
      work: { amount: STEPS, unit: 'tokens' },
      repeats: quick ? 2 : 15,
    });
  });
  async function primedAt(cache: KVCache, ctx: number[]) {
    await decode(model, cache, ctx.slice(0, -1), 0);
    return cache;
  }

  // ---------------------------------------------------------------- attention kernels alone
  const kernelCase = (order: 'in id order' | 'scattered', bs: number) => {
    const T = 896;
    const N = (640 * BLOCK) / bs;
    const { numLayers: L, numKvHeads: H, headDim: D, numHeads: Hq } = cfg;
    const used = Math.ceil(T / bs);
    const ids = Array.from({ length: N }, (_, i) => i);
    if (order === 'scattered') {
      let seed = 12345;
      for (let i = N - 1; i > 0; i--) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const j = seed % (i + 1);
        [ids[i], ids[j]] = [ids[j], ids[i]];
      }
    }
    const blockTable = fromStorageArray(Int32Array.from(ids.slice(0, used)), [1, used], 'i32');
    const q = randn([1, Hq, 1, D], { seed: 1 });
    const layers = Array.from({ length: L }, (_, l) => {
      const dense = [randn([1, H, T, D], { seed: 10 + l }), randn([1, H, T, D], { seed: 20 + l })];
      // The same values in a head-major pool [H, N, bs, D], position t in block ids[t / bs].
      const pools = dense.map((x) => {
        const store = zeros([H, N, bs, D]);
        const src = cpuStorage(x) as Float32Array;
        const dst = cpuStorage(store) as Float32Array;
        for (let h = 0; h < H; h++)
          for (let t = 0; t < T; t++) {
            const at = ((h * N + ids[Math.floor(t / bs)]) * bs + (t % bs)) * D;
            dst.set(src.subarray((h * T + t) * D, (h * T + t + 1) * D), at);
          }
        return store.permute([1, 0, 2, 3]);
      });
      return { dense, view: { keys: pools[0], values: pools[1], blockTable, length: T } };
    });
    const read = (outs: Tensor[]) =>
      outs.map((o) => {
        const a = Float32Array.from(cpuStorage(o) as Float32Array);
        o.dispose();
        return a;
      });
    return defineCase<Float32Array[]>({
      name: `attention of one decode step, ${L} layers at context ${T}, ${bs}-position blocks ${order}`,
      baselineLabel: 'sdpa, dense caches',
      methodLabel: `pagedSdpa, ${bs}-position blocks ${order}`,
      baseline: () => read(layers.map((l) => sdpa(q, l.dense[0], l.dense[1], { causal: true }))),
      method: () => read(layers.map((l) => pagedSdpa(q, l.view, { causal: true }))),
      quality: (a, b) => {
        const same = a.every((x, i) => x.every((v, j) => Object.is(v, b[i][j])));
        return { metric: 'identical outputs', value: same ? 1 : 0, pass: same, threshold: '= 1' };
      },
      batch: 20,
      repeats: quick ? 5 : 30,
    });
  };

  /** The caches' own work per decoded token (no model): append to every layer, attention view, commit. */
  const bookkeeping = (T: number, kind: 'dense' | 'paged'): number => {
    const cache = kind === 'paged' ? pool.createCache() : model.createCache({ maxLength: T + STEPS });
    const kv = (n: number): Tensor =>
      tensor(new Float32Array(cfg.numKvHeads * n * cfg.headDim).fill(0.5), [
        1,
        cfg.numKvHeads,
        n,
        cfg.headDim,
      ]);
    const ctx = kv(T);
    for (let l = 0; l < cfg.numLayers; l++) cache.append(l, ctx, ctx);
    cache.commit();
    const one = kv(1);
    const reps = quick ? 5 : 40;
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) {
      for (let s = 0; s < STEPS; s++) {
        for (let l = 0; l < cfg.numLayers; l++) {
          cache.append(l, one, one);
          if (cache.attentionView) cache.attentionView(l);
          else {
            cache.keys(l).dispose();
            cache.values(l).dispose();
          }
        }
        cache.commit();
      }
      cache.truncate(T);
    }
    const us = ((performance.now() - t0) * 1000) / (reps * STEPS);
    cache.dispose();
    return us;
  };

  const series = (): Series[] => {
    const xs = [...perContext.keys()];
    const line = (label: string, f: (T: number) => number) => ({
      label,
      points: xs.map((x) => ({ x, y: f(x) })),
    });
    const med = (T: number, side: 'dense' | 'paged') => median(perContext.get(T)?.[side] ?? []);
    return [
      {
        kind: 'quality-vs-steps',
        name: 'decode-ms-per-token-vs-context',
        title: 'Decode time per token against context length (code-target)',
        xLabel: 'context length (positions)',
        yLabel: 'ms per token',
        lines: [
          line('ContiguousKVCache', (T) => med(T, 'dense')),
          line('PagedKVCache', (T) => med(T, 'paged')),
          line('paged − contiguous', (T) => med(T, 'paged') - med(T, 'dense')),
        ],
      },
      {
        kind: 'quality-vs-steps',
        name: 'cache-us-per-token-vs-context',
        title: "The caches' own work per decoded token (append, attention view, commit; no model)",
        xLabel: 'context length (positions)',
        yLabel: 'µs per token',
        lines: [
          line('ContiguousKVCache', (T) => bookkeeping(T, 'dense')),
          line('PagedKVCache', (T) => bookkeeping(T, 'paged')),
        ],
      },
    ];
  };

  return defineBenchmark({
    package: 'kv',
    name: 'paged',
    description: `PagedKVCache vs ContiguousKVCache on code-target: best-of-${SAMPLES} memory, decode throughput, decode time vs context (block size ${BLOCK})`,
    warmup: 1,
    repeats: quick ? 2 : 5,
    environment: { backend: 'cpu' },
    cases: [
      bestOf(256),
      bestOf(500),
      ...throughput,
      ...contextCases,
      kernelCase('in id order', BLOCK),
      kernelCase('scattered', BLOCK),
      kernelCase('scattered', 2 * BLOCK),
    ],
    series,
  });
}
