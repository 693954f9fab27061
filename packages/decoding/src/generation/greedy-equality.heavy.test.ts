/**
 * The full greedy-equality check: 50 held-out CPython prompts (25..124 tokens), 128 new
 * tokens each, on the target and the draft fixtures, native and ONNX Runtime. generate() on the 50
 * prompts as one left-padded batch, and on the first 5 alone, must give the tokens of a plain
 * hand-written argmax loop (one prompt at a time), token for token. The reference loop is most of
 * the cost (6400 one-token forwards per model and backend; the file needs about 70 s of CPU). The
 * quick version (8 x 32, every prompt alone and batched) is greedy-equality.test.ts.
 */
import { join } from 'node:path';
import { tensor } from '@hasten/core-tensor';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { OrtCausalLM } from '@hasten/models/ort';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, heldoutPrompts } from '../testing';
import { generate } from './generate';
import type { GenerateResult } from './stream';

const NEW = 128;
const PROMPTS = heldoutPrompts(50, 24, 100);
const ALONE = 5;

async function handGreedy(model: CausalLM, prompt: number[], steps: number): Promise<number[]> {
  const cache = model.createCache();
  const out: number[] = [];
  let input = prompt;
  for (let i = 0; i < steps; i++) {
    const ids = tensor(Int32Array.from(input), [1, input.length], { dtype: 'i32' });
    const { logits } = await model.forward({ tokens: ids, cache, logitsToKeep: 1 });
    const x = (await logits.data()) as Float32Array;
    ids.dispose();
    logits.dispose();
    let best = 0;
    for (let j = 1; j < x.length; j++) if (x[j] > x[best]) best = j;
    out.push(best);
    input = [best];
  }
  cache.dispose();
  return out;
}

const BACKENDS: [string, (dir: string) => Promise<CausalLM>][] = [
  ['native', (dir) => loadCausalLM(dir)],
  ['ort', (dir) => OrtCausalLM.load(dir, { intraOpNumThreads: 1 })],
];
const CASES = ['code-target', 'code-draft'].flatMap((f) =>
  BACKENDS.map(([b, load]) => [`${f} ${b}`, f, load] as const),
);
/** Prompts checked per test, so that each test stays short on a busy 2-core machine. */
const CHUNK = 10;
const CHUNKS = Array.from({ length: PROMPTS.length / CHUNK }, (_, c) => c * CHUNK);

describe.each(CASES)(`greedy equality, ${PROMPTS.length} prompts x ${NEW} tokens: %s`, (_, fixture, load) => {
  let model: CausalLM;
  let batch: GenerateResult;
  beforeAll(async () => {
    model = await load(join(FIXTURES, fixture));
    batch = await generate(model, { prompt: PROMPTS, maxNewTokens: NEW, stopTokens: [] });
  });
  afterAll(() => model?.dispose());

  it.each(CHUNKS)(
    `prompts %i.. (+${CHUNK}): the batch row, and alone for the first ${ALONE}`,
    async (from) => {
      for (let i = from; i < from + CHUNK; i++) {
        const want = await handGreedy(model, PROMPTS[i], NEW);
        expect(batch.rows[i].tokens, `prompt ${i} in the batch`).toEqual(want);
        if (i < ALONE) {
          const alone = await generate(model, { prompt: PROMPTS[i], maxNewTokens: NEW, stopTokens: [] });
          expect(alone.rows[0].tokens, `prompt ${i} alone`).toEqual(want);
        }
      }
    },
  );
});
