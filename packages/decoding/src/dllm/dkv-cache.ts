/**
 * @file dKV-Cache-Decode: delayed KV caching for masked diffusion LMs (Ma et al., "dKV-Cache: The
 * Cache for Diffusion Language Models", arXiv 2505.15781; horseee/dKV-Cache
 * generation_utils/llada_dkv_cache_decode.py). Under bidirectional attention a masked position's
 * keys/values keep moving while it is masked, and settle once its token is decoded; so a token's
 * K/V are cached only AFTER it is decoded, and one step late: a token decoded at step t is
 * forwarded once more at step t + 1 with its decoded identity, and the K/V of that forward are
 * the ones cached (the "delayed" cache; the reference code swaps `prv_transfer_idx` /
 * `cur_transfer_index` to the same effect).
 *
 * Rule, for the step of block [lo, hi) with cached set C:
 * - refresh step (the block's first step, and every `refreshEvery`-th step of a block; the
 *   reference's `cache_reloading_step`, 8 for LLaDA in its README): C = {} and the whole sequence
 *   is forwarded;
 * - otherwise forward F = every position not in C (all masked positions, including those of later
 *   blocks, and the tokens decoded at the previous step) against C;
 * - after the forward, C gains every position of F whose input token was not the mask (decoded
 *   before this step); masked positions are never cached.
 * Cached entries go stale as the rest of the sequence changes (the approximation); `refreshEvery`
 * = 1 makes every step a full forward, which reproduces the uncached decoding exactly.
 *
 * Not here: dKV-Cache-Greedy (caches at once with a reduced lifespan and a window around the
 * decoded tokens; its reference supports random remasking only).
 */
import type { DiffusionAttention, MaskedDiffusionLM } from '@hasten/models';
import { blockRows, PositionCache, range, type StepForwarder } from './position-cache';

/** dKV-Cache's `cache_reloading_step` for LLaDA (README example). */
export const DKV_REFRESH_EVERY = 8;

export class DkvCacheForwarder implements StepForwarder {
  private readonly pc: PositionCache;

  constructor(
    private readonly model: MaskedDiffusionLM,
    attention: DiffusionAttention,
    length: number,
    private readonly refreshEvery: number = DKV_REFRESH_EVERY,
  ) {
    this.pc = new PositionCache(model, attention, length);
  }

  get forwards(): number {
    return this.pc.forwards;
  }

  get positionsForwarded(): number {
    return this.pc.positionsForwarded;
  }

  async blockLogits(x: Int32Array, lo: number, hi: number, stepInBlock: number): Promise<Float32Array> {
    const mask = this.model.maskTokenId;
    const L = this.pc.length;
    if (stepInBlock % this.refreshEvery === 0) this.pc.clear();
    const forwarded = range(0, L).filter((p) => !this.pc.has(p));
    const { logits } = await this.pc.forward(x, forwarded);
    // The positions still masked at this forward are never cached: their K/V are still moving.
    this.pc.drop((p) => x[p] === mask);
    return blockRows(logits, forwarded, lo, hi, this.model.config.vocabSize);
  }

  dispose(): void {
    this.pc.dispose();
  }
}
