/**
 * Beam search on synthetic models with hand-computed answers, and its equality with greedy decoding
 * at width 1. The synthetic models read their context from the KV cache, so a wrong re-pick of the
 * cache rows gives wrong logits and a wrong answer.
 */
import { describe, expect, it } from 'vitest';
import { generate } from '../generation/generate';
import { SyntheticLM } from '../testing';
import { beamSearch } from './beam-search';

const EOS = 0;
const A = 1;
const B = 2;
const log = Math.log;

/** A tree over {EOS, A, B}: probabilities of the next token after each generated prefix. */
function tree(table: Record<string, [number, number, number]>): SyntheticLM {
  return new SyntheticLM(3, (ctx) => {
    const key = ctx.slice(1).join(',');
    return (table[key] ?? [1 / 3, 1 / 3, 1 / 3]).map(log);
  });
}

describe('beamSearch', () => {
  // Greedy takes A (0.5) then EOS (0.4): 0.2. Beam search finds B (0.4) then A (0.9): 0.36.
  const model = tree({ '': [0.1, 0.5, 0.4], '1': [0.4, 0.3, 0.3], '2': [0.05, 0.9, 0.05] });

  it('finds the more probable sequence that greedy decoding misses', async () => {
    const greedy = await generate(model, { prompt: [1], maxNewTokens: 2, stopTokens: [EOS] });
    expect(greedy.rows[0].tokens).toEqual([A, EOS]);
    const r = await beamSearch(model, {
      prompt: [1],
      maxNewTokens: 2,
      numBeams: 2,
      stopTokens: [EOS],
      numReturnSequences: 2,
    });
    const [best, second] = r.rows[0].sequences;
    expect(best.tokens).toEqual([B, A]);
    expect(best.finishReason).toBe('length');
    expect(best.logprob).toBeCloseTo(log(0.4 * 0.9), 6);
    expect(best.score).toBeCloseTo(log(0.36) / 2, 6);
    // The finished hypothesis A, EOS (0.2) beats the running A, A (0.15).
    expect(second.tokens).toEqual([A, EOS]);
    expect(second.finishReason).toBe('stop');
    expect(second.score).toBeCloseTo(log(0.2) / 2, 6);
  });

  it('length penalty: 0 keeps the short finished hypothesis, 1 prefers the longer one', async () => {
    // EOS now (0.6) or A then A (0.4 * 0.99): ln 0.6 = -0.51 against ln 0.396 / 2^lp.
    const m = tree({ '': [0.6, 0.4 - 1e-4, 1e-4], '1': [0.005, 0.99, 0.005] });
    const opts = { prompt: [1], maxNewTokens: 2, numBeams: 2, stopTokens: [EOS] };
    const short = await beamSearch(m, { ...opts, lengthPenalty: 0 });
    expect(short.rows[0].sequences[0].tokens).toEqual([EOS]);
    expect(short.rows[0].sequences[0].score).toBeCloseTo(log(0.6), 6);
    const long = await beamSearch(m, { ...opts, lengthPenalty: 1 });
    expect(long.rows[0].sequences[0].tokens).toEqual([A, A]);
    expect(long.rows[0].sequences[0].score).toBeCloseTo(log((0.4 - 1e-4) * 0.99) / 2, 6);
  });

  it('a stop token outside the top numBeams candidates does not end a hypothesis', async () => {
    // At step 1 EOS ranks third of three; with numBeams 2 it must not become a hypothesis.
    const m = tree({ '': [0.2, 0.45, 0.35] });
    const r = await beamSearch(m, {
      prompt: [1],
      maxNewTokens: 1,
      numBeams: 2,
      stopTokens: [EOS],
      numReturnSequences: 2,
    });
    expect(r.rows[0].sequences.map((s) => s.tokens)).toEqual([[A], [B]]);
  });

  it('earlyStopping: true stops once numBeams hypotheses are finished', async () => {
    const m = tree({ '': [0.5, 0.3, 0.2], '1': [0.6, 0.3, 0.1], '2': [0.6, 0.3, 0.1] });
    const r = await beamSearch(m, {
      prompt: [1],
      maxNewTokens: 10,
      numBeams: 2,
      stopTokens: [EOS],
      earlyStopping: true,
    });
    expect(r.rows[0].sequences[0].tokens).toEqual([EOS]);
    expect(m.forwards).toBe(2); // prefill + one decode step: [EOS] and [A, EOS] fill the two slots
  });

  const chaoticLogits = (ctx: readonly number[]) => {
    let h = 11;
    for (const t of ctx) h = (h * 29 + t + 3) % 1013;
    return Array.from({ length: 16 }, (_, i) => Math.cos(h * (i + 2)) * 3);
  };
  const chaotic = new SyntheticLM(16, chaoticLogits);

  it('width 1 is greedy decoding, token for token (no stop tokens, and with one and early stopping)', async () => {
    for (const prompt of [[1], [4, 2, 9], [15, 15]]) {
      const g = await generate(chaotic, { prompt, maxNewTokens: 20, stopTokens: [] });
      const b = await beamSearch(chaotic, { prompt, maxNewTokens: 20, numBeams: 1, stopTokens: [] });
      expect(b.rows[0].sequences[0].tokens).toEqual(g.rows[0].tokens);
      const gs = await generate(chaotic, { prompt, maxNewTokens: 20, stopTokens: [3] });
      const bs = await beamSearch(chaotic, {
        prompt,
        maxNewTokens: 20,
        numBeams: 1,
        stopTokens: [3],
        earlyStopping: true,
      });
      expect(bs.rows[0].sequences[0].tokens).toEqual(gs.rows[0].tokens);
    }
  });

  it('processors with their own model follow the beams (contrastive = a model of the contrastive scores)', async () => {
    const amateurLogits = (ctx: readonly number[]) =>
      Array.from({ length: 16 }, (_, i) => Math.sin((ctx.length + 1) * (i + 1)));
    const amateur = new SyntheticLM(16, amateurLogits);
    const logSoftmax = (x: number[]) => {
      const m = Math.max(...x);
      const lse = m + log(x.reduce((s, v) => s + Math.exp(v - m), 0));
      return x.map((v) => v - lse);
    };
    // The contrastive scores as a model of their own (computed here, not by the processor).
    const scores = new SyntheticLM(16, (ctx) => {
      const le = logSoftmax(chaoticLogits(ctx));
      const la = logSoftmax(amateurLogits(ctx));
      return le.map((v, i) => v - 0.7 * la[i]);
    });
    const opts = { prompt: [[5, 1]], maxNewTokens: 8, numBeams: 3, stopTokens: [], numReturnSequences: 3 };
    const want = await beamSearch(scores, opts);
    const got = await beamSearch(chaotic, {
      ...opts,
      contrastive: { model: amateur, alpha: 0.7, plausibility: 0 },
    });
    expect(got.rows[0].sequences.map((s) => s.tokens)).toEqual(want.rows[0].sequences.map((s) => s.tokens));
  });

  it('searches each prompt of a batch', async () => {
    const r = await beamSearch(chaotic, {
      prompt: [[1], [2, 3]],
      maxNewTokens: 5,
      numBeams: 3,
      stopTokens: [],
    });
    const one = await beamSearch(chaotic, { prompt: [2, 3], maxNewTokens: 5, numBeams: 3, stopTokens: [] });
    expect(r.rows).toHaveLength(2);
    expect(r.rows[1]).toEqual(one.rows[0]);
  });

  it('an aborted signal returns the running beams with reason abort', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await beamSearch(chaotic, { prompt: [1], signal: ac.signal });
    expect(r.rows[0].sequences[0]).toMatchObject({ tokens: [], finishReason: 'abort' });
  });

  it('options are strict: sampling options and bad values are named', async () => {
    await expect(beamSearch(chaotic, { prompt: [1], temperature: 0.5 } as never)).rejects.toThrow(
      /Unrecognized key: "temperature"; allowed: prompt, maxNewTokens, numBeams, lengthPenalty, earlyStopping, numReturnSequences/,
    );
    await expect(beamSearch(chaotic, { prompt: [1], numBeams: 0 })).rejects.toThrow(
      /option 'numBeams' is invalid: .*>=1/,
    );
    await expect(beamSearch(chaotic, { prompt: [1], earlyStopping: 'sometimes' as never })).rejects.toThrow(
      /option 'earlyStopping' is invalid/,
    );
    await expect(beamSearch(chaotic, { prompt: [1], numBeams: 2, numReturnSequences: 3 })).rejects.toThrow(
      /'numReturnSequences' must be at most numBeams \(2\), got 3/,
    );
  });
});
