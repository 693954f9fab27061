import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '@hasten/core-tensor';
import { generate } from '@hasten/decoding';
import { PagedKVPool } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';
import { loadCausalLM } from '@hasten/models/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bestOfN } from '../strategies/best-of-n';
import { particleFiltering } from '../strategies/particle-filtering';
import { runStrategy } from '../strategy';
import { type LlmState, llmProposer, meanTokenProbability } from './llm-proposer';

const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../fixtures');
const bytes = (s: string) => [...new TextEncoder().encode(s)];
// 102 bytes: 6 full blocks of 16 and a partial one of 6.
const LONG_PROMPT = bytes(
  'import os\nimport sys\n\n\ndef read_lines(path):\n    """Return the lines of a file."""\n    with open(path)',
);
const PROMPT = bytes('def main():\n    ');

let model: CausalLM;
beforeAll(async () => {
  model = await loadCausalLM(join(FIXTURES, 'code-target'));
});
afterAll(() => model?.dispose());

/** Run one state to the end, the k-th call drawing from stream.fold(k). */
async function rollout(p: ReturnType<typeof llmProposer>, seed: number): Promise<LlmState[]> {
  const g = rng(seed);
  const states = [await p.initial({ rng: g.fold(0) })];
  let k = 1;
  while (!p.done(states[states.length - 1]))
    states.push(await p.propose(states[states.length - 1], { rng: g.fold(k++) }));
  return states;
}

describe('llmProposer', () => {
  it('greedy: reproduces generate() token for token, split into steps at "\\n"', async () => {
    expect(LONG_PROMPT).toHaveLength(102);
    const p = llmProposer({
      model,
      prompt: LONG_PROMPT,
      doSample: false,
      maxNewTokens: 60,
      maxStepTokens: 24,
    });
    const states = await rollout(p, 0);
    const last = states[states.length - 1];
    const ref = await generate(model, { prompt: LONG_PROMPT, maxNewTokens: 60 });
    expect(last.tokens.slice(0, 102)).toEqual(LONG_PROMPT);
    expect(last.tokens.slice(102)).toEqual(ref.rows[0].tokens);
    expect(last.finishReason).toBe(ref.rows[0].finishReason === 'length' ? 'length' : 'stop');
    // Every step but the last ends at the delimiter or at the per-step cap; costs add up to the tokens.
    for (let i = 1; i < states.length - 1; i++) {
      const step = states[i].steps[i - 1];
      const n = states[i].tokens.length - states[i - 1].tokens.length;
      expect(step.endsWith('\n') || n === 24).toBe(true);
      expect(p.cost?.(states[i - 1], states[i])).toBe(n);
    }
    expect(states.length).toBeGreaterThan(2);
    // Token-id delimiters split the same way; a custom answer function is used for `answer`.
    const q = llmProposer({
      model,
      prompt: LONG_PROMPT,
      doSample: false,
      maxNewTokens: 60,
      maxStepTokens: 24,
      stepDelimiter: [10],
      answer: (s) => `${s.steps.length} steps`,
    });
    const qs = await rollout(q, 0);
    expect(qs.map((s) => s.steps)).toEqual(states.map((s) => s.steps));
    expect(q.answer?.(qs[qs.length - 1])).toBe(`${states.length - 1} steps`);
    q.dispose();
    expect(p.text(last)).toBe(
      new TextDecoder().decode(Uint8Array.from(ref.rows[0].tokens.filter((t) => t < 256))),
    );
    p.dispose();
  });

  it('forked states never see each other’s tokens; a moved-from state is rebuilt from the prefix cache', async () => {
    const opts = { model, prompt: LONG_PROMPT, maxNewTokens: 40, maxStepTokens: 12, temperature: 1.2 };
    const p = llmProposer(opts);
    const root = await p.initial({ rng: rng(0) });
    const b = p.fork?.(root) as LlmState;
    const a1 = await p.propose(root, { rng: rng(1) });
    const b1 = await p.propose(b, { rng: rng(2) });
    const a2 = await p.propose(a1, { rng: rng(3) });
    const b2 = await p.propose(b1, { rng: rng(4) });
    // A reference with its own pool, nothing shared: the same streams give the same tokens.
    const q = llmProposer(opts);
    const qa = await q.propose(await q.propose(await q.initial({ rng: rng(0) }), { rng: rng(1) }), {
      rng: rng(3),
    });
    const qb = await q.propose(await q.propose(await q.initial({ rng: rng(0) }), { rng: rng(2) }), {
      rng: rng(4),
    });
    expect(a2.tokens).toEqual(qa.tokens);
    expect(b2.tokens).toEqual(qb.tokens);
    expect(a2.tokens.slice(102)).not.toEqual(b2.tokens.slice(102));
    // The values did not change under the proposals.
    expect(root.tokens).toEqual(LONG_PROMPT);
    expect(a1.tokens.length).toBeLessThan(a2.tokens.length);
    // Proposing again from a1 (its cache moved to a2) rebuilds it: whole prompt blocks come from the
    // prefix cache, and the same stream gives the same step.
    const again = await p.propose(a1, { rng: rng(3) });
    expect(again.tokens).toEqual(a2.tokens);
    expect(p.memoryReport().prefixHitTokens).toBeGreaterThanOrEqual(96);
    p.dispose();
    q.dispose();
  });

  it('N states of a long prompt share its blocks; the report counts blocks exactly', async () => {
    const pool = PagedKVPool.forModel(model.config, { numBlocks: 128, blockSize: 16 });
    const p = llmProposer({
      model,
      prompt: LONG_PROMPT,
      pool,
      maxNewTokens: 20,
      maxStepTokens: 20,
      temperature: 1.5,
    });
    const n = 8;
    const states: LlmState[] = [];
    for (let i = 0; i < n; i++) states.push(await p.initial({ rng: rng(i) }));
    const r0 = p.memoryReport();
    // ceil(102 / 16) = 7 blocks in use for the prompt's cache and its 8 forks; 9 × 7 without sharing.
    expect(r0.sequences).toBe(n + 1);
    expect(r0.usedBlocks).toBe(7);
    expect(r0.sharedBlocks).toBe(7);
    expect(r0.unsharedBlocks).toBe(9 * 7);
    expect(r0.savedBytes).toBe((9 * 7 - 7) * r0.bytesPerBlock);

    const next = await Promise.all(states.map((s, i) => p.propose(s, { rng: rng(100 + i) })));
    const live = next.filter((s) => s.finishReason === null);
    const r1 = p.memoryReport();
    // Each live state: the 6 shared full blocks plus its own blocks from position 96 on (its copy of
    // the partial block included); the prompt's cache keeps its partial block.
    const own = live.map((s) => Math.ceil(s.tokens.length / 16) - 6);
    expect(r1.sequences).toBe(1 + live.length);
    expect(r1.usedBlocks).toBe(6 + 1 + own.reduce((x, y) => x + y, 0));
    expect(r1.unsharedBlocks).toBe(7 + live.reduce((x, s) => x + Math.ceil(s.tokens.length / 16), 0));
    expect(r1.copyOnWriteCopies).toBe(n);
    expect(r1.peakUsedBytes).toBeGreaterThanOrEqual(r1.usedBytes);
    // Releasing the states returns their own blocks; the prompt's 7 stay.
    for (const s of next) p.release?.(s);
    expect(p.memoryReport().usedBlocks).toBe(7);
    p.dispose();
    expect(pool.stats().usedBlocks).toBe(0);
    pool.dispose();
  });

  it('runs best-of-N and particle filtering end to end, reproducibly, with the prompt shared', async () => {
    const make = () =>
      llmProposer({ model, prompt: PROMPT, maxNewTokens: 30, maxStepTokens: 10, temperature: 1.0, topK: 40 });
    const p = make();
    const bon = await runStrategy(
      bestOfN({ proposer: p, scorer: meanTokenProbability, budget: 4, maxSteps: 8 }),
      { seed: 3 },
    );
    expect(bon.candidates).toHaveLength(4);
    const scores = bon.candidates.map((c) => c.score as number);
    expect(bon.candidates[bon.best as number].score).toBe(Math.max(...scores));
    for (const c of bon.candidates) {
      expect(c.state.tokens.slice(0, PROMPT.length)).toEqual(PROMPT);
      expect(c.score).toBeCloseTo(
        Math.exp(c.state.logProbs.reduce((x, y) => x + y, 0) / c.state.logProbs.length),
        12,
      );
      expect(c.answer).toBe(p.answer?.(c.state));
    }
    const bonReport = p.memoryReport();
    expect(bonReport.peakUnsharedBytes).toBeGreaterThan(bonReport.peakUsedBytes);
    p.dispose();

    const pfRun = async () => {
      const q = make();
      const t = await runStrategy(
        particleFiltering({
          proposer: q,
          scorer: meanTokenProbability,
          budget: 4,
          weighting: 'log',
          maxSteps: 4,
        }),
        { seed: 5 },
      );
      const report = q.memoryReport();
      q.dispose();
      return { t, report };
    };
    const { t: pf, report } = await pfRun();
    expect(pf.decisions.filter((d) => d.kind === 'resample').length).toBeGreaterThan(0);
    expect(pf.candidates.length).toBeGreaterThan(4);
    // Resampled duplicates were forked copy-on-write: sharing saved blocks at the peak.
    expect(report.peakUnsharedBytes).toBeGreaterThan(report.peakUsedBytes);
    const { t: pf2 } = await pfRun();
    expect(pf2.candidates.map((c) => c.state.tokens)).toEqual(pf.candidates.map((c) => c.state.tokens));
    expect(pf2.best).toBe(pf.best);
  });

  it('stops a step on abort, throwing the signal’s reason and freeing the cache it held', async () => {
    const p = llmProposer({ model, prompt: PROMPT, maxNewTokens: 20 });
    const root = await p.initial({ rng: rng(0) });
    expect(p.memoryReport().sequences).toBe(2);
    const ac = new AbortController();
    ac.abort();
    await expect(p.propose(root, { rng: rng(1), signal: ac.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(p.memoryReport().sequences).toBe(1);
    // The state is still a value: proposing from it again (rebuilt from the prefix cache) works.
    const next = await p.propose(root, { rng: rng(1) });
    expect(next.tokens.length).toBeGreaterThan(PROMPT.length);
    p.dispose();
  });

  it('rejects bad options with the field named', () => {
    expect(() => llmProposer({ model, prompt: PROMPT, temprature: 1 } as never)).toThrow(/temprature/);
    expect(() => llmProposer({ model, prompt: PROMPT, doSample: false, topK: 3 })).toThrow(
      /'topK'.*doSample/,
    );
    expect(() => llmProposer({ model, prompt: [999] })).toThrow(/999.*vocabulary/);
    expect(() => llmProposer({ model, prompt: PROMPT, maxNewTokens: 5000 })).toThrow(/context length/);
    const pool = new PagedKVPool({ numLayers: 2, numKvHeads: 4, headDim: 32, numBlocks: 4 });
    expect(() => llmProposer({ model, prompt: PROMPT, pool })).toThrow(/option 'pool' holds 2 layers/);
    pool.dispose();
  });
});
