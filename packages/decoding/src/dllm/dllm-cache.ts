/**
 * @file dLLM-Cache: adaptive feature caching for masked diffusion LMs (Liu et al., "dLLM-Cache:
 * Accelerating Diffusion Large Language Models with Adaptive Caching", arXiv 2506.06295;
 * maomaocun/dLLM-cache dllm_cache/hooks/cache_hook_LLaDA.py). The prompt's features barely move
 * during decoding and the response's move slowly, except at a few tokens:
 *
 * - step s (0-based over the row's steps) refreshes the prompt when s mod K_p = 0 and the
 *   response when s mod K_r = 0 (`prompt_interval_steps`, `gen_interval_steps`; demo defaults
 *   K_p = 100, K_r = 7);
 * - between response refreshes, "V-verify": the n = floor(rho * |response|) response tokens
 *   (`transfer_ratio` rho, default 0.25) whose value vectors have the LOWEST cosine similarity to
 *   their cached ones are recomputed; every other response token reuses its cached features.
 *
 * Here (whole-model forwards only; the MaskedDiffusionLM contract has no per-layer hook):
 * - the cached "features" of a position are its keys/values in every layer plus its logits (the
 *   output of its cached last-layer features);
 * - both refreshes: one full forward; response refresh alone: the response forwarded against the
 *   cached prompt K/V (the reference's `refresh_gen and not refresh_prompt` branch, exactly);
 *   prompt refresh alone: the prompt plus the selected response tokens forwarded against the
 *   cached rest of the response; neither: the selected response tokens forwarded against the
 *   cached K/V of everything else (the dual cache's mechanism); the logits of every other response
 *   position are the cached ones;
 * - APPROXIMATION of V-verify: the reference selects per layer, with the value vectors of that
 *   layer's input; here one set is selected per step, by the value similarity at the FIRST layer,
 *   where V = W_v RMSNorm(embed(token)) depends on the token alone: a position whose token changed
 *   since its entry was computed (a decoded mask) has similarity < 1, every other exactly 1. So the
 *   changed positions come first, and the ties at similarity 1 go to the current block's masked
 *   positions (whose predictions the step reads), then by distance to the block.
 * K_p = K_r = 1 makes every step a full forward, which reproduces the uncached decoding exactly.
 */
import type { DiffusionAttention, MaskedDiffusionLM } from '@hasten/models';
import { PositionCache, range, type StepForwarder } from './position-cache';

export interface DllmCacheSettings {
  /** K_p: refresh the prompt every this many steps (default 100). */
  promptRefreshEvery: number;
  /** K_r: refresh the response every this many steps (default 7). */
  responseRefreshEvery: number;
  /** rho: fraction of the response recomputed between refreshes (default 0.25). */
  refreshRatio: number;
}

/** The demo defaults of maomaocun/dLLM-cache (demo_LLaDA.py). */
export const DLLM_CACHE_DEFAULTS: DllmCacheSettings = {
  promptRefreshEvery: 100,
  responseRefreshEvery: 7,
  refreshRatio: 0.25,
};

/**
 * The n response positions V-verify recomputes (see the file comment): positions whose token
 * changed since their entry first (in position order), then the masked positions of [lo, hi), then
 * the rest by distance to [lo, hi) (ties: the left one). `changed(p)` / `masked(p)` describe p.
 */
export function verifySelection(
  response: readonly number[],
  n: number,
  lo: number,
  hi: number,
  changed: (p: number) => boolean,
  masked: (p: number) => boolean,
): number[] {
  const dist = (p: number) => (p < lo ? lo - p : p >= hi ? p - hi + 1 : 0);
  const rank = (p: number) => (changed(p) ? 0 : masked(p) && dist(p) === 0 ? 1 : 2);
  return [...response]
    .sort((a, b) => rank(a) - rank(b) || (rank(a) === 2 ? dist(a) - dist(b) : 0) || a - b)
    .slice(0, n)
    .sort((a, b) => a - b);
}

export class DllmCacheForwarder implements StepForwarder {
  private readonly pc: PositionCache;
  /** Cached logits of the response positions [promptLength, length), [genLength, V]. */
  private readonly feat: Float32Array;
  private step = 0;

  constructor(
    private readonly model: MaskedDiffusionLM,
    attention: DiffusionAttention,
    length: number,
    private readonly promptLength: number,
    private readonly s: DllmCacheSettings = DLLM_CACHE_DEFAULTS,
  ) {
    this.pc = new PositionCache(model, attention, length);
    this.feat = new Float32Array((length - promptLength) * model.config.vocabSize);
  }

  get forwards(): number {
    return this.pc.forwards;
  }

  get positionsForwarded(): number {
    return this.pc.positionsForwarded;
  }

  async blockLogits(x: Int32Array, lo: number, hi: number, _stepInBlock: number): Promise<Float32Array> {
    const V = this.model.config.vocabSize;
    const P = this.promptLength;
    const L = this.pc.length;
    const mask = this.model.maskTokenId;
    const s = this.step++;
    const prompt = s % this.s.promptRefreshEvery === 0;
    const response = s % this.s.responseRefreshEvery === 0;
    const isPrompt = (p: number) => p < P;
    let recompute: number[];
    if (prompt && response) {
      this.pc.clear();
      recompute = range(P, L);
    } else if (response) {
      this.pc.drop((p) => !isPrompt(p));
      recompute = range(P, L);
    } else {
      const n = Math.floor(this.s.refreshRatio * (L - P));
      recompute = verifySelection(
        range(P, L),
        n,
        lo,
        hi,
        (p) => this.pc.cachedToken(p) !== x[p],
        (p) => x[p] === mask,
      );
      const chosen = new Set(recompute);
      this.pc.drop((p) => chosen.has(p) || (prompt && isPrompt(p)));
    }
    const forwarded = [...range(0, P).filter((p) => !this.pc.has(p)), ...recompute];
    if (forwarded.length > 0) {
      const { logits } = await this.pc.forward(x, forwarded);
      forwarded.forEach((p, i) => {
        if (p >= P) this.feat.set(logits.subarray(i * V, (i + 1) * V), (p - P) * V);
      });
    }
    return this.feat.slice((lo - P) * V, (hi - P) * V);
  }

  dispose(): void {
    this.pc.dispose();
  }
}
