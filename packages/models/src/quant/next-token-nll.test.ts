/**
 * nextTokenNll against a readable reference: core-tensor's logSoftmax over the logits of one
 * forward, averaged over the next tokens; windows split the sequence into independent forwards.
 */
import { logSoftmax, tensor } from '@hasten/core-tensor';
import { describe, expect, it } from 'vitest';
import { loadCausalLM } from '../load';
import { fixtureDir } from '../testing';
import { nextTokenNll } from './next-token-nll';

describe('nextTokenNll', () => {
  it('is the mean of −log p(next token), per window', async () => {
    const model = await loadCausalLM(fixtureDir('families/llama-mha'));
    const ids = Array.from({ length: 12 }, (_, i) => (i * 37 + 11) % model.config.vocabSize);
    const ref = async (seq: number[]) => {
      const out = await model.forward({
        tokens: tensor(Int32Array.from(seq), [1, seq.length], { dtype: 'i32' }),
      });
      const lp = (await logSoftmax(out.logits, -1).data()) as Float32Array;
      const V = model.config.vocabSize;
      const terms = seq.slice(1).map((next, t) => -lp[t * V + next]);
      return terms;
    };
    const all = await ref(ids);
    expect(await nextTokenNll(model, ids)).toBeCloseTo(all.reduce((s, x) => s + x, 0) / all.length, 4);
    const halves = [...(await ref(ids.slice(0, 6))), ...(await ref(ids.slice(6)))];
    expect(await nextTokenNll(model, ids, { window: 6 })).toBeCloseTo(
      halves.reduce((s, x) => s + x, 0) / halves.length,
      4,
    );
    await expect(nextTokenNll(model, ids, { window: 1 })).rejects.toThrow(/window/);
    model.dispose();
  });
});
