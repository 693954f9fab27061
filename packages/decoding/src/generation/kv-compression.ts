/**
 * @file KV-cache compression while generating: the prompt's cache is compressed right after prefill
 * and then every `every` decode steps back to `keep` positions, the pattern of NVIDIA kvpress's
 * `PrefillDecodingPress` (a `ScorerPress` at prefill plus a `DecodingPress` with
 * `compression_interval` steps and a `target_size`). The scores come from any @hasten/kv
 * `ScorePolicy`; the attention-based ones (H2O, SnapKV, TOVA, Keyformer, Expected Attention) get the
 * queries of the positions seen since the last compression (at most `queryWindow` of them), which
 * the native models return with `outputQueries`. Eviction keeps true positions (the cache's
 * `positionOffset`), so generation continues as if the evicted positions were masked out.
 * With `prefillChunk` the prompt itself is read in chunks with a compression after each (Locret's
 * chunked prefill, arXiv:2410.01805, through @hasten/kv's `chunkedPrefill`), so a prompt longer than
 * the memory allows is read with at most keep + prefillChunk positions cached.
 */
import { type CompressOptions, chunkedPrefill, compress, type KVCache, type ScorePolicy } from '@hasten/kv';
import type { CausalLM, ForwardOutput } from '@hasten/models';
import { z } from 'zod';

const isPolicy = (v: unknown): v is ScorePolicy =>
  typeof v === 'object' && v !== null && typeof (v as ScorePolicy).score === 'function';

export const KVCompressionSchema = z.strictObject({
  /** A @hasten/kv score policy (streamingLLM(), snapKV(), h2o(), ...). */
  policy: z.custom<ScorePolicy>(isPolicy, { message: 'expected a ScorePolicy from @hasten/kv' }),
  /** Positions the cache is compressed back to. */
  keep: z.number().int().positive(),
  /** Decode steps between compressions (kvpress compression_interval: 10). */
  every: z.number().int().positive().default(10),
  /** Compress the prompt's cache right after prefill (default true). */
  prefill: z.boolean().default(true),
  /** How the budget is spread over layers and heads (see @hasten/kv compress). */
  allocation: z.enum(['shared', 'per-head', 'ada-kv', 'prefix-kv']).default('shared'),
  /** Most recent queries handed to attention-based policies (default 32). */
  queryWindow: z.number().int().positive().default(32),
  /**
   * Read the prompt in chunks of this many tokens, compressing back to `keep` after each chunk
   * (needs `prefill: true`); the cache then never holds more than keep + prefillChunk positions.
   * Default: the whole prompt in one forward, compressed once.
   */
  prefillChunk: z.number().int().positive().optional(),
});
export type KVCompressionOptions = z.input<typeof KVCompressionSchema>;

/** What compression did during one generation. */
export interface KVCompressionStats {
  compressions: number;
  /** Positions evicted in total (the cache's positionOffset at the end). */
  evicted: number;
  /** Most positions the cache held during the prefill (the prompt length without `prefillChunk`). */
  prefillPeakPositions: number;
}

export class KVCompressor {
  private readonly o: z.output<typeof KVCompressionSchema>;
  /** Per layer, the query blocks [B, Hq, w, D] since the last compression, oldest first. */
  private queries: { data: Float32Array; w: number }[][];
  private steps = 0;
  readonly stats: KVCompressionStats = { compressions: 0, evicted: 0, prefillPeakPositions: 0 };

  constructor(
    opts: z.output<typeof KVCompressionSchema>,
    private readonly batch: number,
    private readonly numLayers: number,
    private readonly numHeads: number,
    private readonly headDim: number,
  ) {
    this.o = opts;
    this.queries = Array.from({ length: numLayers }, () => []);
  }

  /** `outputQueries` for a forward of `length` new positions (undefined: none needed). */
  outputQueries(length: number): number | undefined {
    return this.o.policy.needsQueries ? Math.min(length, this.o.queryWindow) : undefined;
  }

  /** The prompt in chunks with compression between them, when `prefillChunk` is set (else null). */
  get prefillChunk(): number | undefined {
    return this.o.prefillChunk;
  }

  /** Chunked prefill of equal-length `prompts` into the empty `cache`; returns the last logits and the forwards run. */
  async chunkedPrefill(model: CausalLM, cache: KVCache, prompts: number[][]) {
    const r = await chunkedPrefill({
      model,
      cache,
      tokens: prompts,
      chunkSize: this.o.prefillChunk as number,
      budget: this.o.keep,
      policy: this.o.policy,
      allocation: this.o.allocation,
      queryWindow: this.o.queryWindow,
    });
    this.stats.compressions += r.compressions;
    this.stats.evicted = cache.positionOffset;
    this.stats.prefillPeakPositions = r.peakPositions;
    return { logits: r.logits, forwards: r.chunks };
  }

  /** After the prompt's forward: compress when asked to and the cache is over budget. */
  afterPrefill(cache: KVCache, out: ForwardOutput): void {
    this.stats.prefillPeakPositions = cache.length;
    this.collect(out);
    if (this.o.prefill) this.compressIfOver(cache);
  }

  /** After a decode step: compress every `every` steps when the cache is over budget. */
  afterDecode(cache: KVCache, out: ForwardOutput): void {
    this.collect(out);
    this.steps++;
    if (this.steps >= this.o.every) this.compressIfOver(cache);
  }

  private collect(out: ForwardOutput): void {
    if (!this.o.policy.needsQueries) return;
    if (!out.queries)
      throw new Error('kvCompression: the model returned no queries (outputQueries needs a native model)');
    const perPos = this.numHeads * this.headDim;
    out.queries.forEach((q, l) => {
      const list = this.queries[l];
      list.push({ data: q, w: q.length / (perPos * this.batch) });
      // Drop blocks no longer needed for the last queryWindow positions.
      let total = list.reduce((s, b) => s + b.w, 0);
      while (list.length > 1 && total - list[0].w >= this.o.queryWindow) total -= list.shift()!.w;
    });
  }

  private compressIfOver(cache: KVCache): void {
    this.steps = 0;
    if (cache.length > this.o.keep) {
      const opts: CompressOptions = {
        policy: this.o.policy,
        keep: this.o.keep,
        allocation: this.o.allocation,
      };
      if (this.o.policy.needsQueries) {
        opts.queries = this.queries.map((blocks) => this.lastWindow(blocks));
        opts.numHeads = this.numHeads;
      }
      compress(cache, opts);
      this.stats.compressions++;
      this.stats.evicted = cache.positionOffset;
    }
    // Queries refer to slots that moved: start afresh (the next window is the positions after this).
    this.queries = Array.from({ length: this.numLayers }, () => []);
  }

  /** The last min(queryWindow, seen) queries of one layer as [B, Hq, W, D]. */
  private lastWindow(blocks: { data: Float32Array; w: number }[]): Float32Array<ArrayBuffer> {
    const B = this.batch;
    const D = this.headDim;
    const H = this.numHeads;
    const seen = blocks.reduce((s, b) => s + b.w, 0);
    const W = Math.min(this.o.queryWindow, seen);
    const out = new Float32Array(B * H * W * D);
    let skip = seen - W; // oldest positions left out
    let at = 0; // position within the window
    for (const blk of blocks) {
      const from = Math.min(skip, blk.w);
      skip -= from;
      const n = blk.w - from;
      if (n <= 0) continue;
      for (let bh = 0; bh < B * H; bh++) {
        const src = (bh * blk.w + from) * D;
        out.set(blk.data.subarray(src, src + n * D), (bh * W + at) * D);
      }
      at += n;
    }
    return out;
  }
}
