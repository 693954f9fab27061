/**
 * ContiguousKVCache against the growing-concat cache that Hugging Face's DynamicCache and
 * transformers.js use (every step allocates [B, KV, T + S, D] and copies the past into it), in one
 * process on the same keys and values.
 *
 * - decode: prefill 32 positions, then 224 one-token steps, every layer appending K and V and
 *   reading them back as the attention kernel would (a view of all positions).
 * - speculative rewind: the same, but every step appends 5 draft positions and rejects 3 of them
 *   (truncate), as a speculative decoder with a mean acceptance of 2 does.
 * Shapes: the code-target fixture (4 layers, 4 KV heads, head_dim 32) and a Llama-3.2-1B-shaped
 * cache (16 layers, 8 KV heads, head_dim 64). Quality: the final keys and values are identical.
 * Then the paged cache against the contiguous one on the code-target model (paged.ts), and the KIVI
 * quantized cache's fused attention against dequantize-then-attend and f32 (quantized.ts).
 *
 *   npm run bench -w @hasten/kv -- [--quick] [--only kv-cache|paged|quantized]
 */
import { parseArgs } from 'node:util';
import { cpuStorage, randn, type Tensor } from '@hasten/core-tensor';
import { defineBenchmark, defineCase } from '@hasten/eval';
import { runAndWrite } from '@hasten/eval/node';
import { ContiguousKVCache } from '../src/index';
import { pagedBenchmark } from './paged';
import { quantizedBenchmark } from './quantized';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const quick = args.quick;
if (args.only !== undefined && !['kv-cache', 'paged', 'quantized'].includes(args.only)) {
  throw new Error(`--only must be kv-cache, paged or quantized, got '${args.only}'`);
}
const runs = (name: string) => args.only === undefined || args.only === name;

interface Shape {
  name: string;
  layers: number;
  kv: number;
  d: number;
}
const SHAPES: Shape[] = [
  { name: 'code-target', layers: 4, kv: 4, d: 32 },
  { name: 'llama-3.2-1b', layers: 16, kv: 8, d: 64 },
];
const PREFILL = 32;
const STEPS = quick ? 64 : 224;

/** Fresh keys/values for `n` positions of one layer: [1, KV, n, D]. */
function positions(shape: Shape, n: number, seed: number): Tensor {
  return randn([1, shape.kv, n, shape.d], { seed });
}

/** The step inputs, made once (as tensors and as raw arrays) so no side pays for them when timed. */
async function schedule(shape: Shape, perStep: number) {
  const prefill = positions(shape, PREFILL, 1);
  const steps = Array.from({ length: STEPS }, (_, i) => positions(shape, perStep, 100 + i));
  const raw = async (t: Tensor) => Float32Array.from(await t.data());
  return { prefill, steps, rawPrefill: await raw(prefill), rawSteps: await Promise.all(steps.map(raw)) };
}
type Schedule = Awaited<ReturnType<typeof schedule>>;

/** ContiguousKVCache: write in place, read views. */
function contiguous(shape: Shape, inputs: Schedule, keep: number): Float32Array[] {
  const maxLength = PREFILL + STEPS * inputs.steps[0].shape[2];
  const cache = new ContiguousKVCache({
    numLayers: shape.layers,
    batch: 1,
    numKvHeads: shape.kv,
    headDim: shape.d,
    maxLength,
  });
  const step = (x: Tensor) => {
    for (let l = 0; l < shape.layers; l++) {
      cache.append(l, x, x);
      cache.keys(l).dispose();
      cache.values(l).dispose();
    }
    cache.commit();
  };
  step(inputs.prefill);
  for (const x of inputs.steps) {
    step(x);
    cache.truncate(cache.length - x.shape[2] + keep);
  }
  const out = [cache.keys(0), cache.values(shape.layers - 1)].map((t) => {
    const c = t.contiguous();
    t.dispose();
    return c;
  });
  cache.dispose();
  return out.map((t) => {
    const a = (cpuStorage(t) as Float32Array).slice(t.offset, t.offset + t.size);
    t.dispose();
    return a;
  });
}

/**
 * The concat cache, written as tightly as it can be: per layer and kind one Float32Array
 * [KV, T, D] (batch 1); every step allocates [KV, T + S, D] and copies the kept past and the new
 * positions into it with `set` (what torch.cat / DynamicCache.update does). Cropping rejected
 * drafts (DynamicCache.crop) only shortens the kept length; the next step's copy skips the rest.
 */
function concatenating(shape: Shape, inputs: Schedule, keep: number): Float32Array[] {
  const { kv, d } = shape;
  const prefill = inputs.rawPrefill;
  const steps = inputs.rawSteps;
  {
    let len = PREFILL;
    const ks = Array.from({ length: shape.layers }, () => prefill.slice());
    const vs = Array.from({ length: shape.layers }, () => prefill.slice());
    for (const x of steps) {
      const s = x.length / (kv * d);
      const grow = (old: Float32Array) => {
        const oldT = old.length / (kv * d);
        const all = new Float32Array(kv * (len + s) * d);
        for (let h = 0; h < kv; h++) {
          all.set(old.subarray(h * oldT * d, (h * oldT + len) * d), h * (len + s) * d);
          all.set(x.subarray(h * s * d, (h + 1) * s * d), (h * (len + s) + len) * d);
        }
        return all;
      };
      for (let l = 0; l < shape.layers; l++) {
        ks[l] = grow(ks[l]);
        vs[l] = grow(vs[l]);
      }
      len += keep;
    }
    const final = (a: Float32Array) => {
      const t = a.length / (kv * d);
      const out = new Float32Array(kv * len * d);
      for (let h = 0; h < kv; h++) out.set(a.subarray(h * t * d, (h * t + len) * d), h * len * d);
      return out;
    };
    return [final(ks[0]), final(vs[shape.layers - 1])];
  }
}

function identical(a: Float32Array[], b: Float32Array[]) {
  const same =
    a.length === b.length &&
    a.every((x, i) => x.length === b[i].length && x.every((v, j) => Object.is(v, b[i][j])));
  return { metric: 'final keys and values identical', value: same ? 1 : 0, pass: same, threshold: '= 1' };
}

if (runs('kv-cache')) {
  const cases = [];
  for (const shape of SHAPES) {
    const decode = await schedule(shape, 1);
    const spec = await schedule(shape, 5);
    const tokens = { amount: STEPS, unit: 'steps' };
    cases.push(
      defineCase<Float32Array[]>({
        name: `decode ${shape.name} (${PREFILL}+${STEPS} positions)`,
        baselineLabel: 'concat cache',
        methodLabel: 'ContiguousKVCache',
        baseline: () => concatenating(shape, decode, 1),
        method: () => contiguous(shape, decode, 1),
        quality: identical,
        work: tokens,
      }),
      defineCase<Float32Array[]>({
        name: `speculative rewind ${shape.name} (5 drafted, 2 kept per step)`,
        baselineLabel: 'concat cache + crop',
        methodLabel: 'ContiguousKVCache + truncate',
        baseline: () => concatenating(shape, spec, 2),
        method: () => contiguous(shape, spec, 2),
        quality: identical,
        work: tokens,
      }),
    );
  }

  const definition = defineBenchmark({
    package: 'kv',
    name: 'kv-cache',
    description: `KV cache writes of a decode loop (${PREFILL} prefill + ${STEPS} steps), in place vs growing concat`,
    warmup: 1,
    repeats: quick ? 3 : 7,
    environment: { backend: 'cpu' },
    cases,
  });

  await runAndWrite(definition, quick ? { write: false } : {});
}

if (runs('paged')) await runAndWrite(await pagedBenchmark(quick), quick ? { write: false } : {});

if (runs('quantized')) await runAndWrite(await quantizedBenchmark(quick), quick ? { write: false } : {});
