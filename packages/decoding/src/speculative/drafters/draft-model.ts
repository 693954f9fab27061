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
 */
import { type Philox, tensor } from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';
import { softmax } from '../../processors/probabilities';
import { applyProcessors } from '../../processors/processor';
import { argmax } from '../../sampling/select';
import { inputError } from '../errors';
import type { Draft, Drafter, DraftSetup } from './drafter';

export class DraftModelDrafter implements Drafter {
  private cache: KVCache | null = null;
  /** The tokens whose keys and values the cache holds, in order. */
  private fed: number[] = [];
  private setup: DraftSetup = { processors: [], doSample: false, promptLength: 0 };

  /** `model` must share the target's tokenizer (same vocabulary size, same ids). */
  constructor(readonly model: CausalLM) {}

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
    const { processors, doSample, rng } = this.setup;
    if (doSample && !rng) throw inputError('DraftModelDrafter', 'sampling needs the rng of prepare()');
    this.cache ??= this.model.createCache();
    const cache = this.cache;
    // Keep the longest cached prefix of `context` (at least one token must be fed for logits).
    let keep = 0;
    const limit = Math.min(this.fed.length, context.length - 1);
    while (keep < limit && this.fed[keep] === context[keep]) keep++;
    if (cache.length > keep) cache.truncate(keep);
    this.fed.length = keep;
    const room = this.model.config.contextLength - context.length;
    const steps = Math.min(k, room);
    if (steps <= 0) return { tokens: [] };
    const seq = [...context];
    const tokens: number[] = [];
    const probs: Float64Array[] = [];
    let input = context.slice(keep);
    for (let i = 0; i < steps; i++) {
      const ids = tensor(Int32Array.from(input), [1, input.length], { dtype: 'i32' });
      const { logits } = await this.model.forward({ tokens: ids, cache, logitsToKeep: 1 });
      ids.dispose();
      this.fed.push(...input);
      const row = Float32Array.from((await logits.data()) as Float32Array);
      logits.dispose();
      applyProcessors(processors, row, { tokens: seq, promptLength: this.setup.promptLength, row: 0 });
      let next: number;
      if (doSample) {
        const q = softmax(row, 'DraftModelDrafter');
        next = (rng as Philox).categorical(q, { probs: true })[0];
        probs.push(q);
      } else {
        next = argmax(row, 'DraftModelDrafter');
      }
      tokens.push(next);
      seq.push(next);
      input = [next];
    }
    return doSample ? { tokens, probs } : { tokens };
  }

  release(): void {
    this.reset();
  }
}
