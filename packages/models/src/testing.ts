/**
 * @file Test helpers (Node only, not exported): fixture folders and their PyTorch reference outputs.
 * A missing fixture is a failure that says how to build it, never a silent skip.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Tensor, tensor } from '@hasten/core-tensor';
import { loadSafetensors } from '@hasten/core-tensor/node';
import type { KVCache } from '@hasten/kv';
import type { CausalLM } from './causal-lm';

export const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../fixtures');

export const FAMILIES = [
  'llama-mha',
  'llama-gqa2',
  'mistral-gqa4',
  'qwen2-tied',
  'llama3-rope-scaling',
] as const;

/** Absolute path of a fixture folder (e.g. 'code-target', 'families/qwen2-tied'); throws if absent. */
export function fixtureDir(name: string, file = 'config.json'): string {
  const dir = join(FIXTURES, name);
  if (!existsSync(join(dir, file))) {
    throw new Error(`fixture ${name} is missing (${join(dir, file)}); run \`npm run fixtures\` to build it`);
  }
  return dir;
}

/** The tensors of a fixture's reference.safetensors (input_ids, position_ids, logits, ...). */
export async function readReference(dir: string): Promise<Record<string, Tensor>> {
  const { tensors } = await loadSafetensors(join(dir, 'reference.safetensors'));
  return Object.fromEntries(tensors);
}

/** max |a - b| / max |b| over all elements. */
export async function relativeError(a: Tensor, b: Tensor): Promise<number> {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shape mismatch: [${a.shape}] vs [${b.shape}]`);
  const x = await a.data();
  const y = await b.data();
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (!(d <= num)) num = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    den = Math.max(den, Math.abs(y[i]));
  }
  return num / den;
}

/** Index of the largest value in row `row` of a [rows, n] Float32Array (first one on ties). */
export function argmaxRow(data: ArrayLike<number>, row: number, n: number): number {
  let best = 0;
  let bestV = Number.NEGATIVE_INFINITY;
  for (let i = 0, o = row * n; i < n; i++) {
    if (data[o + i] > bestV) {
      bestV = data[o + i];
      best = i;
    }
  }
  return best;
}

/**
 * Greedy decoding of batch 1 through a cache: feeds `prompt` (may be empty when the cache already
 * holds the context and `next` is given), then `steps` single tokens. Returns the new tokens and
 * the time (performance.now) at which each was known.
 */
export async function greedy(
  model: CausalLM,
  cache: KVCache,
  prompt: number[],
  steps: number,
): Promise<{ tokens: number[]; times: number[] }> {
  const V = model.config.vocabSize;
  const tokens: number[] = [];
  const times: number[] = [];
  let input = prompt;
  for (let i = 0; i < steps; i++) {
    const ids = tensor(Int32Array.from(input), [1, input.length]);
    const { logits } = await model.forward({ tokens: ids, cache, logitsToKeep: 1 });
    const next = argmaxRow(await logits.data(), 0, V);
    ids.dispose();
    logits.dispose();
    tokens.push(next);
    times.push(performance.now());
    input = [next];
  }
  return { tokens, times };
}
