/**
 * generate() and stream() on synthetic models whose outputs are known: seeded determinism, rows
 * independent of their batch, per-row stopping, stop tokens and stop strings, streamed text deltas
 * (no half UTF-8 characters), abort, statistics, and option errors.
 */
import { describe, expect, it } from 'vitest';
import type { LogitsProcessor } from '../processors/processor';
import { byteTokenizer, SyntheticLM } from '../testing';
import { generate } from './generate';
import { type StreamEvent, stream } from './stream';

const EOS = 257;
const PAD = 258;
const utf8 = (s: string) => Array.from(new TextEncoder().encode(s));

/**
 * A byte model that "types" a fixed text per row, chosen by the row's first prompt token: the next
 * token is the text's next byte (then EOS); every other token gets logit -10.
 */
function typist(texts: Record<number, number[]>): SyntheticLM {
  return new SyntheticLM(
    260,
    (ctx) => {
      const text = texts[ctx[0]];
      const k = ctx.length - 1; // prompts are a single key token
      const next = k < text.length ? text[k] : EOS;
      const x = new Float32Array(260).fill(-10);
      x[next] = 0;
      return x;
    },
    { eosTokenId: EOS, padTokenId: PAD },
  );
}

/** A model with a context-dependent, non-degenerate distribution over 16 tokens. */
const chaotic = new SyntheticLM(16, (ctx) => {
  let h = 17;
  for (const t of ctx) h = (h * 31 + t + 7) % 1009;
  return Array.from({ length: 16 }, (_, i) => Math.sin(h * (i + 1)) * 2);
});

async function collect(it: AsyncGenerator<StreamEvent, unknown, void>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('seeded sampling', () => {
  const opts = { prompt: [[1, 2, 3]], maxNewTokens: 24, doSample: true, stopTokens: [] };

  it('the same seed gives the same tokens; another seed gives others', async () => {
    const a = await generate(chaotic, { ...opts, seed: 42 });
    const b = await generate(chaotic, { ...opts, seed: 42 });
    const c = await generate(chaotic, { ...opts, seed: 43 });
    expect(a.rows[0].tokens).toEqual(b.rows[0].tokens);
    expect(a.rows[0].tokens).not.toEqual(c.rows[0].tokens);
  });

  it("a row's tokens do not depend on the rest of its batch (per-row seeds, different lengths)", async () => {
    const prompts = [[1], [2, 3, 4, 5], [6, 7], [1]];
    const seeds = [5, 6, 7, 8];
    const batch = await generate(chaotic, { ...opts, prompt: prompts, seed: seeds });
    for (let r = 0; r < prompts.length; r++) {
      const alone = await generate(chaotic, { ...opts, prompt: prompts[r], seed: [seeds[r]] });
      expect(batch.rows[r].tokens).toEqual(alone.rows[0].tokens);
    }
    // Same prompt, different seeds: different rows.
    expect(batch.rows[0].tokens).not.toEqual(batch.rows[3].tokens);
  });

  it('one seed for a batch gives row r the stream fold(r): row 0 equals the prompt alone', async () => {
    const batch = await generate(chaotic, { ...opts, prompt: [[1], [2]], seed: 9 });
    const alone = await generate(chaotic, { ...opts, prompt: [1], seed: 9 });
    expect(batch.rows[0].tokens).toEqual(alone.rows[0].tokens);
  });
});

describe('greedy batches', () => {
  it('a batch of prompts of different lengths gives per row the tokens of each prompt alone', async () => {
    const prompts = [[3], [1, 2, 3, 4, 5, 6], [9, 9], [4, 1, 4]];
    const batch = await generate(chaotic, { prompt: prompts, maxNewTokens: 12, stopTokens: [] });
    for (let r = 0; r < prompts.length; r++) {
      const alone = await generate(chaotic, { prompt: prompts[r], maxNewTokens: 12, stopTokens: [] });
      expect(batch.rows[r].tokens).toEqual(alone.rows[0].tokens);
    }
  });

  it('rows stop on their own; finished rows are fed the pad id and the run ends with the last row', async () => {
    const model = typist({ 1: utf8('ab'), 2: utf8('abcdef'), 3: utf8('abcd') });
    const r = await generate(model, { prompt: [[1], [2], [3]], maxNewTokens: 5 });
    expect(r.rows.map((x) => x.tokens)).toEqual([
      [...utf8('ab'), EOS],
      utf8('abcde'),
      [...utf8('abcd'), EOS],
    ]);
    expect(r.rows.map((x) => x.finishReason)).toEqual(['stop', 'length', 'stop']);
    expect(r.rows[0].stopToken).toBe(EOS); // the model config's eosTokenId is the default stop token
    expect(model.shapes).toEqual([
      [3, 1],
      [3, 1],
      [3, 1],
      [3, 1],
      [3, 1],
    ]); // prefill + 4 decode steps
    expect(r.stats).toMatchObject({ promptTokens: 3, newTokens: 3 + 5 + 5, forwards: 5 });
    expect(r.stats.prefillMs).toBeGreaterThanOrEqual(0);
  });

  it('stopTokens: [] disables the default stop token', async () => {
    const model = typist({ 1: utf8('ab') });
    const r = await generate(model, { prompt: [1], maxNewTokens: 4, stopTokens: [] });
    expect(r.rows[0].tokens).toEqual([...utf8('ab'), EOS, EOS]);
    expect(r.rows[0].finishReason).toBe('length');
  });
});

describe('text, stop strings and streaming', () => {
  const tokenizer = byteTokenizer();

  it('decodes the new text; a stop token is kept in tokens and dropped from text', async () => {
    const r = await generate(typist({ 1: utf8('héllo') }), { prompt: [1], tokenizer, maxNewTokens: 20 });
    expect(r.rows[0].text).toBe('héllo');
    expect(r.rows[0].tokens.at(-1)).toBe(EOS);
  });

  it('a stop string ends the row and is cut from the text, also across tokens and rows', async () => {
    const model = typist({ 1: utf8('def f(x):\n    return x\n\nclass A'), 2: utf8('x = 1\ny = 2') });
    const r = await generate(model, {
      prompt: [[1], [2]],
      tokenizer,
      maxNewTokens: 40,
      stopStrings: ['\n\n', 'y ='],
    });
    expect(r.rows[0]).toMatchObject({
      text: 'def f(x):\n    return x',
      finishReason: 'stop',
      stopString: '\n\n',
    });
    expect(r.rows[0].tokens).toEqual(utf8('def f(x):\n    return x\n\n'));
    expect(r.rows[1]).toMatchObject({ text: 'x = 1\n', finishReason: 'stop', stopString: 'y =' });
  });

  it('streamed deltas never show text a stop string later removes, and add up to the final text', async () => {
    const model = typist({ 1: utf8('wonder world, wow') });
    const it = stream(model, { prompt: [1], tokenizer, maxNewTokens: 40, stopStrings: ['world'] });
    const events = await collect(it);
    const deltas = events.map((e) => e.text ?? '');
    expect(deltas.join('')).toBe('wonder ');
    // 'wo' of 'wonder' was held back until 'n' ruled the stop string out.
    expect(deltas.slice(0, 3)).toEqual(['', '', 'won']);
    expect(events.at(-1)).toMatchObject({
      type: 'finish',
      finishReason: 'stop',
      stopString: 'world',
      text: '',
    });
  });

  it('multi-byte characters stream whole: no U+FFFD mid-character', async () => {
    const text = 'é€😀 ok';
    const events = await collect(
      stream(typist({ 1: utf8(text) }), { prompt: [1], tokenizer, maxNewTokens: 30 }),
    );
    const deltas = events.filter((e) => e.type === 'token').map((e) => e.text);
    expect(deltas.some((d) => d?.includes('\uFFFD'))).toBe(false);
    expect(deltas.slice(0, 3)).toEqual(['', 'é', '']); // 2-byte é completes at its second byte
    expect(events.map((e) => e.text ?? '').join('')).toBe(text);
  });

  it('an incomplete character at the end is flushed (as U+FFFD) when the row ends', async () => {
    const bytes = utf8('a€').slice(0, 3); // 'a' and 2 of the 3 bytes of '€'
    const r = await generate(typist({ 1: bytes }), { prompt: [1], tokenizer, maxNewTokens: 3 });
    expect(r.rows[0].text).toBe('a\uFFFD');
  });

  it('stream() returns the same result as generate()', async () => {
    const model = typist({ 1: utf8('abc'), 2: utf8('xy') });
    const opts = { prompt: [[1], [2]], tokenizer, maxNewTokens: 10 };
    const it = stream(model, opts);
    let r = await it.next();
    while (!r.done) r = await it.next();
    const g = await generate(model, opts);
    expect(r.value.rows).toEqual(g.rows);
  });
});

describe('abort', () => {
  it('a signal aborted mid-stream ends every unfinished row with reason abort, no throw', async () => {
    const ac = new AbortController();
    const model = typist({ 1: utf8('abcdefgh'), 2: utf8('a') });
    const events: StreamEvent[] = [];
    const it = stream(model, { prompt: [[1], [2]], maxNewTokens: 8, signal: ac.signal });
    let result: Awaited<ReturnType<typeof it.next>>;
    do {
      result = await it.next();
      if (!result.done) {
        events.push(result.value);
        if (result.value.type === 'token' && result.value.row === 0 && result.value.index === 2) ac.abort();
      }
    } while (!result.done);
    const rows = result.value.rows;
    expect(rows[0]).toMatchObject({ tokens: utf8('abc'), finishReason: 'abort' });
    expect(rows[1]).toMatchObject({ tokens: [...utf8('a'), EOS], finishReason: 'stop' });
    expect(events.at(-1)).toMatchObject({ type: 'finish', row: 0, finishReason: 'abort' });
  });

  it('an already aborted signal runs no forward and returns empty rows', async () => {
    const model = typist({ 1: utf8('abc') });
    const ac = new AbortController();
    ac.abort();
    const r = await generate(model, { prompt: [1], signal: ac.signal });
    expect(r.rows[0]).toEqual({ tokens: [], finishReason: 'abort' });
    expect(model.forwards).toBe(0);
  });

  it('the logits of a forward in flight when the signal fires are discarded', async () => {
    const ac = new AbortController();
    const inner = typist({ 1: utf8('abcdef') });
    let calls = 0;
    const model = Object.assign(Object.create(inner), {
      forward: async (input: Parameters<typeof inner.forward>[0]) => {
        const out = await inner.forward(input);
        if (++calls === 3) ac.abort();
        return out;
      },
    }) as typeof inner;
    const r = await generate(model, { prompt: [1], maxNewTokens: 6, signal: ac.signal });
    expect(r.rows[0]).toMatchObject({ tokens: utf8('ab'), finishReason: 'abort' });
  });

  it('a consumer that stops iterating early releases the processors state', async () => {
    let released = 0;
    const probe: LogitsProcessor = { name: 'probe', process() {}, release: () => void released++ };
    for await (const e of stream(typist({ 1: utf8('abcdef') }), { prompt: [1], processors: [probe] })) {
      if (e.type === 'token') break;
    }
    expect(released).toBe(1);
  });
});

describe('options are validated with zod', () => {
  const model = typist({ 1: utf8('abc') });

  it('an unknown key is named, with the allowed keys', () => {
    expect(() => stream(model, { prompt: [1], max_new_tokens: 3 } as never)).toThrow(
      /Unrecognized key: "max_new_tokens"; allowed: prompt, maxNewTokens, doSample, seed, /,
    );
  });

  it('a bad value names the field and the allowed range', async () => {
    await expect(generate(model, { prompt: [1], maxNewTokens: 0 })).rejects.toThrow(
      /option 'maxNewTokens' is invalid: .*>=1/,
    );
    await expect(generate(model, { prompt: [1], doSample: true, topP: 0 })).rejects.toThrow(
      /option 'topP' is invalid: .*>0/,
    );
    await expect(generate(model, { prompt: [1], seed: -1 })).rejects.toThrow(/option 'seed' is invalid/);
    await expect(generate(model, { prompt: [] })).rejects.toThrow(
      /option 'prompt' is invalid: expected a string, a non-empty array/,
    );
  });

  it('sampling options without doSample are an error, not silently ignored', async () => {
    await expect(generate(model, { prompt: [1], temperature: 0.5, topK: 3 })).rejects.toThrow(
      /options 'temperature', 'topK' only apply when sampling; set doSample: true/,
    );
  });

  it('inputs that do not fit the model are named', async () => {
    await expect(generate(model, { prompt: 'abc' })).rejects.toThrow(/'prompt' is text; pass a 'tokenizer'/);
    await expect(generate(model, { prompt: [1, 300] })).rejects.toThrow(
      /prompt of row 0 holds token id 300, outside the vocabulary \[0, 260\)/,
    );
    await expect(generate(model, { prompt: [1], stopTokens: [999] })).rejects.toThrow(
      /stopTokens holds token id 999/,
    );
    await expect(generate(model, { prompt: [[1], [1]], doSample: true, seed: [1, 2, 3] })).rejects.toThrow(
      /seed has 3 entries for a batch of 2/,
    );
    await expect(generate(model, { prompt: [1], maxNewTokens: 5000 })).rejects.toThrow(
      /needs 5000 positions; the model's context length is 4096/,
    );
    await expect(generate(model, { prompt: [1], stopStrings: ['x'] })).rejects.toThrow(
      /'stopStrings' needs a 'tokenizer'/,
    );
  });

  it('a processor that masks every token is an error naming the row', async () => {
    const all = Array.from({ length: 260 }, (_, i) => i);
    await expect(generate(model, { prompt: [[1], [1]], suppressTokens: all })).rejects.toThrow(
      /row 0: every token is masked/,
    );
  });
});
