/**
 * The arithmetic fixtures (tools/fixtures/arith_lm.py, arith_prm.py) through @hasten/models and the
 * adapters:
 * - arith-lm loads with `loadCausalLM` and its logits match the PyTorch reference (1e-4); its greedy
 *   decoding follows the reference tokens; sampled through `llmProposer` at T=1 it writes one step
 *   per line and is right on some held-out problems but not all (the regime search is for);
 * - arithPrm reproduces the Python step scores of held-out samples (1e-4), the stored labels agree
 *   with an independent step check, and correct steps score higher than wrong ones on average;
 * - scorer aggregations, a state without steps, a too-long state and unknown options.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng, type Tensor } from '@hasten/core-tensor';
import { loadSafetensors } from '@hasten/core-tensor/node';
import { arithmeticTask, checkArithmetic } from '@hasten/eval';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bestOfN } from '../strategies/best-of-n';
import { runStrategy } from '../strategy';
import { arithPrm } from './arith-prm';
import { llmProposer } from './llm-proposer';

const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../fixtures');
const bytes = (s: string) => [...new TextEncoder().encode(s)];
const BOS = 256;
const EOS = 257;

interface HeldOut {
  problem: string;
  answer: number;
  steps: string[];
  labels: number[];
  scores: number[];
}

async function reference(name: string): Promise<Map<string, Tensor>> {
  return (await loadSafetensors(join(FIXTURES, name, 'reference.safetensors'))).tensors;
}

/** Independent check of a step line: value under the usual precedence (null if not well formed). */
function stepValue(line: string): number | null {
  if (!/^(?:-?\d+|\(-\d+\))(?:[+\-*](?:\d+|\(-\d+\)))*$/.test(line)) return null;
  const operand = (s: string) => Number(s.replace(/[()]/g, ''));
  // Split into signed terms at + and - that are not inside parentheses.
  const terms: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of line) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if ((ch === '+' || ch === '-') && depth === 0 && cur !== '') {
      terms.push(cur);
      cur = ch;
    } else cur += ch;
  }
  terms.push(cur);
  return terms.reduce((sum, t) => {
    const sign = t.startsWith('-') ? -1 : 1;
    const body = t.replace(/^[+-]/, '');
    return sum + sign * body.split('*').reduce((p, f) => p * operand(f), 1);
  }, 0);
}

const stateOf = (h: HeldOut) => {
  const prompt = [BOS, ...bytes(`${h.problem}\n`)];
  return { tokens: [...prompt, ...bytes(h.steps.join('\n')), EOS], promptLength: prompt.length };
};

describe('arith-lm fixture', () => {
  let lm: CausalLM;
  beforeAll(async () => {
    lm = await loadCausalLM(join(FIXTURES, 'arith-lm'));
  });
  afterAll(() => lm?.dispose());

  it('loads with loadCausalLM; logits and hidden states match the PyTorch reference to 1e-4', async () => {
    const ref = await reference('arith-lm');
    const ids = ref.get('input_ids') as Tensor;
    const out = await lm.forward({
      tokens: ids,
      positions: ref.get('position_ids') as Tensor,
      outputHiddenStates: true,
    });
    const got = await out.logits.data();
    const want = await (ref.get('logits') as Tensor).data();
    expect(got.length).toBe(want.length);
    let m = 0;
    for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
    expect(m).toBeLessThan(1e-4);
    const h = await (out.hiddenStates as Tensor).data();
    const hw = await (ref.get('hidden_states') as Tensor).data();
    let mh = 0;
    for (let i = 0; i < h.length; i++) mh = Math.max(mh, Math.abs(h[i] - hw[i]));
    expect(mh).toBeLessThan(1e-4);
    out.logits.dispose();
    out.hiddenStates?.dispose();
  });

  it('greedy steps through llmProposer follow the reference greedy tokens up to <eos>', async () => {
    const ref = await reference('arith-lm');
    const prompt = Array.from(await (ref.get('greedy_prompt') as Tensor).data());
    const want = Array.from(await (ref.get('greedy_tokens') as Tensor).data());
    const p = llmProposer({ model: lm, prompt, doSample: false, maxNewTokens: 48 });
    let s = await p.initial({ rng: rng(0) });
    while (!p.done(s)) s = await p.propose(s, { rng: rng(1) });
    const gen = s.tokens.slice(prompt.length);
    const stop = want.indexOf(EOS);
    expect(gen).toEqual(stop < 0 ? want : want.slice(0, stop + 1));
    p.dispose();
  });

  it('sampled at T=1 it writes one step per line and an integer answer, right only sometimes', async () => {
    // seed-0 items 900.. with 2 operations: left out of the training data (arithmetic_data.ts).
    const items = arithmeticTask({ seed: 0, count: 1000, operations: 2 }).items.slice(900, 940);
    let right = 0;
    let shaped = 0;
    let stopped = 0;
    for (const [i, item] of items.entries()) {
      const p = llmProposer({ model: lm, prompt: [BOS, ...bytes(`${item.prompt}\n`)], maxNewTokens: 96 });
      const trace = await runStrategy(bestOfN({ proposer: p, scorer: () => 0, budget: 1, maxSteps: 8 }), {
        seed: i,
      });
      const s = trace.candidates[0].state;
      // Every step but the last ends at the newline; the last one at <eos> (or the caps).
      for (const step of s.steps.slice(0, -1)) expect(step.endsWith('\n')).toBe(true);
      if (s.finishReason === 'stop') stopped++;
      // Two operations: one intermediate expression line, then the answer line (an integer).
      if (s.steps.length === 2 && stepValue(s.steps[0].trim()) !== null && /^-?\d+$/.test(s.steps[1]))
        shaped++;
      if (checkArithmetic(item, p.text(s)).pass) right++;
      p.dispose();
    }
    console.log(
      `arith-lm, 40 two-operation problems, one sample each: ${stopped} stopped, ${shaped} well formed, ${right} right`,
    );
    expect(stopped).toBeGreaterThanOrEqual(36);
    expect(shaped).toBeGreaterThanOrEqual(30);
    expect(right).toBeLessThan(items.length);
  });
});

describe('arithPrm on the arith-prm fixture', () => {
  let prmModel: CausalLM;
  let heldout: HeldOut[];
  beforeAll(async () => {
    prmModel = await loadCausalLM(join(FIXTURES, 'arith-prm'));
    heldout = JSON.parse(readFileSync(join(FIXTURES, 'arith-prm', 'heldout.json'), 'utf8')).solutions;
  });
  afterAll(() => prmModel?.dispose());

  it('reproduces the Python step scores of held-out samples to 1e-4', async () => {
    const prm = arithPrm({ model: prmModel });
    for (const h of heldout.slice(0, 40)) {
      const got = await prm.stepScores(stateOf(h));
      expect(got).toHaveLength(h.steps.length);
      for (let k = 0; k < got.length; k++) expect(Math.abs(got[k] - h.scores[k])).toBeLessThan(1e-4);
    }
  });

  it('matches the reference step scores of the padded reference rows', async () => {
    const ref = await reference('arith-prm');
    const ids = Array.from(await (ref.get('input_ids') as Tensor).data());
    const keep = Array.from(await (ref.get('attention_keep') as Tensor).data());
    const [B, L] = (ref.get('input_ids') as Tensor).shape;
    const rows = Array.from(await (ref.get('step_batch') as Tensor).data());
    const want = Array.from(await (ref.get('step_scores') as Tensor).data());
    const prm = arithPrm({ model: prmModel });
    const got: number[] = [];
    for (let b = 0; b < B; b++) {
      const row = ids.slice(b * L, (b + 1) * L).filter((_, j) => keep[b * L + j] === 1);
      const promptLength = row.indexOf(10) + 1;
      got.push(...(await prm.stepScores({ tokens: row, promptLength })));
    }
    expect(got).toHaveLength(rows.length);
    for (let k = 0; k < got.length; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-4);
  });

  it('held-out labels agree with an independent step check; correct steps score higher than wrong ones', async () => {
    const prm = arithPrm({ model: prmModel });
    const good: number[] = [];
    const bad: number[] = [];
    for (const h of heldout) {
      const labels = h.steps.map((s) => (stepValue(s) === h.answer ? 1 : 0));
      expect(labels).toEqual(h.labels);
      const scores = await prm.stepScores(stateOf(h));
      for (let k = 0; k < scores.length; k++) (labels[k] ? good : bad).push(scores[k]);
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    // Both kinds occur in the sample (553 right, 447 wrong of the 1000 held-out steps).
    expect(good.length).toBeGreaterThanOrEqual(20);
    expect(bad.length).toBeGreaterThanOrEqual(20);
    expect(mean(good)).toBeGreaterThan(mean(bad));
    // Ranking: the probability that a correct step outscores a wrong one (ties count half).
    let wins = 0;
    for (const g of good) for (const b of bad) wins += g > b ? 1 : g === b ? 0.5 : 0;
    const auc = wins / (good.length * bad.length);
    console.log(
      `arith-prm held-out: ${good.length} correct / ${bad.length} wrong steps, means ${mean(good).toFixed(4)} / ${mean(bad).toFixed(4)}, AUC ${auc.toFixed(4)}`,
    );
    expect(auc).toBeGreaterThan(0.6);
  });

  it('scorer aggregations, a state without steps, a too-long state and unknown options', async () => {
    const prm = arithPrm({ model: prmModel });
    const h = heldout.find((x) => x.steps.length >= 3) as HeldOut;
    const s = stateOf(h);
    const steps = await prm.stepScores(s);
    expect(await prm.scorer('min')(s, {})).toBeCloseTo(Math.min(...steps), 12);
    expect(await prm.scorer('last')(s, {})).toBeCloseTo(steps[steps.length - 1], 12);
    expect(await prm.scorer('prod')(s, {})).toBeCloseTo(
      steps.reduce((a, b) => a * b, 1),
      12,
    );
    // A partial step (no delimiter yet) is scored as if it ended there: same as with "\n" appended.
    const partial = { tokens: s.tokens.slice(0, -1), promptLength: s.promptLength };
    expect(await prm.stepScores(partial)).toEqual(steps);
    expect(
      await prm.scorer('min')(
        { tokens: s.tokens.slice(0, s.promptLength), promptLength: s.promptLength },
        {},
      ),
    ).toBe(0.5);
    const long = {
      tokens: [...s.tokens.slice(0, -1), ...new Array(200).fill(49)],
      promptLength: s.promptLength,
    };
    await expect(prm.stepScores(long)).rejects.toThrow(/context length 128/);
    expect(() => arithPrm({ model: prmModel, good: 1 } as never)).toThrow(/good/);
    expect(() => arithPrm({ model: prmModel, goodTokenId: 999 })).toThrow(/goodTokenId/);
    expect(() => prm.scorer('median' as never)).toThrow(/median|last/);
  });
});
