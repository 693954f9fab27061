/**
 * One engine on the real-size checkpoint, in a process of its own so that its memory is its own:
 * load, one prefill, then greedy decode steps through the KV cache, recording the time of each and
 * the resident set size (current and peak) after each. Prints one line `PROBE {json}` for
 * real-size.ts.
 *
 *   tsx bench/real-size-probe.ts --engine native|ort --dir <folder> [--prompt 16] [--new 8] [--threads 1] [--backend cpu|cpu-native]
 */
import { parseArgs } from 'node:util';
import { cpuMatmulInfo, tensor } from '@hasten/core-tensor';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';
import { argmax, benchTokens } from './tokens';

export interface MemoryPoint {
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size of the process so far, bytes (getrusage ru_maxrss). */
  peak: number;
}

export interface ProbeResult {
  engine: 'native' | 'ort';
  loadMs: number;
  afterLoad: MemoryPoint;
  prefillMs: number;
  afterPrefill: MemoryPoint;
  /** Per decode step. */
  decodeMs: number[];
  afterDecode: MemoryPoint[];
  tokens: number[];
  matmul?: ReturnType<typeof cpuMatmulInfo>;
}

const memory = (): MemoryPoint => ({
  rss: process.memoryUsage.rss(),
  peak: process.resourceUsage().maxRSS * 1024,
});

async function probe(
  engine: 'native' | 'ort',
  dir: string,
  P: number,
  N: number,
  threads: number,
  device: string,
): Promise<ProbeResult> {
  let t = performance.now();
  const model: CausalLM =
    engine === 'native'
      ? await loadCausalLM(dir, { device })
      : await OrtCausalLM.load(dir, { intraOpNumThreads: threads });
  const loadMs = performance.now() - t;
  const afterLoad = memory();
  const V = model.config.vocabSize;
  const cache = model.createCache({ maxLength: P + N });
  const tokens: number[] = [];
  let input = benchTokens(P, V);
  const decodeMs: number[] = [];
  const afterDecode: MemoryPoint[] = [];
  let prefillMs = 0;
  let afterPrefill = afterLoad;
  for (let step = 0; step <= N; step++) {
    t = performance.now();
    const ids = tensor(Int32Array.from(input), [1, input.length]);
    const { logits } = await model.forward({ tokens: ids, cache, logitsToKeep: 1 });
    const next = argmax((await logits.data()) as Float32Array);
    ids.dispose();
    logits.dispose();
    const ms = performance.now() - t;
    if (step === 0) {
      prefillMs = ms; // the first forward: includes the native model's packing of every weight
      afterPrefill = memory();
    } else {
      decodeMs.push(ms);
      afterDecode.push(memory());
    }
    if (step < N) tokens.push(next);
    input = [next];
  }
  cache.dispose();
  model.dispose();
  return {
    engine,
    loadMs,
    afterLoad,
    prefillMs,
    afterPrefill,
    decodeMs,
    afterDecode,
    tokens,
    ...(engine === 'native' ? { matmul: cpuMatmulInfo() } : {}),
  };
}

const { values } = parseArgs({
  options: {
    engine: { type: 'string' },
    dir: { type: 'string' },
    prompt: { type: 'string', default: '16' },
    new: { type: 'string', default: '8' },
    threads: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'cpu' },
  },
});
if (
  (values.engine !== 'native' && values.engine !== 'ort') ||
  !values.dir ||
  !['cpu', 'cpu-native'].includes(values.backend)
) {
  throw new Error(
    'usage: real-size-probe.ts --engine native|ort --dir <folder> [--prompt P] [--new N] [--threads T] [--backend cpu|cpu-native]',
  );
}
if (values.backend === 'cpu-native') (await import('@hasten/kernels-cpu')).registerCpuNative();
const result = await probe(
  values.engine,
  values.dir,
  Number(values.prompt),
  Number(values.new),
  Number(values.threads),
  values.backend,
);
console.log(`PROBE ${JSON.stringify(result)}`);
