/**
 * generate({ kvCompression }) on the code target: StreamingLLM compression after prefill and every
 * 8 steps equals a hand-written loop over the FULL cache whose attention mask hides exactly what
 * StreamingLLM evicts (sinks + the most recent positions at each compression), token for token;
 * with `prefillChunk` the reference reads the prompt in the same chunks, each chunk's queries seeing
 * what survived the compressions before it.
 */
import { join } from 'node:path';
import { tensor } from '@hasten/core-tensor';
import { h2o, streamingLLM } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, heldoutPrompts } from '../testing';
import { generate } from './generate';

let model: CausalLM;
beforeAll(async () => {
  model = await loadCausalLM(join(FIXTURES, 'code-target'));
});
afterAll(() => model.dispose());

function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/**
 * Greedy over the full cache, hiding what StreamingLLM(sinks, keep) evicts every `every` steps (and
 * after each prompt chunk of `chunk` tokens; default: the prompt in one forward).
 */
async function maskedGreedy(
  prompt: number[],
  steps: number,
  sinks: number,
  keep: number,
  every: number,
  chunk = prompt.length,
) {
  const cache = model.createCache();
  const visible = new Set<number>();
  const compressNow = () => {
    if (visible.size <= keep) return;
    const sorted = [...visible].sort((a, b) => a - b);
    const kept = new Set([...sorted.slice(0, sinks), ...sorted.slice(sorted.length - (keep - sinks))]);
    for (const p of sorted) if (!kept.has(p)) visible.delete(p);
  };
  const forward = async (tokens: number[]) => {
    const start = cache.length;
    for (let i = 0; i < tokens.length; i++) visible.add(start + i);
    const total = start + tokens.length;
    // Earlier slots: only the visible ones; the new tokens: causal among themselves.
    const S = tokens.length;
    const mask = new Uint8Array(S * total);
    for (let s = 0; s < S; s++)
      for (let t = 0; t <= start + s; t++) mask[s * total + t] = t >= start || visible.has(t) ? 1 : 0;
    const out = await model.forward({
      tokens: tensor(Int32Array.from(tokens), [1, S], { dtype: 'i32' }),
      cache,
      attention: tensor(mask, [1, 1, S, total], { dtype: 'bool' }),
      logitsToKeep: 1,
    });
    return (await out.logits.data()) as Float32Array;
  };
  let logits: Float32Array = new Float32Array(0);
  for (let at = 0; at < prompt.length; at += chunk) {
    logits = await forward(prompt.slice(at, at + chunk));
    compressNow();
  }
  const out: number[] = [];
  let since = 0;
  for (let i = 0; i < steps; i++) {
    const t = argmax(logits);
    out.push(t);
    if (i === steps - 1) break;
    logits = await forward([t]);
    if (++since >= every) {
      compressNow();
      since = 0;
    }
  }
  cache.dispose();
  return out;
}

describe('generate with kvCompression', () => {
  const prompt = heldoutPrompts(1, 90, 1)[0];
  const NEW = 40;

  it('StreamingLLM every 8 steps equals greedy over the full cache with the evicted slots masked', async () => {
    const res = await generate(model, {
      prompt,
      maxNewTokens: NEW,
      stopTokens: [],
      kvCompression: { policy: streamingLLM({ sinks: 4 }), keep: 48, every: 8 },
    });
    const want = await maskedGreedy(prompt, NEW, 4, 48, 8);
    expect(res.rows[0].tokens).toEqual(want);
    // prefill (the prompt is over 48) and then at steps 8, 16, 24, 32 (every 8 decode forwards; 39 in all)
    expect(res.stats.kvCompression!.compressions).toBe(5);
    // the prompt beyond 48 at prefill, then 8 positions at each of the 4 decode compressions
    expect(res.stats.kvCompression!.evicted).toBe(prompt.length - 48 + 4 * 8);
  });

  it('prefillChunk: the prompt read in chunks of 16 with compression between them equals the masked reference', async () => {
    const res = await generate(model, {
      prompt,
      maxNewTokens: NEW,
      stopTokens: [],
      kvCompression: { policy: streamingLLM({ sinks: 4 }), keep: 32, every: 8, prefillChunk: 16 },
    });
    const want = await maskedGreedy(prompt, NEW, 4, 32, 8, 16);
    expect(res.rows[0].tokens).toEqual(want);
    const st = res.stats.kvCompression!;
    // The cache never held more than keep + chunk positions, where a plain prefill holds the prompt.
    expect(st.prefillPeakPositions).toBeLessThanOrEqual(32 + 16);
    expect(prompt.length).toBeGreaterThan(32 + 16);
    // ceil(90 / 16) = 6 prompt forwards, then one per new token after the first
    expect(res.stats.forwards).toBe(Math.ceil(prompt.length / 16) + NEW - 1);
    // chunks 3..6 end over budget (48, 48, 48, 42 positions > 32), then decode steps 8, 16, 24, 32
    expect(st.compressions).toBe(4 + 4);
    expect(st.evicted).toBe(prompt.length - 32 + 4 * 8);
    // A chunk at least the prompt's length is the plain prefill.
    const whole = await generate(model, {
      prompt,
      maxNewTokens: 12,
      stopTokens: [],
      kvCompression: { policy: streamingLLM({ sinks: 4 }), keep: 32, prefillChunk: 128 },
    });
    const plain = await generate(model, {
      prompt,
      maxNewTokens: 12,
      stopTokens: [],
      kvCompression: { policy: streamingLLM({ sinks: 4 }), keep: 32 },
    });
    expect(whole.rows[0].tokens).toEqual(plain.rows[0].tokens);
  });

  it('under budget it changes nothing; attention policies get their queries', async () => {
    const plain = await generate(model, { prompt, maxNewTokens: 16, stopTokens: [] });
    const roomy = await generate(model, {
      prompt,
      maxNewTokens: 16,
      stopTokens: [],
      kvCompression: { policy: streamingLLM(), keep: 200 },
    });
    expect(roomy.rows[0].tokens).toEqual(plain.rows[0].tokens);
    expect(roomy.stats.kvCompression).toEqual({
      compressions: 0,
      evicted: 0,
      prefillPeakPositions: prompt.length,
    });
    const opts = {
      prompt,
      maxNewTokens: 24,
      stopTokens: [],
      kvCompression: { policy: h2o(), keep: 40, every: 6, queryWindow: 8, allocation: 'ada-kv' as const },
    };
    const a = await generate(model, opts);
    expect(a.stats.kvCompression!.compressions).toBe(4);
    expect((await generate(model, opts)).rows[0].tokens).toEqual(a.rows[0].tokens);
  });

  it('rejects prompts of different lengths and bad options', async () => {
    await expect(
      generate(model, {
        prompt: [prompt, prompt.slice(1)],
        kvCompression: { policy: streamingLLM(), keep: 8 },
      }),
    ).rejects.toThrow(/kvCompression needs prompts of one length/);
    await expect(
      generate(model, { prompt, kvCompression: { policy: streamingLLM(), keep: 8, evry: 2 } as never }),
    ).rejects.toThrow(/"evry".*allowed: policy, keep, every, prefill, allocation, queryWindow, prefillChunk/);
    await expect(
      generate(model, {
        prompt,
        kvCompression: { policy: streamingLLM(), keep: 8, prefillChunk: 4, prefill: false },
      }),
    ).rejects.toThrow(/'kvCompression.prefillChunk'.*needs 'kvCompression.prefill' true/);
  });
});
