/**
 * @file Contrastive decoding (Li et al. 2022, arXiv:2210.15097) and negative prompts.
 *
 * Score of token i: log p_expert(i) - alpha * log p_other(i), over the tokens that pass the adaptive
 * plausibility constraint p_expert(i) >= plausibility * max_j p_expert(j) (Li et al. §3.2; the other
 * tokens get -Infinity). The expert's logits are the row being processed (put this processor first);
 * `other` is a second CausalLM run alongside the main one with its own KV cache:
 * - an amateur (a smaller model of the same tokenizer) on the same context: contrastive decoding
 *   (Li et al. use alpha = 1; O'Brien & Lewis 2023, arXiv:2309.09117, weigh the amateur by beta);
 * - with `negativePrompt`, the model (often the expert itself) on the negative prompt followed by the
 *   same generated tokens: the negative context's log-probabilities are subtracted, as in
 *   classifier-free guidance for LMs (Sanchez et al. 2023, arXiv:2306.17806) and STEER-style
 *   steering. CFG with scale gamma equals this processor with alpha = (gamma - 1) / gamma followed
 *   by temperature 1 / gamma (plausibility 0).
 * Scores are log-probabilities (Li et al.'s form), so later processors see values <= 0 for the
 * expert term.
 */
import type { Tensor } from '@hasten/core-tensor';
import type { KVCache } from '@hasten/kv';
import type { CausalLM } from '@hasten/models';
import { gatherCacheRows } from '../batch/cache-rows';
import { column, leftPad } from '../batch/left-pad';
import { DecodingError } from '../errors';
import { requireOption } from '../options';
import { logSoftmax } from './probabilities';
import type { LogitsProcessor, RowContext, StepInput } from './processor';

export interface ContrastiveOptions {
  /** The second model: an amateur on the same context, or the model to run on `negativePrompt`. */
  model: CausalLM;
  /** Weight of the subtracted log-probabilities (default 1). */
  alpha?: number;
  /** Adaptive plausibility: keep tokens with p_expert >= plausibility * max p_expert (default 0.1; 0 keeps all). */
  plausibility?: number;
  /**
   * Token ids of a negative prompt that replaces the prompt for the second model: one prompt for
   * every row, or one per row.
   */
  negativePrompt?: readonly number[] | readonly (readonly number[])[];
}

const isNested = (p: ContrastiveOptions['negativePrompt']): p is readonly (readonly number[])[] =>
  Array.isArray(p) && p.length > 0 && Array.isArray(p[0]);

export class ContrastiveProcessor implements LogitsProcessor {
  readonly name = 'contrastive';
  readonly model: CausalLM;
  readonly alpha: number;
  readonly plausibility: number;
  readonly negativePrompt?: ContrastiveOptions['negativePrompt'];
  /** Forwards the second model has run (for reports). */
  forwards = 0;
  private cache: KVCache | null = null;
  /** The second model's last logits, [rows, vocab]. */
  private logits: Float32Array | null = null;
  private rows = 0;

  constructor(opts: ContrastiveOptions) {
    const where = 'ContrastiveProcessor';
    const alpha = opts.alpha ?? 1;
    const plausibility = opts.plausibility ?? 0.1;
    requireOption(
      typeof opts.model?.forward === 'function',
      where,
      'contrastive.model',
      'a CausalLM',
      typeof opts.model,
    );
    requireOption(
      Number.isFinite(alpha) && alpha >= 0,
      where,
      'contrastive.alpha',
      'a finite number >= 0',
      alpha,
    );
    requireOption(
      plausibility >= 0 && plausibility <= 1,
      where,
      'contrastive.plausibility',
      'a number in [0, 1]',
      plausibility,
    );
    if (opts.negativePrompt !== undefined) {
      const list = isNested(opts.negativePrompt)
        ? opts.negativePrompt
        : [opts.negativePrompt as readonly number[]];
      for (const p of list) {
        requireOption(
          p.length > 0 && p.every((t) => Number.isInteger(t) && t >= 0),
          where,
          'contrastive.negativePrompt',
          'non-empty arrays of token ids',
          p,
        );
      }
    }
    this.model = opts.model;
    this.alpha = alpha;
    this.plausibility = plausibility;
    this.negativePrompt = opts.negativePrompt;
  }

  async step(input: StepInput): Promise<void> {
    const V = this.model.config.vocabSize;
    let tokens: Tensor;
    let padding: number[] | undefined;
    if (input.kind === 'prefill') {
      this.release();
      const prompts = this.contexts(input.prompts);
      const padded = leftPad(prompts, this.model.config.padTokenId ?? 0);
      const maxLength = padded.width + input.maxNewTokens;
      if (maxLength - 1 > this.model.config.contextLength) {
        padded.tokens.dispose();
        throw new DecodingError(
          'context',
          `contrastive: a ${padded.width}-token context plus ${input.maxNewTokens} new tokens exceeds the second model's context length ${this.model.config.contextLength}`,
        );
      }
      this.cache = this.model.createCache({ batch: prompts.length, maxLength });
      this.rows = prompts.length;
      tokens = padded.tokens;
      padding = padded.padding;
    } else {
      if (!this.cache)
        throw new DecodingError('processor', 'contrastive: a decode step came before the prefill');
      tokens = column(input.tokens);
    }
    try {
      const { logits } = await this.model.forward({ tokens, cache: this.cache!, padding, logitsToKeep: 1 });
      this.forwards++;
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      if (data.length !== this.rows * V) {
        throw new DecodingError(
          'processor',
          `contrastive: the second model returned ${data.length} logits for ${this.rows} rows of vocab ${V}`,
        );
      }
      this.logits = data;
    } finally {
      tokens.dispose();
    }
  }

  process(logits: Float32Array, ctx: RowContext): void {
    const V = this.model.config.vocabSize;
    if (!this.logits)
      throw new DecodingError(
        'processor',
        'contrastive: process() before step(); run it through generate() or beamSearch()',
      );
    if (logits.length !== V) {
      throw new DecodingError(
        'processor',
        `contrastive: the expert has ${logits.length} logits but the second model's vocabulary is ${V}; both must share a tokenizer`,
      );
    }
    const other = this.logits.subarray(ctx.row * V, (ctx.row + 1) * V);
    for (let i = 0; i < V; i++) {
      if (!Number.isFinite(other[i])) {
        throw new DecodingError(
          'logits',
          `contrastive: the second model's logit of token ${i} (row ${ctx.row}) is ${other[i]}`,
        );
      }
    }
    const lpE = logSoftmax(logits, this.name);
    const lpO = logSoftmax(other, this.name);
    let best = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < V; i++) if (lpE[i] > best) best = lpE[i];
    const cutoff = this.plausibility > 0 ? best + Math.log(this.plausibility) : Number.NEGATIVE_INFINITY;
    for (let i = 0; i < V; i++) {
      logits[i] =
        lpE[i] >= cutoff && lpE[i] > Number.NEGATIVE_INFINITY
          ? lpE[i] - this.alpha * lpO[i]
          : Number.NEGATIVE_INFINITY;
    }
  }

  async reorder(rows: readonly number[]): Promise<void> {
    if (!this.cache || !this.logits) return;
    const V = this.model.config.vocabSize;
    const next = gatherCacheRows(this.model, this.cache, rows);
    if (next !== this.cache) this.cache.dispose();
    this.cache = next;
    const picked = new Float32Array(rows.length * V);
    for (let i = 0; i < rows.length; i++)
      picked.set(this.logits.subarray(rows[i] * V, (rows[i] + 1) * V), i * V);
    this.logits = picked;
    this.rows = rows.length;
  }

  release(): void {
    this.cache?.dispose();
    this.cache = null;
    this.logits = null;
    this.rows = 0;
  }

  /** The second model's context of each row: the prompts, or the negative prompt(s). */
  private contexts(prompts: readonly (readonly number[])[]): readonly (readonly number[])[] {
    const neg = this.negativePrompt;
    if (neg === undefined) return prompts;
    if (!isNested(neg)) return prompts.map(() => neg as readonly number[]);
    if (neg.length !== prompts.length) {
      throw new DecodingError(
        'input',
        `contrastive: negativePrompt has ${neg.length} rows for a batch of ${prompts.length}; give one per row or a single prompt`,
      );
    }
    return neg;
  }
}
