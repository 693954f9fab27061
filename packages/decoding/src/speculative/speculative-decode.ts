/**
 * @file speculativeDecode(): draft-then-verify generation on any CausalLM with any Drafter
 * (Leviathan et al., arXiv 2211.17192; Chen et al., arXiv 2302.01318; tree drafts as in SpecInfer,
 * arXiv 2305.09781). Exact: greedy runs emit plain greedy decoding's tokens, sampled runs keep the
 * target's processed distribution (verify.ts, tree-verify.ts).
 *
 * One round, with the context c (prompt and tokens so far) of which the target's cache holds all
 * but the last token t:
 * 1. the drafter proposes K tokens (a chain) or K nodes (a tree) after c;
 * 2. one target forward over [t, drafts] (a tree gets its ancestor mask and depth positions) gives
 *    the K + 1 next-token distributions, each through the processors with its own context;
 * 3. verification accepts a prefix (chain) or a path (tree) and emits one more token (the recovered
 *    or bonus one); the cache keeps t and the accepted drafts (`truncate` for a chain,
 *    `keepPositions` for a tree path), and the emitted token is the next round's t.
 *
 * Draft length: fixed, or adapted from the last round as Hugging Face's assisted generation does
 * ("heuristic": +2 after a fully accepted round, -1 otherwise). Fallback (LLMCad, arXiv 2309.04255,
 * keeps drafting only while it pays): the loop times target forwards and draft proposals and
 * estimates the speed-up of the current length from the acceptance rate α it measures,
 * E[tokens per round] / cost = (1 − α^(K+1)) / ((1 − α)(K·c + 1)) with c = draft cost / target cost
 * (Leviathan et al., Theorem 3.8); below 1 it decodes plainly for `fallbackSteps` rounds, then
 * tries drafting again.
 *
 * Batch size 1: rows of a batch accept different numbers of drafts, which the left-padded cache
 * cannot express without per-row lengths (the batched loops of generate() stay plain).
 */
import { tensor } from '@hasten/core-tensor';
import type { CausalLM, Tokenizer } from '@hasten/models';
import { z } from 'zod';
import { DecodingError } from '../errors';
import { IncrementalDetokenizer } from '../generation/detokenizer';
import { checkAllTokenIds, contextNeeded, defaultStopTokens, resolvePrompts } from '../generation/inputs';
import { GenerateOptionsSchema } from '../generation/options';
import { StopStrings } from '../generation/stop-strings';
import { parseOptions } from '../options';
import { processorsFor, rejectSamplingOptions } from '../processors/from-options';
import { softmax } from '../processors/probabilities';
import { applyProcessors } from '../processors/processor';
import { rowGenerators } from '../sampling/select';
import type { Draft, Drafter } from './drafters/drafter';
import { SpecDecodeMetrics, type SpecDecodeSummary } from './metrics';
import { verifyMultiDraftTree } from './multi-draft/tree-multi-draft';
import { treeAttention } from './token-tree';
import { treeVerify } from './tree-verify';
import { typicalAcceptance } from './typical-acceptance';
import { verify } from './verify';

const isDrafter = (d: unknown): d is Drafter =>
  typeof d === 'object' && d !== null && typeof (d as Drafter).propose === 'function';

export const SpeculativeOptionsSchema = GenerateOptionsSchema.omit({
  padTokenId: true,
  contrastive: true,
}).extend({
  /** Proposes the drafts: DraftModelDrafter, PromptLookupDrafter, NgramTrieDrafter, MedusaDrafter... */
  drafter: z.custom<Drafter>(isDrafter, 'expected a Drafter (propose(context, k))'),
  /** Draft tokens (chain) or nodes (tree) per round (default 4); the start value when adaptive. */
  numDraftTokens: z.number().int().min(1).max(64).default(4),
  /** 'heuristic': +2 after a fully accepted round, -1 otherwise, within [1, maxDraftTokens]. */
  draftLength: z.enum(['fixed', 'heuristic']).default('fixed'),
  /** Upper bound of the adaptive length (default 16). */
  maxDraftTokens: z.number().int().min(1).max(64).default(16),
  /** Decode plainly when drafting is measured not to pay (default true). */
  fallback: z.boolean().default(true),
  /** Plain rounds before drafting is tried again after a fallback (default 16). */
  fallbackSteps: z.number().int().min(1).default(16),
  /**
   * 'exact' (default) keeps plain decoding's output (greedy) or distribution (sampling). 'typical' is
   * Medusa's typical acceptance: longer accepted paths when sampling, NOT distribution-exact.
   */
  acceptance: z.enum(['exact', 'typical']).default('exact'),
  /** Typical acceptance's ε (Medusa's posterior_threshold, default 0.09). */
  posteriorThreshold: z.number().gt(0).lt(1).default(0.09),
  /** Typical acceptance's δ (Medusa's posterior_alpha, default 0.3). */
  posteriorAlpha: z.number().gt(0).lt(1).default(0.3),
});
export type SpeculativeOptions = z.input<typeof SpeculativeOptionsSchema>;

export interface SpeculativeResult {
  tokens: number[];
  text?: string;
  finishReason: 'stop' | 'length' | 'abort';
  stopToken?: number;
  stopString?: string;
  /** vLLM-defined acceptance metrics over the drafting rounds. */
  metrics: SpecDecodeSummary;
  stats: {
    promptTokens: number;
    newTokens: number;
    /** Target forwards (prefill included). */
    targetForwards: number;
    /** Rounds decoded plainly because drafting did not pay or the drafter had no guess. */
    plainRounds: number;
    /** Wall time of the prefill, then of everything after it. */
    prefillMs: number;
    decodeMs: number;
    decodeTokensPerSecond: number;
    /** Time spent in the drafter's proposals. */
    draftMs: number;
  };
}

const WHERE = 'speculativeDecode';

/** Exponential moving averages of what a round costs and accepts, for the fallback decision. */
class Costs {
  target = 0; // ms per target forward
  draftPerToken = 0; // ms per proposed token
  alpha = 0.5; // acceptance rate per drafted token
  private n = 0;

  observe(targetMs: number, draftMs: number, drafted: number, accepted: number): void {
    const w = this.n < 4 ? 1 / (this.n + 1) : 0.25;
    this.n++;
    this.target += w * (targetMs - this.target);
    if (drafted > 0) {
      this.draftPerToken += w * (draftMs / drafted - this.draftPerToken);
      // The probability that a drafted token is accepted given its predecessors were.
      const rate = Math.min(0.999, accepted / Math.max(1, Math.min(drafted, accepted + 1)));
      this.alpha += w * (rate - this.alpha);
    }
  }

  /** Expected speed-up of drafting k tokens per round over plain decoding (Leviathan et al. Thm 3.8). */
  speedup(k: number): number {
    if (this.n < 3 || this.target <= 0) return Number.POSITIVE_INFINITY; // not measured yet
    const a = this.alpha;
    const c = this.draftPerToken / this.target;
    const tokens = a >= 0.999 ? k + 1 : (1 - a ** (k + 1)) / (1 - a);
    return tokens / (k * c + 1);
  }
}

export async function speculativeDecode(
  target: CausalLM,
  options: SpeculativeOptions,
): Promise<SpeculativeResult> {
  const o = parseOptions(SpeculativeOptionsSchema, options, WHERE);
  const V = target.config.vocabSize;
  const { prompts, batched } = resolvePrompts(o.prompt, o.tokenizer, WHERE);
  if (batched && prompts.length !== 1) {
    throw new DecodingError(
      'options',
      `${WHERE}: option 'prompt' must be one prompt (batch size 1), got ${prompts.length}`,
    );
  }
  const prompt = prompts[0];
  rejectSamplingOptions(o, WHERE);
  if (o.stopStrings?.length && !o.tokenizer) {
    throw new DecodingError(
      'options',
      `${WHERE}: option 'stopStrings' needs a 'tokenizer' to decode the text`,
    );
  }
  if (o.acceptance === 'typical' && !o.doSample) {
    throw new DecodingError(
      'options',
      `${WHERE}: option 'acceptance' 'typical' applies when sampling (set doSample: true); greedy decoding is already exact and as fast`,
    );
  }
  const stopTokens = new Set(o.stopTokens ?? defaultStopTokens(target, o.tokenizer));
  checkAllTokenIds({ ...o, prompts, stopTokens: [...stopTokens] }, V, WHERE);
  contextNeeded(target, prompt.length, o.maxNewTokens, WHERE);
  const chain = processorsFor(o, [...stopTokens]);
  // Two independent streams from the seed: one for verification, one for a sampling drafter.
  const [verifyRng, draftRng] = o.doSample ? rowGenerators(o.seed, 2) : [undefined, undefined];
  const drafter = o.drafter;
  drafter.prepare?.({ processors: chain, doSample: o.doSample, rng: draftRng, promptLength: prompt.length });

  const metrics = new SpecDecodeMetrics();
  const costs = new Costs();
  const out = new Output(prompt, o.tokenizer, o.stopStrings ?? [], o.skipSpecialTokens, stopTokens);
  const longestRound = Math.max(o.numDraftTokens, o.maxDraftTokens) + 1;
  const cache = target.createCache({
    maxLength: Math.min(target.config.contextLength, prompt.length + o.maxNewTokens + longestRound),
  });
  const stats = { targetForwards: 0, plainRounds: 0, draftMs: 0 };
  const t0 = performance.now();
  let prefillMs = 0;
  try {
    // The cache holds everything but the last context token, which each round feeds first.
    const context = [...prompt];
    let hidden: Float32Array | null = null;
    if (prompt.length > 1) {
      const ids = tensor(Int32Array.from(prompt.slice(0, -1)), [1, prompt.length - 1], { dtype: 'i32' });
      const r = await target.forward({
        tokens: ids,
        cache,
        logitsToKeep: 1,
        outputHiddenStates: !!drafter.wantsHidden,
      });
      ids.dispose();
      r.logits.dispose();
      if (r.hiddenStates) hidden = await lastRow(r.hiddenStates);
      r.hiddenStates?.dispose();
      stats.targetForwards++;
    }
    prefillMs = performance.now() - t0;
    let k = o.numDraftTokens;
    let plainLeft = 0;
    while (!out.finished) {
      if (o.signal?.aborted) {
        out.end('abort');
        break;
      }
      const remaining = o.maxNewTokens - out.tokens.length;
      // Drafting pays only with room for a draft and the bonus token within maxNewTokens.
      let want = plainLeft > 0 || remaining < 2 ? 0 : k;
      if (want > 0 && o.fallback && costs.speedup(want) < 1) {
        plainLeft = o.fallbackSteps;
        want = 0;
      }
      if (plainLeft > 0) plainLeft--;
      if (hidden && drafter.observeHidden) drafter.observeHidden(hidden);
      const td = performance.now();
      // A round emits at most depth + 1 tokens: keep what fits maxNewTokens and the cache's slots.
      const draft = clipDraft(
        want > 0 ? await drafter.propose(context, want) : { tokens: [] },
        remaining - 1,
        cache.maxLength - context.length,
      );
      const draftMs = performance.now() - td;
      stats.draftMs += draftMs;
      const n = draft.tokens.length;
      if (n === 0) stats.plainRounds++;
      const tree = draft.parents && !isChain(draft.parents) ? draft.parents : null;
      const extra = draft.extra?.tokens.length ? draft.extra : null;
      // Target forward over [t, drafts, extra]: rows 0..n are verified, the extra rows are not.
      const P = cache.length;
      const tv = performance.now();
      const fed = [context[context.length - 1], ...draft.tokens, ...(extra?.tokens ?? [])];
      const ids = tensor(Int32Array.from(fed), [1, fed.length], { dtype: 'i32' });
      let attention: ReturnType<typeof tensor> | undefined;
      let positions: ReturnType<typeof tensor> | undefined;
      if (tree || extra) {
        const m = treeMask(tree ?? draft.tokens.map((_, i) => i - 1), P, extra);
        attention = tensor(m.mask, [1, 1, fed.length, P + fed.length], { dtype: 'bool' });
        positions = tensor(m.positions, [1, fed.length], { dtype: 'i32' });
      }
      const r = await target.forward({
        tokens: ids,
        cache,
        attention,
        positions,
        outputHiddenStates: !!drafter.wantsHidden,
      });
      ids.dispose();
      attention?.dispose();
      positions?.dispose();
      stats.targetForwards++;
      const data = Float32Array.from((await r.logits.data()) as Float32Array);
      r.logits.dispose();
      if (extra && drafter.observeExtra) {
        const base = (n + 1) * V;
        drafter.observeExtra(extra.tokens.map((_, e) => data.subarray(base + e * V, base + (e + 1) * V)));
      }
      // Each row's context: the sequence up to its node (chain: the previous drafts; tree: the path).
      const rows: Float32Array[] = [];
      for (let i = 0; i <= n; i++) {
        const row = data.subarray(i * V, (i + 1) * V);
        const path = i === 0 ? [] : tree ? pathTokens(draft, tree, i - 1) : draft.tokens.slice(0, i);
        applyProcessors(chain, row, { tokens: [...context, ...path], promptLength: prompt.length, row: 0 });
        rows.push(row);
      }
      const probs = o.doSample ? rows.map((row) => softmax(row, WHERE)) : rows;
      let accepted: number;
      let emitted: number[];
      let keptNodes: number[] | null = null;
      if (o.acceptance === 'typical' && n > 0) {
        const v = typicalAcceptance({
          tokens: draft.tokens,
          parents: draft.parents ?? draft.tokens.map((_, i) => i - 1),
          probs,
          rng: verifyRng as NonNullable<typeof verifyRng>,
          posteriorThreshold: o.posteriorThreshold,
          posteriorAlpha: o.posteriorAlpha,
        });
        accepted = v.accepted;
        emitted = v.tokens;
        if (tree) keptNodes = v.path;
      } else if (tree && o.doSample && draft.probs) {
        const v = verifyMultiDraftTree({
          tokens: draft.tokens,
          parents: tree,
          draftProbs: draft.probs,
          targetProbs: probs,
          scheme: draft.scheme ?? 'iid',
          rng: verifyRng as NonNullable<typeof verifyRng>,
        });
        accepted = v.accepted;
        emitted = v.tokens;
        keptNodes = v.path;
      } else if (tree) {
        const v = treeVerify({
          mode: o.doSample ? 'ngram' : 'greedy',
          tree: { tokens: draft.tokens, parents: tree },
          targetProbs: probs,
          rng: verifyRng,
        });
        accepted = v.accepted;
        emitted = v.tokens;
        keptNodes = v.path;
      } else {
        const mode = !o.doSample ? 'greedy' : draft.probs ? 'sampled' : 'ngram';
        const v = verify({
          mode,
          draftTokens: draft.tokens,
          targetProbs: probs,
          draftProbs: mode === 'sampled' ? draft.probs : undefined,
          rng: mode === 'greedy' ? undefined : verifyRng,
        });
        accepted = v.accepted;
        emitted = v.tokens;
      }
      const targetMs = performance.now() - tv;
      // Keep t and the accepted drafts in the cache; the last emitted token is fed next round.
      if (keptNodes)
        cache.keepPositions(
          P + 1,
          keptNodes.map((i) => P + 1 + i),
        );
      else cache.truncate(P + 1 + accepted);
      if (r.hiddenStates) {
        const slot = keptNodes ? (keptNodes.length ? keptNodes[keptNodes.length - 1] + 1 : 0) : accepted;
        hidden = await rowOf(r.hiddenStates, slot);
        r.hiddenStates.dispose();
      }
      if (n > 0) {
        metrics.record({ drafted: n, accepted });
        costs.observe(targetMs, draftMs, n, accepted);
        if (o.draftLength === 'heuristic') {
          k = accepted === n ? Math.min(o.maxDraftTokens, k + 2) : Math.max(1, k - 1);
        }
      }
      const committed: number[] = [];
      for (const t of emitted) {
        committed.push(t);
        context.push(t);
        if (out.push(t) || out.tokens.length >= o.maxNewTokens) break;
      }
      drafter.update?.(committed);
      if (!out.finished && out.tokens.length >= o.maxNewTokens) out.end('length');
    }
  } finally {
    cache.dispose();
    drafter.release?.();
    for (const p of chain) p.release?.();
  }
  const decodeMs = performance.now() - t0 - prefillMs;
  return {
    ...out.result(),
    metrics: metrics.summary(),
    stats: {
      promptTokens: prompt.length,
      newTokens: out.tokens.length,
      targetForwards: stats.targetForwards,
      plainRounds: stats.plainRounds,
      prefillMs,
      decodeMs,
      decodeTokensPerSecond: decodeMs > 0 ? (out.tokens.length / decodeMs) * 1000 : 0,
      draftMs: stats.draftMs,
    },
  };
}

/**
 * Mask [S, P + S] and positions of one round's forward: t at P (the root), the draft nodes below it
 * (ancestors only), then the extra tokens, which see the context, t and what their `attends` lists.
 */
function treeMask(
  parents: readonly number[],
  P: number,
  extra: Draft['extra'] | null,
): { mask: Uint8Array; positions: Int32Array } {
  const withRoot = [-1, ...parents.map((p) => p + 1)];
  const nTree = withRoot.length;
  const nExtra = extra?.tokens.length ?? 0;
  const width = P + nTree + nExtra;
  const ta = treeAttention(withRoot, P);
  const mask = new Uint8Array((nTree + nExtra) * width);
  const positions = new Int32Array(nTree + nExtra);
  for (let i = 0; i < nTree; i++) {
    mask.set(ta.mask.subarray(i * (P + nTree), (i + 1) * (P + nTree)), i * width);
    positions[i] = ta.positions[i];
  }
  for (let e = 0; e < nExtra; e++) {
    const row = (nTree + e) * width;
    mask.fill(1, row, row + P + 1); // the context and t
    for (const a of extra?.attends[e] ?? []) mask[row + P + nTree + a] = 1;
    positions[nTree + e] = P + (extra?.positions[e] ?? 0);
  }
  return { mask, positions };
}

/**
 * The part of a draft a round can use: nodes at depth < maxDepth (deeper ones could only emit tokens
 * past maxNewTokens), at most `slots` positions with the extra tokens (dropped first), parents kept
 * before children so the tree stays valid.
 */
function clipDraft(draft: Draft, maxDepth: number, slots: number): Draft {
  const extraLen = draft.extra?.tokens.length ?? 0;
  const extra = extraLen > 0 && draft.tokens.length + extraLen <= slots ? draft.extra : undefined;
  const room = Math.min(slots - (extra ? extraLen : 0), draft.tokens.length);
  const parents = draft.parents ?? draft.tokens.map((_, i) => i - 1);
  const depth: number[] = [];
  const index = new Map<number, number>(); // old node -> new node
  const keep: number[] = [];
  for (let i = 0; i < parents.length && keep.length < room; i++) {
    const p = parents[i];
    depth[i] = p < 0 ? 0 : depth[p] + 1;
    if (depth[i] >= maxDepth || (p >= 0 && !index.has(p))) continue;
    index.set(i, keep.length);
    keep.push(i);
  }
  if (keep.length === draft.tokens.length && extra === draft.extra) return draft;
  return {
    tokens: keep.map((i) => draft.tokens[i]),
    ...(draft.parents
      ? { parents: keep.map((i) => (parents[i] < 0 ? -1 : (index.get(parents[i]) as number))) }
      : {}),
    ...(draft.probs ? { probs: keep.map((i) => (draft.probs as NonNullable<Draft['probs']>)[i]) } : {}),
    ...(draft.scheme ? { scheme: draft.scheme } : {}),
    ...(extra ? { extra } : {}),
  };
}

/** Whether parents describe a plain chain [-1, 0, 1, ...]. */
function isChain(parents: readonly number[]): boolean {
  return parents.every((p, i) => p === i - 1);
}

/** Tokens from the root's child down to node `i` of a tree draft. */
function pathTokens(draft: Draft, parents: readonly number[], i: number): number[] {
  const path: number[] = [];
  for (let n = i; n >= 0; n = parents[n]) path.push(draft.tokens[n]);
  return path.reverse();
}

async function lastRow(hidden: ReturnType<typeof tensor>): Promise<Float32Array> {
  return rowOf(hidden, hidden.shape[1] - 1);
}

async function rowOf(hidden: ReturnType<typeof tensor>, s: number): Promise<Float32Array> {
  const H = hidden.shape[2];
  const view = hidden.slice(1, s, s + 1);
  const row = Float32Array.from((await view.data()) as Float32Array).subarray(0, H);
  view.dispose();
  return row;
}

/** The generated tokens and text, with stop tokens and stop strings. */
class Output {
  readonly tokens: number[] = [];
  finished = false;
  private finish: { finishReason: 'stop' | 'length' | 'abort'; stopToken?: number; stopString?: string } = {
    finishReason: 'length',
  };
  private text = '';
  private readonly detok?: IncrementalDetokenizer;
  private readonly stops?: StopStrings;

  constructor(
    prompt: number[],
    tokenizer: Tokenizer | undefined,
    stopStrings: readonly string[],
    skipSpecialTokens: boolean,
    private readonly stopTokens: Set<number>,
  ) {
    if (tokenizer) {
      this.detok = new IncrementalDetokenizer(tokenizer, prompt, skipSpecialTokens);
      this.stops = new StopStrings(stopStrings);
    }
  }

  /** Adds a token; true when it ended the generation (stop token or stop string). */
  push(token: number): boolean {
    this.tokens.push(token);
    if (this.detok && this.stops) {
      const r = this.stops.push(this.detok.push(token));
      this.text += r.text;
      if (r.stop) {
        this.finished = true;
        this.finish = { finishReason: 'stop', stopString: r.stop };
        return true;
      }
    }
    if (this.stopTokens.has(token)) {
      this.end('stop', token);
      return true;
    }
    return false;
  }

  end(reason: 'stop' | 'length' | 'abort', stopToken?: number): void {
    if (this.finished) return;
    this.finished = true;
    let stopString: string | undefined;
    if (this.detok && this.stops) {
      const tail = this.stops.push(this.detok.flush());
      stopString = tail.stop;
      this.text += tail.text + (stopString ? '' : this.stops.finish());
    }
    this.finish = stopString ? { finishReason: 'stop', stopString } : { finishReason: reason, stopToken };
  }

  result(): Pick<SpeculativeResult, 'tokens' | 'text' | 'finishReason' | 'stopToken' | 'stopString'> {
    return { tokens: this.tokens, ...(this.detok ? { text: this.text } : {}), ...this.finish };
  }
}
