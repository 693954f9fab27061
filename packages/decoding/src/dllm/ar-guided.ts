/**
 * @file Guidance of masked diffusion decoding by an autoregressive model (the "Guided Diffusion" of
 * Hu, Meng et al., "Accelerating Diffusion Language Model Inference via Efficient KV Caching and
 * Guided Diffusion", arXiv 2505.21467, also titled FlashDLM: a lightweight pretrained AR model that
 * shares the tokenizer supervises which of the diffusion model's predictions are unmasked, cutting
 * the number of denoising steps; the paper reports up to 34x end-to-end with its KV cache, FreeCache).
 *
 * Our rule, a speculative-decoding style check (Leviathan et al., arXiv 2211.17192, greedy case):
 * at each step the diffusion model proposes a token for every masked position of the current block
 * (its prediction, llada.ts). The AR model reads the committed prefix with the proposals in place of
 * the masks, in one causal forward, and gives its greedy (argmax) next token at every position of the
 * block from the first masked one. Going left to right from that position, positions already
 * committed are skipped and a masked position is accepted while the proposal equals the AR's token
 * ('ar-guided'). At the first disagreement, `arFallback`:
 * - 'ar' (default): the AR's token is committed there ('ar-correction'; it is the AR's greedy choice
 *   given everything committed before it), so each step commits at least one token and, with greedy
 *   proposals, the output is the AR model's greedy output whatever the diffusion model proposes;
 * - 'dllm': nothing more is committed, unless the run is empty, in which case the diffusion model's
 *   most confident masked position of the block is ('low-confidence').
 * The paper's own statement of the rule is not in our anchors (kv-and-dllm-anchors.md has no entry
 * for it and the stored copy is the abstract), so this is our reading; FreeCache (reusing the stable
 * KV of the clean prefix) corresponds to the `cache` option's prefix / dual caches, which compose.
 *
 * The AR model's KV cache holds the committed prefix across steps: a step feeds only the tokens after
 * the cached ones (the last committed tokens and the block's proposals), and afterwards the cache is
 * cut back to the longest prefix whose fed tokens are still the committed ones, and to before the
 * first masked position, whose logits the next step needs.
 */
import { tensor } from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';

export type ArGuidedReason = 'ar-guided' | 'ar-correction' | 'low-confidence';

export interface ArGuidedPick {
  position: number;
  token: number;
  reason: ArGuidedReason;
}

export type ArFallback = 'ar' | 'dllm';

/**
 * The commits of one step from the AR model's greedy tokens. `x` is the sequence (masks undecided),
 * `proposals[p]` the diffusion model's token at masked p, `arTokens[p]` the AR's argmax for position
 * p given the fed sequence (positions < `from` unused); `confidence[p]` ranks the 'dllm' fallback.
 * Scans [from, hi).
 */
export function arGuidedCommits(
  x: Int32Array,
  mask: number,
  from: number,
  hi: number,
  proposals: ReadonlyMap<number, { token: number; confidence: number }>,
  arTokens: ReadonlyMap<number, number>,
  fallback: ArFallback,
): ArGuidedPick[] {
  const picks: ArGuidedPick[] = [];
  for (let p = from; p < hi; p++) {
    if (x[p] !== mask) continue;
    const prop = proposals.get(p);
    const ar = arTokens.get(p);
    if (prop === undefined || ar === undefined) break;
    if (prop.token === ar) {
      picks.push({ position: p, token: ar, reason: 'ar-guided' });
      continue;
    }
    if (fallback === 'ar') picks.push({ position: p, token: ar, reason: 'ar-correction' });
    break;
  }
  if (picks.length > 0) return picks;
  // fallback 'dllm' with an empty run: the most confident masked position (ties: the lower one).
  let best = -1;
  let bestConf = Number.NEGATIVE_INFINITY;
  for (const [p, prop] of proposals) {
    if (prop.confidence > bestConf || (prop.confidence === bestConf && p < best)) {
      best = p;
      bestConf = prop.confidence;
    }
  }
  return best < 0
    ? []
    : [{ position: best, token: (proposals.get(best) as { token: number }).token, reason: 'low-confidence' }];
}

/** The AR model of one row with its KV cache of the committed prefix. */
export class ArGuide {
  private readonly cache: KVCache;
  /** Tokens of the cache's positions [0, cache.length). */
  private fed: number[] = [];
  forwards = 0;

  constructor(
    private readonly ar: CausalLM,
    length: number,
  ) {
    this.cache = ar.createCache({ maxLength: length });
  }

  /**
   * The AR's argmax token at every position of [from, hi) for the sequence `y` (the committed tokens
   * with the proposals in place of the masks). Needs from >= 1.
   */
  async greedy(y: Int32Array, from: number, hi: number): Promise<Map<number, number>> {
    let c = this.cache.length;
    if (c > from - 1) {
      this.cache.truncate(from - 1);
      this.fed.length = from - 1;
      c = from - 1;
    }
    // Logits of positions q in [from - 1, hi - 1) predict the tokens at q + 1.
    const feed = Array.from(y.subarray(c, hi - 1));
    const ids = tensor(Int32Array.from(feed), [1, feed.length], { dtype: 'i32' });
    const keep = hi - from;
    const out = await this.ar.forward({ tokens: ids, cache: this.cache, logitsToKeep: keep });
    ids.dispose();
    this.forwards++;
    this.fed.push(...feed);
    const data = (await out.logits.data()) as Float32Array;
    out.logits.dispose();
    const V = this.ar.config.vocabSize;
    const res = new Map<number, number>();
    for (let k = 0; k < keep; k++) {
      const row = data.subarray(k * V, (k + 1) * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
      res.set(from + k, best);
    }
    return res;
  }

  /**
   * After the step's commits: keeps in the cache the longest prefix whose fed tokens equal `x`'s
   * (committed) tokens and that ends before the first masked position `firstMasked` (its logits, at
   * firstMasked - 1, are the next step's first).
   */
  settle(x: Int32Array, firstMasked: number): void {
    let k = 0;
    const n = Math.min(this.fed.length, firstMasked - 1);
    while (k < n && this.fed[k] === x[k]) k++;
    if (k < this.cache.length) this.cache.truncate(k);
    this.fed.length = k;
  }

  dispose(): void {
    this.cache.dispose();
  }
}
