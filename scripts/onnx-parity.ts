/**
 * Parity of an exported ONNX graph with the native model it came from: loads the Hugging Face folder
 * with `loadCausalLM` (core-tensor, f32) and the export with `OrtCausalLM.load` (onnxruntime-node),
 * runs both on the same fixed tokens (a prefill, then decode steps of one token through each model's
 * KV cache, each step feeding both the native model's greedy token) and compares every logit.
 *
 * Pass: max |native - ONNX| <= tolerance * max(1, max |native logit|) over all positions, and at every
 * position the two argmaxes agree or are a near-tie (their native logits differ by at most that same
 * bound, which float32 summation order can flip). Both compute in float32 from the same float32
 * weights, so the expected difference is summation-order noise, about 1e-6 of the logit scale per
 * layer; the default tolerance 1e-3 leaves a wide margin and still catches any real error (a wrong
 * weight, RoPE frequency or mask shifts logits by a sizeable fraction of their scale).
 *
 *   npm run onnx-parity -- <hf-folder> [<onnx-folder>] [--tolerance 1e-3] [--prefill 12] [--decode 4]
 *
 * <onnx-folder> holds onnx/model.onnx and config.json (default: the HF folder). Exits 1 on failure.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type Tensor, tensor } from '@hasten/core-tensor';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';

export interface ParityOptions {
  /** Prompt length of the first forward (default 12). */
  prefill?: number;
  /** Single-token steps through the cache after it (default 4). */
  decode?: number;
  /** Relative bound, see the file comment (default 1e-3). */
  tolerance?: number;
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
}

export interface ParityStep {
  label: string;
  positions: number;
  maxAbsDiff: number;
  argmaxAgree: number;
  /** Positions whose argmaxes differ by more than a near-tie. */
  argmaxBeyondTie: number;
}

export interface ParityReport {
  tokens: number[];
  steps: ParityStep[];
  maxAbsDiff: number;
  maxAbsLogit: number;
  /** tolerance * max(1, maxAbsLogit). */
  bound: number;
  tolerance: number;
  positions: number;
  argmaxAgree: number;
  pass: boolean;
  /** Load times, ms. */
  loadMs: { native: number; onnx: number };
}

/** Fixed pseudo-random prompt ids in [0, vocab) (xorshift32, seed 2024): the same for every run. */
export function parityTokens(n: number, vocab: number): number[] {
  let s = 2024;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out.push((s >>> 0) % vocab);
  }
  return out;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

async function rows(logits: Tensor, vocab: number): Promise<Float32Array[]> {
  const data = (await logits.data()) as Float32Array;
  const n = data.length / vocab;
  return Array.from({ length: n }, (_, i) => data.subarray(i * vocab, (i + 1) * vocab));
}

export async function checkParity(
  nativeDir: string,
  onnxDir: string,
  opts: ParityOptions = {},
): Promise<ParityReport> {
  const prefill = opts.prefill ?? 12;
  const decode = opts.decode ?? 4;
  const tolerance = opts.tolerance ?? 1e-3;
  let t = performance.now();
  const native = await loadCausalLM(nativeDir);
  const nativeMs = performance.now() - t;
  t = performance.now();
  const onnx = await OrtCausalLM.load(onnxDir, { intraOpNumThreads: opts.threads ?? 1 });
  const onnxMs = performance.now() - t;
  try {
    const vocab = native.config.vocabSize;
    if (onnx.config.vocabSize !== vocab) {
      throw new Error(`vocab sizes differ: native ${vocab}, ONNX config ${onnx.config.vocabSize}`);
    }
    const caches = [native.createCache(), onnx.createCache()];
    const models: CausalLM[] = [native, onnx];
    const tokens = parityTokens(prefill, vocab);
    const steps: Array<{ label: string; a: Float32Array[]; b: Float32Array[] }> = [];
    let input = tokens;
    for (let s = 0; s <= decode; s++) {
      const ids = tensor(Int32Array.from(input), [1, input.length]);
      const out: Float32Array[][] = [];
      for (let m = 0; m < 2; m++) {
        const { logits } = await models[m].forward({ tokens: ids, cache: caches[m] });
        out.push((await rows(logits, vocab)).map((r) => r.slice()));
        logits.dispose();
      }
      ids.dispose();
      steps.push({ label: s === 0 ? `prefill ${input.length}` : `decode ${s}`, a: out[0], b: out[1] });
      // Both models get the native greedy token, so their caches hold the same sequence.
      const next = argmax(out[0][out[0].length - 1]);
      tokens.push(next);
      input = [next];
    }
    tokens.pop(); // the token after the last step was never fed
    for (const c of caches) c.dispose();

    let maxAbsLogit = 0;
    for (const st of steps)
      for (const r of st.a) for (const v of r) maxAbsLogit = Math.max(maxAbsLogit, Math.abs(v));
    const bound = tolerance * Math.max(1, maxAbsLogit);
    const report: ParityStep[] = steps.map(({ label, a, b }) => {
      let maxAbsDiff = 0;
      let agree = 0;
      let beyond = 0;
      for (let p = 0; p < a.length; p++) {
        for (let i = 0; i < vocab; i++) {
          const d = Math.abs(a[p][i] - b[p][i]);
          // NaN in either counts as an infinite difference.
          maxAbsDiff = d <= maxAbsDiff ? maxAbsDiff : Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
        }
        const ia = argmax(a[p]);
        const ib = argmax(b[p]);
        if (ia === ib) agree++;
        else if (Math.abs(a[p][ia] - a[p][ib]) > bound) beyond++;
      }
      return { label, positions: a.length, maxAbsDiff, argmaxAgree: agree, argmaxBeyondTie: beyond };
    });
    const maxAbsDiff = Math.max(...report.map((r) => r.maxAbsDiff));
    const positions = report.reduce((n, r) => n + r.positions, 0);
    const argmaxAgree = report.reduce((n, r) => n + r.argmaxAgree, 0);
    return {
      tokens,
      steps: report,
      maxAbsDiff,
      maxAbsLogit,
      bound,
      tolerance,
      positions,
      argmaxAgree,
      pass: maxAbsDiff <= bound && report.every((r) => r.argmaxBeyondTie === 0),
      loadMs: { native: nativeMs, onnx: onnxMs },
    };
  } finally {
    native.dispose();
    onnx.dispose();
  }
}

export function formatParity(r: ParityReport): string {
  const lines = r.steps.map(
    (s) =>
      `  ${s.label.padEnd(12)} max |diff| ${s.maxAbsDiff.toExponential(2)}, argmax agrees at ${s.argmaxAgree}/${s.positions}` +
      (s.argmaxBeyondTie ? ` (${s.argmaxBeyondTie} beyond a near-tie)` : ''),
  );
  return [
    `parity (native loadCausalLM vs OrtCausalLM, ${r.positions} positions, loads ${(r.loadMs.native / 1000).toFixed(1)} s / ${(r.loadMs.onnx / 1000).toFixed(1)} s):`,
    ...lines,
    `  max |diff| ${r.maxAbsDiff.toExponential(2)} (max |logit| ${r.maxAbsLogit.toFixed(2)}; bound ${r.bound.toExponential(2)} = ${r.tolerance} x max(1, max |logit|)), argmax agrees at ${r.argmaxAgree}/${r.positions}`,
    `parity: ${r.pass ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}

/** A number option (positive, or >= 0 with `min: 0`; an integer with `integer`), or an error naming it. */
export function numberOption(
  name: string,
  value: string | undefined,
  fallback: number,
  { integer = false, min = Number.MIN_VALUE }: { integer?: boolean; min?: number } = {},
): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (!(v >= min) || (integer && !Number.isInteger(v))) {
    throw new Error(
      `--${name} must be ${integer ? 'an integer' : 'a number'} ${min === 0 ? '>= 0' : '> 0'}, got ${value}`,
    );
  }
  return v;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tolerance: { type: 'string' },
      prefill: { type: 'string' },
      decode: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (positionals.length < 1 || positionals.length > 2) {
    console.error(
      'usage: npm run onnx-parity -- <hf-folder> [<onnx-folder>] [--tolerance 1e-3] [--prefill 12] [--decode 4]',
    );
    process.exit(2);
  }
  // npm runs scripts from the repo root; paths are relative to where it was invoked.
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: set by npm for `npm run`; not a turbo task
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const [src, out = src] = positionals.map((p) => resolve(cwd, p));
  const report = await checkParity(src, out, {
    tolerance: numberOption('tolerance', values.tolerance, 1e-3),
    prefill: numberOption('prefill', values.prefill, 12, { integer: true }),
    decode: numberOption('decode', values.decode, 4, { integer: true, min: 0 }),
    threads: numberOption('threads', values.threads, 1, { integer: true }),
  });
  console.log(formatParity(report));
  process.exit(report.pass ? 0 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
