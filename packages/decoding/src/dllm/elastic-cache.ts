/**
 * @file Elastic-Cache: attention-aware, adaptive KV refresh for masked diffusion LMs (Nguyen-Tri,
 * Ranjan, Shen, "Attention Is All You Need for KV Cache in Diffusion LLMs", arXiv 2510.14973).
 * Its observations: distant MASK tokens act mostly as a length bias, so their K/V can be cached
 * beyond the active window; KV drift grows with depth; the most-attended token drifts least, so its
 * drift is a conservative test of the whole cache. Rule, per step of block [lo, hi):
 *
 * - WHERE (sliding window): the queries of a cached step are Q = W ∪ D, with W the `window` (beta)
 *   leftmost masked positions of the block and D the positions decoded since their entry was
 *   computed (the last step's commits); only Q is forwarded, against the cached K/V of every other
 *   position (prompt, decoded tokens, off-window masks), and Q's K/V replace their cached ones.
 * - WHEN (attention-aware drift test): at layer `driftLayer` (default the last one, where drift is
 *   largest), A_h = softmax(q k^T / sqrt(d)) of head h over all keys. The tracked tokens T of a step
 *   are the most-attended key of each query (argmax_j of the head-mean of A); their attention
 *   profile is a_t[h, j] = mean over the queries of A_h[:, j], j in T. At the next cached step the
 *   same profile is measured over the previous step's T and sigma = cos(a_{t-1}, a_t); when
 *   sigma < gamma (`driftThreshold`) the cache is stale: the step is redone as a full refresh.
 *   (The first cached step after a refresh only records the profile.)
 *   A refresh also happens at each block start (and every `refreshEvery`-th step of a block when
 *   set; 1 reproduces the uncached decoding exactly).
 *
 * APPROXIMATIONS: the paper refreshes from the drifting layer l* down and keeps the shallow
 * layers' caches; here a refresh recomputes every layer (the MaskedDiffusionLM forward has no
 * per-layer entry point), so the depth-aware part is not implemented. The tracked-token profile is
 * taken over heads (a vector of |T| x heads entries) so that the cosine is not trivially 1 when
 * every query's most-attended key is the same one. The test's forward is counted (a triggered step
 * costs two forwards).
 */
import { blockOf, type DiffusionAttention, type MaskedDiffusionLM } from '@hasten/models';
import { DecodingError } from '../errors';
import { blockRows, PositionCache, range, type StepForwarder } from './position-cache';

export interface ElasticCacheSettings {
  /** gamma: refresh when the tracked tokens' attention cosine similarity falls below it (0.9). */
  driftThreshold: number;
  /** Layer of the drift test (default: the last layer). */
  driftLayer?: number;
  /** beta: masked positions of the block in the sliding window (default: the whole block). */
  window?: number;
  /** Also refresh every this many steps of a block (default: only when the test fires). */
  refreshEvery?: number;
}

/**
 * Attention weights A_h[i, j] = softmax_j(q_hi . k_j / sqrt(d)) of `queries` [H, n, D] over `keys`
 * [KV, T, D] (GQA: head h reads kv head h / (H / KV)), in float64, as [H, n, T]. `visible(i, j)`
 * (default all) hides keys from queries (block-causal attention).
 */
export function attentionWeights(
  queries: Float32Array,
  keys: Float32Array,
  heads: number,
  kvHeads: number,
  headDim: number,
  visible: (i: number, j: number) => boolean = () => true,
): { perHead: Float64Array; n: number; T: number } {
  const n = queries.length / (heads * headDim);
  const T = keys.length / (kvHeads * headDim);
  const group = heads / kvHeads;
  const scale = 1 / Math.sqrt(headDim);
  // perHead[h][i][j] flattened: [H, n, T].
  const perHead = new Float64Array(heads * n * T);
  const s = new Float64Array(T);
  for (let h = 0; h < heads; h++) {
    const kh = Math.floor(h / group);
    for (let i = 0; i < n; i++) {
      const q = (h * n + i) * headDim;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < T; j++) {
        if (!visible(i, j)) {
          s[j] = Number.NEGATIVE_INFINITY;
          continue;
        }
        const k = (kh * T + j) * headDim;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += queries[q + d] * keys[k + d];
        s[j] = dot * scale;
        if (s[j] > max) max = s[j];
      }
      let z = 0;
      for (let j = 0; j < T; j++) {
        s[j] = s[j] === Number.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
        z += s[j];
      }
      const row = (h * n + i) * T;
      for (let j = 0; j < T; j++) perHead[row + j] = s[j] / z;
    }
  }
  return { perHead, n, T };
}

/** Most-attended key (slot) of each query, by the head-mean attention. */
export function mostAttended(perHead: Float64Array, heads: number, n: number, T: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestW = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < T; j++) {
      let w = 0;
      for (let h = 0; h < heads; h++) w += perHead[(h * n + i) * T + j];
      if (w > bestW) {
        bestW = w;
        best = j;
      }
    }
    out.push(best);
  }
  return out;
}

/** a[h, j] = mean over the queries of perHead[h, :, slot_j], for the listed slots; [H * slots]. */
export function attentionProfile(
  perHead: Float64Array,
  heads: number,
  n: number,
  T: number,
  slots: readonly number[],
): number[] {
  const out: number[] = [];
  for (let h = 0; h < heads; h++)
    for (const j of slots) {
      let m = 0;
      for (let i = 0; i < n; i++) m += perHead[(h * n + i) * T + j];
      out.push(m / n);
    }
  return out;
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

export class ElasticCacheForwarder implements StepForwarder {
  /** Full refreshes (block starts, periodic ones and the ones the drift test triggered). */
  refreshes = 0;
  /** Refreshes the drift test triggered. */
  triggered = 0;
  private readonly pc: PositionCache;
  /** The previous cached step's tracked positions and their attention profile. */
  private tracked: { positions: number[]; profile: number[] } | null = null;

  constructor(
    private readonly model: MaskedDiffusionLM,
    private readonly attention: DiffusionAttention,
    length: number,
    private readonly s: ElasticCacheSettings,
  ) {
    this.pc = new PositionCache(model, attention, length);
  }

  get forwards(): number {
    return this.pc.forwards;
  }

  get positionsForwarded(): number {
    return this.pc.positionsForwarded;
  }

  private async refresh(x: Int32Array, lo: number, hi: number): Promise<Float32Array> {
    this.refreshes++;
    this.tracked = null;
    this.pc.clear();
    const all = range(0, this.pc.length);
    const { logits } = await this.pc.forward(x, all);
    return blockRows(logits, all, lo, hi, this.model.config.vocabSize);
  }

  async blockLogits(x: Int32Array, lo: number, hi: number, stepInBlock: number): Promise<Float32Array> {
    const every = this.s.refreshEvery ?? Number.POSITIVE_INFINITY;
    if (stepInBlock === 0 || stepInBlock % every === 0 || this.pc.size === 0) return this.refresh(x, lo, hi);
    const mask = this.model.maskTokenId;
    const c = this.model.config;
    const beta = this.s.window ?? hi - lo;
    const window = range(lo, hi)
      .filter((p) => x[p] === mask)
      .slice(0, beta);
    const decoded = range(0, this.pc.length).filter((p) => this.pc.has(p) && this.pc.cachedToken(p) !== x[p]);
    const q = [...new Set([...decoded, ...window])].sort((a, b) => a - b);
    const chosen = new Set(q);
    this.pc.drop((p) => chosen.has(p));
    const { logits, queries } = await this.pc.forward(x, q, q.length);
    const layer = this.s.driftLayer ?? c.numLayers - 1;
    const keys = await this.pc.keys(layer);
    const ql = queries?.[layer];
    if (!ql)
      throw new DecodingError('input', `Elastic-Cache: the model returned no queries of layer ${layer}`);
    const slots = this.pc.positions();
    const a = this.attention;
    // Query i is position q[i] (the forwarded positions took the last slots, in q's order).
    const visible =
      a === 'bidirectional' ? undefined : (i: number, j: number) => blockOf(slots[j], a) <= blockOf(q[i], a);
    const { perHead, n, T } = attentionWeights(ql, keys, c.numHeads, c.numKvHeads, c.headDim, visible);
    const slotOf = new Map(slots.map((p, s) => [p, s]));
    if (this.tracked) {
      const prevSlots = this.tracked.positions.map((p) => slotOf.get(p));
      if (prevSlots.every((s) => s !== undefined)) {
        const now = attentionProfile(perHead, c.numHeads, n, T, prevSlots as number[]);
        const sigma = cosine(this.tracked.profile, now);
        if (sigma < this.s.driftThreshold) {
          this.triggered++;
          return this.refresh(x, lo, hi);
        }
      }
    }
    const top = [...new Set(mostAttended(perHead, c.numHeads, n, T))];
    this.tracked = {
      positions: top.map((s) => slots[s]),
      profile: attentionProfile(perHead, c.numHeads, n, T, top),
    };
    return blockRows(logits, q, lo, hi, c.vocabSize);
  }

  dispose(): void {
    this.pc.dispose();
  }
}
