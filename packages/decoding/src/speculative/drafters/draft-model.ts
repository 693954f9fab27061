/**
 * @file The draft-model drafter of speculative decoding (Leviathan et al., arXiv 2211.17192; Chen
 * et al., arXiv 2302.01318): a small CausalLM with the target's vocabulary proposes K tokens
 * autoregressively through its own KV cache.
 *
 * What keeps it exact (decoding-anchors.md §2.1): the draft sees the same logits processors as the
 * target (Hugging Face PR #28166) and samples whenever the target samples, from the processed
 * distribution it returns as `probs` (PR #33534 reverted forced-greedy drafts); a greedy run drafts
 * the processed argmax.
 *
 * Cache bookkeeping: the cache holds a prefix of the sequence it was last fed. On each proposal it
 * keeps the longest prefix shared with the new context (a rejected draft is cut off with an O(1)
 * truncate), feeds the rest, and drafts; the last draft token is never fed (its continuation is not
 * needed), so a fully accepted round costs K draft forwards, not K + 1.
 *
 * Multi-draft (`branches` > 1): several first tokens (drawn without replacement by default, or i.i.d.
 * or by Hu et al.'s greedy scheme, arXiv 2502.18779) each continued as a chain, returned as a tree
 * whose siblings carry their parent's distribution; the loop verifies it with
 * multi-draft/tree-multi-draft.ts, which keeps the target distribution.
 */
import { type Philox, tensor } from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';
import { z } from 'zod';
import { softmax } from '../../processors/probabilities';
import { applyProcessors } from '../../processors/processor';
import { argmax } from '../../sampling/select';
import { inputError, parseOptions } from '../errors';
import { sampleDrafts, tokensByProbability } from '../multi-draft/draft-sampling';
import type { Draft, Drafter, DraftSetup } from './drafter';

const DraftModelOptions = z.strictObject({
  /**
   * Drafts per first position (multi-draft): the proposal becomes a tree of `branches` chains that
   * share the context (default 1: a single chain). Greedy runs take the top tokens.
   */
  branches: z.number().int().min(1).max(16).default(1),
  /** How a sampling run draws the branches' first tokens (multi-draft/draft-sampling.ts). */
  scheme: z.enum(['iid', 'without-replacement', 'greedy']).default('without-replacement'),
});
export type DraftModelOptions = z.input<typeof DraftModelOptions>;

export class DraftModelDrafter implements Drafter {
  private cache: KVCache | null = null;
  /** The tokens whose keys and values the cache holds, in order. */
  private fed: number[] = [];
  private setup: DraftSetup = { processors: [], doSample: false, promptLength: 0 };
  readonly options: z.output<typeof DraftModelOptions>;

  /** `model` must share the target's tokenizer (same vocabulary size, same ids). */
  constructor(
    readonly model: CausalLM,
    options: DraftModelOptions = {},
  ) {
    this.options = parseOptions(DraftModelOptions, options, 'DraftModelDrafter');
  }

  prepare(setup: DraftSetup): void {
    this.setup = setup;
    this.reset();
  }

  reset(): void {
    this.cache?.dispose();
    this.cache = null;
    this.fed = [];
  }

  async propose(context: readonly number[], k: number): Promise<Draft> {
    if (k <= 0 || context.length === 0) return { tokens: [] };
    const { doSample, rng } = this.setup;
    if (doSample && !rng) throw inputError('DraftModelDrafter', 'sampling needs the rng of prepare()');
    const room = this.model.config.contextLength - context.length;
    const branches = Math.min(this.options.branches, k);
    const depth = Math.min(Math.floor(k / branches), room);
    if (depth <= 0) return { tokens: [] };
    const first = await this.next(context);
    if (branches === 1) {
      // One chain: keep feeding the drafted tokens.
      const tokens: number[] = [];
      const probs: Float64Array[] = [];
      const seq = [...context];
      let row = first;
      for (let i = 0; i < depth; i++) {
        const x = this.choose(row);
        tokens.push(x);
        probs.push(row.q);
        seq.push(x);
        if (i + 1 < depth) row = await this.next(seq);
      }
      return doSample ? { tokens, probs } : { tokens };
    }
    // Several first tokens, each continued as a chain from the shared context.
    const firsts = doSample
      ? sampleDrafts(first.q, branches, rng as Philox, this.options.scheme)
      : tokensByProbability(first.logits).slice(0, branches);
    const tokens: number[] = [];
    const parents: number[] = [];
    const probs: Float64Array[] = [];
    for (const x of firsts) {
      const seq = [...context, x];
      tokens.push(x);
      parents.push(-1);
      probs.push(first.q);
      for (let d = 1; d < depth; d++) {
        const row = await this.next(seq);
        const y = this.choose(row);
        parents.push(tokens.length - 1);
        tokens.push(y);
        probs.push(row.q);
        seq.push(y);
      }
    }
    return doSample ? { tokens, parents, probs, scheme: this.options.scheme } : { tokens, parents };
  }

  release(): void {
    this.reset();
  }

  /** The processed logits (and, when sampling, the distribution) after `seq`, through the cache. */
  private async next(seq: readonly number[]): Promise<{ logits: Float32Array; q: Float64Array }> {
    this.cache ??= this.model.createCache();
    const cache = this.cache;
    // Keep the longest cached prefix of `seq` (at least one token must be fed for logits).
    let keep = 0;
    const limit = Math.min(this.fed.length, seq.length - 1);
    while (keep < limit && this.fed[keep] === seq[keep]) keep++;
    if (cache.length > keep) cache.truncate(keep);
    this.fed.length = keep;
    const input = seq.slice(keep);
    const ids = tensor(Int32Array.from(input), [1, input.length], { dtype: 'i32' });
    const { logits } = await this.model.forward({ tokens: ids, cache, logitsToKeep: 1 });
    ids.dispose();
    this.fed.push(...input);
    const row = Float32Array.from((await logits.data()) as Float32Array);
    logits.dispose();
    applyProcessors(this.setup.processors, row, {
      tokens: seq,
      promptLength: this.setup.promptLength,
      row: 0,
    });
    return { logits: row, q: this.setup.doSample ? softmax(row, 'DraftModelDrafter') : EMPTY };
  }

  private choose(row: { logits: Float32Array; q: Float64Array }): number {
    return this.setup.doSample
      ? (this.setup.rng as Philox).categorical(row.q, { probs: true })[0]
      : argmax(row.logits, 'DraftModelDrafter');
  }
}

const EMPTY = new Float64Array(0);
