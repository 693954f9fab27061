/**
 * generateDiffusion's `suffix` option (infilling: the generated positions lie between the prompt and
 * the suffix, which the bidirectional model reads at every step):
 * - on a synthetic model whose prediction copies the sequence's last token, the suffix decides the
 *   output and every forward sees prompt + genLength + suffix positions; per-row suffixes;
 * - on a real transformer (the random-weight `families/llama-mha` run as a bidirectional mask
 *   predictor), greedy one-token-per-step decoding with a suffix equals a plain loop written here
 *   (full forward of prompt, canvas and suffix; commit the most confident masked position of the
 *   block), and the dual cache refreshed every step equals the uncached decoding;
 * - option errors: block-causal attention, context length counting the suffix, row count, ids.
 */
import { join } from 'node:path';
import { tensor } from '@hasten/core-tensor';
import { type MaskedDiffusionLM, NativeMaskedDiffusionLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodingError } from '../errors';
import { FIXTURES } from '../testing';
import { type DiffusionStepEvent, generateDiffusion, streamDiffusion } from './generate-diffusion';
import type { DiffusionOptions } from './options';
import { SyntheticMDLM } from './testing';

const MASK = 259;
const V = 260;
let model: MaskedDiffusionLM;
beforeAll(async () => {
  model = new NativeMaskedDiffusionLM(await loadCausalLM(join(FIXTURES, 'families/llama-mha')), {
    maskTokenId: MASK,
  });
});
afterAll(() => model?.dispose());

/** Logits with one clear winner `token` (margin grows with the position, so ranks are strict). */
function peaked(token: number, position: number): number[] {
  const row = new Array(V).fill(0);
  row[token] = 5 + position * 0.01;
  return row;
}

describe('suffix on a synthetic model', () => {
  it('the suffix decides the output and every forward sees prompt + genLength + suffix', async () => {
    const lengths: number[] = [];
    const m = new SyntheticMDLM(MASK, V, (p, x) => {
      if (p === 0) lengths.push(x.length);
      const last = x[x.length - 1];
      return peaked(last === MASK ? 0 : last, p);
    });
    const prompt = [1, 2, 3];
    const withSuffix = await generateDiffusion(m, { prompt, suffix: [42, 77], genLength: 4, eosFill: false });
    expect(withSuffix.rows[0].canvas).toEqual([77, 77, 77, 77]);
    expect(withSuffix.rows[0].tokens).toEqual([77, 77, 77, 77]);
    expect(lengths).toEqual([9, 9, 9, 9]);
    lengths.length = 0;
    const without = await generateDiffusion(m, { prompt, genLength: 4, eosFill: false });
    // Without a suffix the last position is generated: masked at first (prediction 0), then copied.
    expect(without.rows[0].canvas).toEqual([0, 0, 0, 0]);
    expect(lengths.every((n) => n === 7)).toBe(true);
  });

  it('one suffix per row, or one for every row', async () => {
    const m = new SyntheticMDLM(MASK, V, (p, x) => {
      const last = x[x.length - 1];
      return peaked(last === MASK ? 0 : last, p);
    });
    const rows = await generateDiffusion(m, {
      prompt: [[1], [2]],
      suffix: [[10], [20, 30]],
      genLength: 2,
      eosFill: false,
    });
    expect(rows.rows.map((r) => r.canvas)).toEqual([
      [10, 10],
      [30, 30],
    ]);
    const shared = await generateDiffusion(m, {
      prompt: [[1], [2]],
      suffix: [11],
      genLength: 2,
      eosFill: false,
    });
    expect(shared.rows.map((r) => r.canvas)).toEqual([
      [11, 11],
      [11, 11],
    ]);
  });
});

/** Plain greedy LLaDA loop with a suffix: one token per step, the block's most confident mask. */
async function plainInfill(
  m: MaskedDiffusionLM,
  prompt: number[],
  suffix: number[],
  genLength: number,
  blockLength: number,
): Promise<{ canvas: number[]; order: number[] }> {
  const x = [...prompt, ...new Array(genLength).fill(MASK), ...suffix];
  const order: number[] = [];
  for (let b = 0; b < genLength / blockLength; b++) {
    const lo = prompt.length + b * blockLength;
    for (let s = 0; s < blockLength; s++) {
      const ids = tensor(Int32Array.from(x), [1, x.length], { dtype: 'i32' });
      const out = await m.forward({ tokens: ids });
      const logits = (await out.logits.data()) as Float32Array;
      ids.dispose();
      out.logits.dispose();
      let pick = -1;
      let pickTok = -1;
      let pickConf = -1;
      for (let pos = lo; pos < lo + blockLength; pos++) {
        if (x[pos] !== MASK) continue;
        const row = Array.from(logits.subarray(pos * V, (pos + 1) * V));
        let best = -1;
        for (let v = 0; v < V; v++) if (v !== MASK && (best < 0 || row[v] > row[best])) best = v;
        const mx = Math.max(...row);
        const conf = Math.exp(row[best] - mx) / row.reduce((a, l) => a + Math.exp(l - mx), 0);
        if (conf > pickConf) {
          pick = pos;
          pickTok = best;
          pickConf = conf;
        }
      }
      x[pick] = pickTok;
      order.push(pick - prompt.length);
    }
  }
  return { canvas: x.slice(prompt.length, prompt.length + genLength), order };
}

describe('suffix on a real transformer', () => {
  const prompt = [256, 100, 101, 102, 32];
  const suffix = [61, 40, 41, 10, 9];
  const opts: DiffusionOptions = { prompt, suffix, genLength: 8, blockLength: 4, steps: 8, eosFill: false };

  it('greedy one token per step equals the plain loop, and the suffix changes the output', async () => {
    const events: DiffusionStepEvent[] = [];
    const it = streamDiffusion(model, opts);
    let canvas: number[] = [];
    while (true) {
      const r = await it.next();
      if (r.done) {
        canvas = r.value.rows[0].canvas;
        break;
      }
      if (r.value.type === 'step') events.push(r.value);
    }
    const ref = await plainInfill(model, prompt, suffix, 8, 4);
    expect(canvas).toHaveLength(8);
    expect(canvas).toEqual(ref.canvas);
    expect(events.flatMap((e) => e.commits.map((c) => c.position))).toEqual(ref.order);
    const other = await plainInfill(model, prompt, [120, 121, 122, 123, 124], 8, 4);
    expect(other.canvas).not.toEqual(ref.canvas);
  });

  it('the dual cache refreshed every step equals the uncached decoding', async () => {
    const none = await generateDiffusion(model, opts);
    const dual = await generateDiffusion(model, { ...opts, cache: 'dual', refreshEvery: 1 });
    expect(dual.rows[0].canvas).toEqual(none.rows[0].canvas);
    expect(dual.stats.forwards).toBe(none.stats.forwards);
  });

  it('rejects a suffix with block-causal attention, past the context, per-row mismatch and bad ids', () => {
    const bad = (o: Partial<DiffusionOptions>) => () => streamDiffusion(model, { ...opts, ...o });
    expect(bad({ attention: 'block-causal' })).toThrow(/attention/);
    // The 5 prompt tokens and a generation filling the rest of the context fit alone, not with the
    // 5 suffix tokens.
    const n = model.config.contextLength - prompt.length;
    const long = { genLength: n, blockLength: n, steps: n };
    expect(bad(long)).toThrow(DecodingError);
    expect(bad(long)).toThrow(/prompt and suffix/);
    expect(() => streamDiffusion(model, { prompt, ...long })).not.toThrow();
    expect(bad({ suffix: [[1], [2]] })).toThrow(/suffix/);
    expect(bad({ suffix: [1, 999] })).toThrow(/suffix of row 0/);
    expect(bad({ suffix: [1.5] })).toThrow(/suffix/);
  });
});
