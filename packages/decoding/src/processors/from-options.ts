/**
 * @file The standard processor chain from plain options, validated with zod, in the order of
 * Hugging Face's `_get_logits_processor` and vLLM's sampler: first what defines or rewrites the
 * scores (contrastive, repetition / frequency / presence penalties, n-gram blocking, minimum length,
 * banned tokens, logit bias, then any custom processors), then temperature, then the filters top-k,
 * top-p, min-p, typical-p.
 */
import type { CausalLM } from '@hasten/models';
import { z } from 'zod';
import { DecodingError } from '../errors';
import { parseOptions } from '../options';
import { ContrastiveProcessor } from './contrastive';
import { FrequencyPresencePenaltyProcessor } from './frequency-presence-penalty';
import { LogitBiasProcessor } from './logit-bias';
import { MinNewTokensProcessor } from './min-new-tokens';
import { MinPProcessor } from './min-p';
import { NoRepeatNGramProcessor } from './no-repeat-ngram';
import type { LogitsProcessor } from './processor';
import { RepetitionPenaltyProcessor } from './repetition-penalty';
import { SuppressTokensProcessor } from './suppress-tokens';
import { TemperatureProcessor } from './temperature';
import { TopKProcessor } from './top-k';
import { TopPProcessor } from './top-p';
import { TypicalPProcessor } from './typical-p';

export const TokenId = z.number().int().nonnegative();

const isModel = (m: unknown): m is CausalLM =>
  typeof m === 'object' && m !== null && typeof (m as CausalLM).forward === 'function' && 'config' in m;
export const CausalLMArg = z.custom<CausalLM>(isModel, 'expected a CausalLM (from @hasten/models)');

const isProcessor = (p: unknown): p is LogitsProcessor =>
  typeof p === 'object' && p !== null && typeof (p as LogitsProcessor).process === 'function';

/** Options that only shape sampling (they do not change the argmax, or must not be used greedily). */
export const SAMPLING_OPTIONS = ['temperature', 'topK', 'topP', 'minP', 'typicalP'] as const;

/** The processor options shared by generate(), stream() and beamSearch(). */
export const processorShape = {
  /** Divides the logits (sampling only). */
  temperature: z.number().positive().finite().optional(),
  /** Keep the k most likely tokens (sampling only). */
  topK: z.number().int().min(1).optional(),
  /** Nucleus: the smallest set with probability >= topP (sampling only). */
  topP: z.number().gt(0).lte(1).optional(),
  /** Keep tokens with p >= minP * p_max (sampling only). */
  minP: z.number().min(0).max(1).optional(),
  /** Locally typical sampling mass (sampling only). */
  typicalP: z.number().gt(0).lte(1).optional(),
  /** CTRL repetition penalty θ over prompt and generated tokens (1 = off). */
  repetitionPenalty: z.number().positive().finite().optional(),
  /** OpenAI frequency penalty over generated tokens. */
  frequencyPenalty: z.number().min(-2).max(2).optional(),
  /** OpenAI presence penalty over generated tokens. */
  presencePenalty: z.number().min(-2).max(2).optional(),
  /** Added to the logits of the given token ids (OpenAI's logit_bias). */
  logitBias: z
    .record(z.string().regex(/^\d+$/, 'keys must be token ids'), z.number().min(-100).max(100))
    .optional(),
  /** Token ids that are never generated. */
  suppressTokens: z.array(TokenId).optional(),
  /** Ban tokens that would repeat an n-gram of this size. */
  noRepeatNgramSize: z.number().int().min(1).optional(),
  /** Ban the stop tokens until this many tokens have been generated. */
  minNewTokens: z.number().int().min(0).optional(),
  /** Contrastive decoding / negative prompt (see ContrastiveProcessor). */
  contrastive: z
    .strictObject({
      model: CausalLMArg,
      alpha: z.number().min(0).finite().optional(),
      plausibility: z.number().min(0).max(1).optional(),
      negativePrompt: z.union([z.array(TokenId).min(1), z.array(z.array(TokenId).min(1)).min(1)]).optional(),
    })
    .optional(),
  /** Your own processors, applied after the built-in penalties and before temperature. */
  processors: z.array(z.custom<LogitsProcessor>(isProcessor, 'expected a LogitsProcessor')).optional(),
};

export const ProcessorOptionsSchema = z.strictObject({
  ...processorShape,
  /** Tokens that end a row (used by minNewTokens). */
  stopTokens: z.array(TokenId).optional(),
});
export type ProcessorOptions = z.input<typeof ProcessorOptionsSchema>;

/** Builds the standard chain (see the file comment); an empty array when no option is set. */
export function processorsFromOptions(options: ProcessorOptions = {}): LogitsProcessor[] {
  const o = parseOptions(ProcessorOptionsSchema, options, 'processorsFromOptions');
  const chain: LogitsProcessor[] = [];
  if (o.contrastive) chain.push(new ContrastiveProcessor(o.contrastive));
  if (o.repetitionPenalty !== undefined && o.repetitionPenalty !== 1) {
    chain.push(new RepetitionPenaltyProcessor(o.repetitionPenalty));
  }
  if (o.frequencyPenalty || o.presencePenalty) {
    chain.push(new FrequencyPresencePenaltyProcessor(o.frequencyPenalty ?? 0, o.presencePenalty ?? 0));
  }
  if (o.noRepeatNgramSize !== undefined) chain.push(new NoRepeatNGramProcessor(o.noRepeatNgramSize));
  if (o.minNewTokens && o.stopTokens?.length)
    chain.push(new MinNewTokensProcessor(o.minNewTokens, o.stopTokens));
  if (o.suppressTokens?.length) chain.push(new SuppressTokensProcessor(o.suppressTokens));
  if (o.logitBias && Object.keys(o.logitBias).length) chain.push(new LogitBiasProcessor(o.logitBias));
  if (o.processors) chain.push(...o.processors);
  if (o.temperature !== undefined && o.temperature !== 1) chain.push(new TemperatureProcessor(o.temperature));
  if (o.topK !== undefined) chain.push(new TopKProcessor(o.topK));
  if (o.topP !== undefined && o.topP < 1) chain.push(new TopPProcessor(o.topP));
  if (o.minP) chain.push(new MinPProcessor(o.minP));
  if (o.typicalP !== undefined && o.typicalP < 1) chain.push(new TypicalPProcessor(o.typicalP));
  return chain;
}

/**
 * The chain of an entry point (generate, beam search, speculative decoding) from its parsed options:
 * every processor option it was given, and its stop tokens (for minNewTokens).
 */
export function processorsFor(o: object, stopTokens: readonly number[]): LogitsProcessor[] {
  const picked: Record<string, unknown> = { stopTokens: [...stopTokens] };
  for (const key of Object.keys(processorShape)) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined) picked[key] = v;
  }
  return processorsFromOptions(picked as ProcessorOptions);
}

/** Throws when a greedy run was given options that only shape sampling (they would be ignored). */
export function rejectSamplingOptions(
  o: { doSample: boolean } & Record<string, unknown>,
  where: string,
): void {
  if (o.doSample) return;
  const given = SAMPLING_OPTIONS.filter((k) => o[k] !== undefined);
  if (given.length) {
    throw new DecodingError(
      'options',
      `${where}: option${given.length > 1 ? 's' : ''} ${given.map((k) => `'${k}'`).join(', ')} only apply when sampling; set doSample: true (greedy decoding takes the argmax)`,
    );
  }
}
