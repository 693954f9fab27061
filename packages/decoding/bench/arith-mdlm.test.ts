/**
 * The dLLM bench's arithmetic model `fixtures/arith-mdlm` (tools/fixtures/train_mdlm.py --task arith:
 * LLaDA's SFT loss on @hasten/eval's arithmetic task alone, a smaller model than code-mdlm; the bench's
 * `--model arith-mdlm`) against its PyTorch references (reference.safetensors):
 * - loadMaskedDiffusionLM reads its mask token, bidirectional attention and shape unchanged;
 * - bidirectional logits and block-causal (block 16) logits match to 1e-4;
 * - greedy LLaDA decoding (gen 32, blocks of 16, one token per step, no early stop) reproduces
 *   train_mdlm.py's llada_tokens and commit order.
 * (Kept beside the bench that uses the fixture rather than in src/: it checks a fixture, not code.)
 */
import { join } from 'node:path';
import { readF32 } from '@hasten/core-tensor';
import { loadSafetensors } from '@hasten/core-tensor/node';
import { loadMaskedDiffusionLM } from '@hasten/models/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiffusionStepEvent, streamDiffusion } from '../src/index';
import { FIXTURES } from '../src/testing';

const dir = join(FIXTURES, 'arith-mdlm');
let model: Awaited<ReturnType<typeof loadMaskedDiffusionLM>>;
let ref: Awaited<ReturnType<typeof loadSafetensors>>['tensors'];
const ints = async (k: string) => Array.from((await ref.get(k)!.data()) as Int32Array);

/** max |a − b| / max |b| over two float tensors given as arrays. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

beforeAll(async () => {
  model = await loadMaskedDiffusionLM(dir);
  ref = (await loadSafetensors(join(dir, 'reference.safetensors'))).tensors;
});
afterAll(() => model?.dispose());

describe('arith-mdlm fixture against PyTorch', () => {
  it('reads the mask token, bidirectional attention and its shape from config.json', () => {
    expect(model.maskTokenId).toBe(259);
    expect(model.config.attention).toBe('bidirectional');
    expect(model.config.vocabSize).toBe(260);
    expect(model.config.hiddenSize).toBe(96);
    expect(model.config.numLayers).toBe(3);
    // The dLLM bench's longest rows: a prompt of at most 13 tokens and 256 generated positions.
    expect(model.config.contextLength).toBeGreaterThanOrEqual(13 + 256);
  });

  it('bidirectional and block-causal (block 16) logits match the PyTorch reference', async () => {
    const tokens = ref.get('input_ids')!;
    const positions = ref.get('position_ids')!;
    const bi = await model.forward({ tokens, positions });
    const block = await model.forward({ tokens, positions, attention: { blockLength: 16 } });
    const want = readF32(ref.get('logits')!);
    expect(relativeError(readF32(bi.logits), want)).toBeLessThan(1e-4);
    expect(relativeError(readF32(block.logits), readF32(ref.get('logits_block_causal')!))).toBeLessThan(1e-4);
    expect(relativeError(readF32(block.logits), want)).toBeGreaterThan(1e-3);
  });

  it("greedy LLaDA decoding reproduces train_mdlm.py's llada_tokens and commit order", async () => {
    const events: DiffusionStepEvent[] = [];
    const prompt = await ints('llada_prompt');
    const it = streamDiffusion(model, { prompt, genLength: 32, blockLength: 16, steps: 32, eosFill: false });
    let canvas: number[] = [];
    while (true) {
      const r = await it.next();
      if (r.done) {
        canvas = r.value.rows[0].canvas;
        break;
      }
      if (r.value.type === 'step') events.push(r.value);
    }
    expect(events).toHaveLength(32);
    expect(canvas).toEqual(await ints('llada_tokens'));
    expect(events.flatMap((e) => e.commits.map((c) => c.position))).toEqual(await ints('llada_order'));
  });
});
