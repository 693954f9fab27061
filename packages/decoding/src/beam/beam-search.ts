/**
 * @file Beam search (Graves 2012, arXiv:1211.3711; as Hugging Face's `_beam_search`), which
 * transformers.js does not have.
 *
 * Per prompt: prefill once (batch 1), then each step scores every running beam's continuations,
 * log softmax(processed logits) + the beam's sum, keeps the best (1 + #stop tokens) x numBeams
 * candidates (ties: lower beam, then lower token id), and walks them best first: a stop token among
 * the top numBeams ends a hypothesis with score sum / generatedLength^lengthPenalty (the stop token
 * counted, as HF); any other token continues a beam, until numBeams beams continue. The beams share
 * the prompt's KV: the cache's rows are re-picked after every step (gatherCacheRows), as HF reorders
 * its cache.
 *
 * Stopping (HF's `early_stopping`): true stops once numBeams hypotheses are finished; false (default)
 * stops when the best running beam, normalised by its current length, cannot beat the worst kept
 * hypothesis; 'never' normalises by maxNewTokens instead when lengthPenalty > 0 (the exact bound).
 * At maxNewTokens the running beams become hypotheses (finish reason 'length').
 *
 * One difference from HF: processors rewrite the raw logits before the log softmax (HF runs them on
 * log-probabilities), so a beam's score is a sum of log-probabilities of the processed distribution
 * and numBeams = 1 with earlyStopping: true (or no stop tokens) is exactly greedy decoding with the
 * same processors.
 */

import type { KVCache } from '@hasten/kv';
import type { CausalLM, ForwardOutput } from '@hasten/models';
import { z } from 'zod';
import { gatherCacheRows } from '../batch/cache-rows';
import { column, leftPad } from '../batch/left-pad';
import { DecodingError } from '../errors';
import {
  checkAllTokenIds,
  contextNeeded,
  defaultStopTokens,
  padIdOf,
  resolvePrompts,
} from '../generation/inputs';
import { PromptArg, SignalArg, TokenizerArg } from '../generation/options';
import { parseOptions } from '../options';
import { processorShape, processorsFor, TokenId } from '../processors/from-options';
import { logSoftmax } from '../processors/probabilities';
import type { LogitsProcessor } from '../processors/processor';

const nonSampling = z.object(processorShape).omit({
  temperature: true,
  topK: true,
  topP: true,
  minP: true,
  typicalP: true,
}).shape;

export const BeamSearchOptionsSchema = z.strictObject({
  /** Text (needs `tokenizer`) or token ids; an array of them is searched prompt by prompt. */
  prompt: PromptArg,
  maxNewTokens: z.number().int().min(1).default(64),
  numBeams: z.number().int().min(1).max(256).default(4),
  /** Exponent of the length normalisation: > 0 favours longer, < 0 shorter sequences (default 1). */
  lengthPenalty: z.number().finite().default(1),
  earlyStopping: z.union([z.boolean(), z.literal('never')]).default(false),
  /** Hypotheses returned per prompt, best first (at most numBeams; default 1). */
  numReturnSequences: z.number().int().min(1).default(1),
  stopTokens: z.array(TokenId).optional(),
  tokenizer: TokenizerArg.optional(),
  skipSpecialTokens: z.boolean().default(true),
  /** Stops between steps; the running beams are returned with finish reason 'abort'. */
  signal: SignalArg.optional(),
  padTokenId: TokenId.optional(),
  ...nonSampling,
});
export type BeamSearchOptions = z.input<typeof BeamSearchOptionsSchema>;

export interface BeamSequence {
  /** New tokens (a stop token that ended it included). */
  tokens: number[];
  text?: string;
  /** Sum of the tokens' log-probabilities (of the processed distribution). */
  logprob: number;
  /** logprob / tokens.length^lengthPenalty: what the hypotheses are ranked by. */
  score: number;
  finishReason: 'stop' | 'length' | 'abort';
}

export interface BeamSearchResult {
  /** Per prompt, the best numReturnSequences hypotheses, best first. */
  rows: { sequences: BeamSequence[] }[];
  stats: { forwards: number; ms: number };
}

interface Beam {
  tokens: number[];
  logprob: number;
}

interface Candidate {
  beam: number;
  token: number;
  logprob: number;
}

const WHERE = 'beamSearch';

/** Finished hypotheses, the best numBeams kept. */
class Hypotheses {
  readonly list: BeamSequence[] = [];
  constructor(
    private readonly size: number,
    private readonly lengthPenalty: number,
  ) {}

  add(tokens: number[], logprob: number, finishReason: BeamSequence['finishReason']): void {
    // An empty hypothesis (aborted before the first step) scores 0 rather than 0 / 0.
    const score = tokens.length ? logprob / tokens.length ** this.lengthPenalty : 0;
    if (this.list.length >= this.size && !(score > this.worst())) return;
    this.list.push({ tokens, logprob, score, finishReason });
    this.list.sort((a, b) => b.score - a.score);
    if (this.list.length > this.size) this.list.pop();
  }

  get full(): boolean {
    return this.list.length >= this.size;
  }

  worst(): number {
    return this.list.length ? this.list[this.list.length - 1].score : Number.NEGATIVE_INFINITY;
  }
}

/** The best `k` (beam, token) pairs by beam logprob + lp, ties by lower beam then lower token. */
function topCandidates(beams: Beam[], lps: Float64Array[], k: number): Candidate[] {
  const top: Candidate[] = [];
  for (let b = 0; b < beams.length; b++) {
    const lp = lps[b];
    for (let t = 0; t < lp.length; t++) {
      if (lp[t] === Number.NEGATIVE_INFINITY) continue;
      const s = beams[b].logprob + lp[t];
      if (top.length === k && !(s > top[k - 1].logprob)) continue;
      let i = top.length;
      while (i > 0 && top[i - 1].logprob < s) i--;
      top.splice(i, 0, { beam: b, token: t, logprob: s });
      if (top.length > k) top.pop();
    }
  }
  return top;
}

/** Beam search on each prompt; see the file comment. */
export async function beamSearch(model: CausalLM, options: BeamSearchOptions): Promise<BeamSearchResult> {
  const o = parseOptions(BeamSearchOptionsSchema, options, WHERE);
  if (o.numReturnSequences > o.numBeams) {
    throw new DecodingError(
      'options',
      `${WHERE}: option 'numReturnSequences' must be at most numBeams (${o.numBeams}), got ${o.numReturnSequences}`,
    );
  }
  const V = model.config.vocabSize;
  const { prompts } = resolvePrompts(o.prompt, o.tokenizer, WHERE);
  const stopTokens = o.stopTokens ?? defaultStopTokens(model, o.tokenizer);
  checkAllTokenIds({ ...o, prompts, stopTokens }, V, WHERE);
  const maxLength = Math.max(
    1,
    contextNeeded(model, Math.max(...prompts.map((p) => p.length)), o.maxNewTokens, WHERE),
  );
  const chain = processorsFor(o, stopTokens);
  const stats = { forwards: 0, ms: 0 };
  const t0 = performance.now();
  const rows: BeamSearchResult['rows'] = [];
  try {
    for (const prompt of prompts) {
      const hyps = await searchOne(model, prompt, o, chain, new Set(stopTokens), maxLength, stats);
      const sequences = hyps
        .slice(0, o.numReturnSequences)
        .map((h) =>
          o.tokenizer
            ? { ...h, text: o.tokenizer.decode(h.tokens, { skipSpecialTokens: o.skipSpecialTokens }) }
            : h,
        );
      rows.push({ sequences });
    }
  } finally {
    for (const p of chain) p.release?.();
  }
  stats.ms = performance.now() - t0;
  return { rows, stats };
}

async function searchOne(
  model: CausalLM,
  prompt: number[],
  o: z.output<typeof BeamSearchOptionsSchema>,
  chain: LogitsProcessor[],
  stopTokens: Set<number>,
  maxLength: number,
  stats: { forwards: number },
): Promise<BeamSequence[]> {
  const V = model.config.vocabSize;
  const { numBeams, lengthPenalty, earlyStopping, maxNewTokens } = o;
  const hyps = new Hypotheses(numBeams, lengthPenalty);
  let beams: Beam[] = [{ tokens: [], logprob: 0 }];
  const aborted = () => o.signal?.aborted === true;
  const abort = () => {
    for (const b of beams) hyps.add(b.tokens, b.logprob, 'abort');
    return hyps.list;
  };
  if (aborted()) return abort();
  let cache: KVCache = model.createCache({ batch: 1, maxLength });
  try {
    for (const p of chain) await p.step?.({ kind: 'prefill', prompts: [prompt], maxNewTokens });
    const padded = leftPad([prompt], padIdOf(model, o.tokenizer, o.padTokenId));
    let out: ForwardOutput;
    try {
      out = await model.forward({ tokens: padded.tokens, cache, logitsToKeep: 1 });
    } finally {
      padded.tokens.dispose();
    }
    stats.forwards++;
    for (let step = 0; step < maxNewTokens; step++) {
      const data = (await out.logits.data()) as Float32Array;
      out.logits.dispose();
      if (aborted()) return abort();
      const lps = beams.map((beam, b) => {
        const x = data.slice(b * V, (b + 1) * V);
        for (let i = 0; i < V; i++) {
          if (Number.isNaN(x[i]) || x[i] === Number.POSITIVE_INFINITY) {
            throw new DecodingError(
              'logits',
              `${WHERE}: the model's logit of token ${i} in beam ${b} is ${x[i]}`,
            );
          }
        }
        const ctx = { tokens: [...prompt, ...beam.tokens], promptLength: prompt.length, row: b };
        for (const p of chain) p.process(x, ctx);
        return logSoftmax(x, `${WHERE}: beam ${b}`);
      });
      const candidates = topCandidates(beams, lps, (1 + stopTokens.size) * numBeams);
      const next: Candidate[] = [];
      for (let rank = 0; rank < candidates.length && next.length < numBeams; rank++) {
        const c = candidates[rank];
        if (!stopTokens.has(c.token)) next.push(c);
        else if (rank < numBeams) hyps.add([...beams[c.beam].tokens, c.token], c.logprob, 'stop');
      }
      const length = step + 1;
      const nextBeams = next.map((c) => ({ tokens: [...beams[c.beam].tokens, c.token], logprob: c.logprob }));
      if (next.length === 0) return hyps.list;
      let done = false;
      if (hyps.full) {
        if (earlyStopping === true) done = true;
        else {
          const denom = earlyStopping === 'never' && lengthPenalty > 0 ? maxNewTokens : length;
          done = hyps.worst() >= next[0].logprob / denom ** lengthPenalty;
        }
      }
      if (done) return hyps.list;
      if (length === maxNewTokens) {
        for (const b of nextBeams) hyps.add(b.tokens, b.logprob, 'length');
        return hyps.list;
      }
      const rows = next.map((c) => c.beam);
      const picked = gatherCacheRows(model, cache, rows);
      if (picked !== cache) {
        cache.dispose();
        cache = picked;
      }
      for (const p of chain) await p.reorder?.(rows);
      beams = nextBeams;
      const tokens = next.map((c) => c.token);
      for (const p of chain) await p.step?.({ kind: 'decode', tokens });
      if (aborted()) return abort();
      const ids = column(tokens);
      try {
        out = await model.forward({ tokens: ids, cache, logitsToKeep: 1 });
      } finally {
        ids.dispose();
      }
      stats.forwards++;
    }
    return hyps.list;
  } finally {
    cache.dispose();
  }
}
