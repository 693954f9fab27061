import { describe, expect, it } from 'vitest';
import { SyntheticLM } from '../testing';
import { ContrastiveProcessor } from './contrastive';

const NEG = Number.NEGATIVE_INFINITY;
const logSoftmax = (x: number[]) => {
  const m = Math.max(...x);
  const lse = m + Math.log(x.reduce((a, v) => a + Math.exp(v - m), 0));
  return x.map((v) => v - lse);
};

const EXPERT = [2, 1.5, 0, -3];
const AMATEUR = [2.5, 0, -1, -1];

describe('ContrastiveProcessor (Li et al. 2210.15097)', () => {
  it('scores log p_expert - alpha log p_amateur over the plausible tokens', async () => {
    const amateur = new SyntheticLM(4, () => AMATEUR);
    const p = new ContrastiveProcessor({ model: amateur, alpha: 0.5, plausibility: 0.1 });
    await p.step({ kind: 'prefill', prompts: [[1, 2]], maxNewTokens: 4 });
    const x = Float32Array.from(EXPERT);
    p.process(x, { tokens: [1, 2], promptLength: 2, row: 0 });
    const le = logSoftmax(EXPERT);
    const la = logSoftmax(AMATEUR);
    // p_expert(3) / p_expert(0) = e^-5 < 0.1: implausible, masked.
    const want = [0, 1, 2].map((i) => Math.fround(le[i] - 0.5 * la[i]));
    expect(Array.from(x)).toEqual([...want, NEG]);
    expect(amateur.forwards).toBe(1);
    p.release();
  });

  it('plausibility 0 keeps every token', async () => {
    const p = new ContrastiveProcessor({ model: new SyntheticLM(4, () => AMATEUR), plausibility: 0 });
    await p.step({ kind: 'prefill', prompts: [[0]], maxNewTokens: 1 });
    const x = Float32Array.from(EXPERT);
    p.process(x, { tokens: [0], promptLength: 1, row: 0 });
    expect(x.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('runs the second model on the negative prompt, then on the same generated tokens, per row', async () => {
    const seen: number[][] = [];
    const second = new SyntheticLM(4, (ctx) => {
      seen.push([...ctx]);
      return [0, 0, 0, 0];
    });
    const p = new ContrastiveProcessor({ model: second, negativePrompt: [[3, 3, 3], [2]] });
    await p.step({ kind: 'prefill', prompts: [[1], [1, 1]], maxNewTokens: 2 });
    await p.step({ kind: 'decode', tokens: [0, 2] });
    expect(seen).toEqual([[3, 3, 3], [2], [3, 3, 3, 0], [2, 2]]);
    expect(second.shapes).toEqual([
      [2, 3],
      [2, 1],
    ]);
  });

  it('reorder re-picks the second model rows (beam search)', async () => {
    const second = new SyntheticLM(4, (ctx) => [ctx.length, ctx[0], 0, 0]);
    const p = new ContrastiveProcessor({ model: second, alpha: 1, plausibility: 0 });
    await p.step({ kind: 'prefill', prompts: [[1], [2, 2]], maxNewTokens: 3 });
    await p.reorder([1, 1, 0]);
    await p.step({ kind: 'decode', tokens: [3, 0, 3] });
    // Row 0 and 1 now continue prompt [2, 2], row 2 continues [1].
    const rows = [0, 1, 2].map((row) => {
      const x = new Float32Array(4);
      p.process(x, { tokens: [], promptLength: 0, row });
      return x;
    });
    const la = (ctx: number[]) => logSoftmax([ctx.length, ctx[0], 0, 0]);
    const lz = logSoftmax([0, 0, 0, 0]);
    const want = (ctx: number[]) => lz.map((v, i) => Math.fround(v - la(ctx)[i]));
    expect(Array.from(rows[0])).toEqual(want([2, 2, 3]));
    expect(Array.from(rows[1])).toEqual(want([2, 2, 0]));
    expect(Array.from(rows[2])).toEqual(want([1, 3]));
  });

  it('refuses a vocabulary mismatch and bad options, naming them', async () => {
    const p = new ContrastiveProcessor({ model: new SyntheticLM(5, () => [0, 0, 0, 0, 0]) });
    await p.step({ kind: 'prefill', prompts: [[0]], maxNewTokens: 1 });
    expect(() => p.process(new Float32Array(4), { tokens: [0], promptLength: 1, row: 0 })).toThrow(
      /share a tokenizer/,
    );
    const model = new SyntheticLM(4, () => AMATEUR);
    expect(() => new ContrastiveProcessor({ model, alpha: -1 })).toThrow(
      /'contrastive.alpha' must be a finite number >= 0/,
    );
    expect(() => new ContrastiveProcessor({ model, plausibility: 2 })).toThrow(/'contrastive.plausibility'/);
  });
});
