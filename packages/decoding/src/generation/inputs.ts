/**
 * @file Turning validated options into what a decoding loop needs, with the checks that depend on
 * the model: prompts as token ids, stop tokens, the pad id, token ids inside the vocabulary, and the
 * context length. Shared by generate/stream and beamSearch.
 */
import type { CausalLM, Tokenizer } from '@hasten/models';
import { DecodingError } from '../errors';

/** Prompts as token ids, one array per row; `batched` tells whether the caller passed a batch. */
export function resolvePrompts(
  prompt: string | number[] | (string | number[])[],
  tokenizer: Tokenizer | undefined,
  where: string,
): { prompts: number[][]; batched: boolean } {
  const batched = Array.isArray(prompt) && prompt.length > 0 && typeof prompt[0] !== 'number';
  const list = (batched ? prompt : [prompt]) as (string | number[])[];
  const prompts = list.map((p, r) => {
    if (typeof p !== 'string') return p;
    if (!tokenizer) {
      throw new DecodingError(
        'options',
        `${where}: option 'prompt' is text; pass a 'tokenizer' to encode it (or give token ids)`,
      );
    }
    const ids = tokenizer.encode(p);
    if (ids.length === 0)
      throw new DecodingError('input', `${where}: prompt of row ${r} encodes to no tokens`);
    return ids;
  });
  return { prompts, batched };
}

/** The model config's EOS id(s), else the tokenizer's. */
export function defaultStopTokens(model: CausalLM, tokenizer?: Tokenizer): number[] {
  const eos = model.config.eosTokenId;
  if (eos !== undefined) return Array.isArray(eos) ? [...eos] : [eos];
  return tokenizer?.eosTokenId !== undefined ? [tokenizer.eosTokenId] : [];
}

export function padIdOf(
  model: CausalLM,
  tokenizer: Tokenizer | undefined,
  given: number | undefined,
): number {
  return given ?? model.config.padTokenId ?? tokenizer?.padTokenId ?? 0;
}

/** Throws unless every id is below the vocabulary size. */
export function checkTokenIds(ids: Iterable<number>, vocab: number, field: string, where: string): void {
  for (const t of ids) {
    if (t >= vocab) {
      throw new DecodingError(
        'input',
        `${where}: ${field} holds token id ${t}, outside the vocabulary [0, ${vocab})`,
      );
    }
  }
}

/** The cache length a run needs (the last new token is never fed back); throws past the context. */
export function contextNeeded(
  model: CausalLM,
  promptWidth: number,
  maxNewTokens: number,
  where: string,
): number {
  const needed = promptWidth + maxNewTokens - 1;
  if (needed > model.config.contextLength) {
    throw new DecodingError(
      'context',
      `${where}: the longest prompt (${promptWidth} tokens) plus maxNewTokens ${maxNewTokens} needs ${needed} positions; the model's context length is ${model.config.contextLength}`,
    );
  }
  return needed;
}

/** Checks every token id a run was given against the vocabulary. */
export function checkAllTokenIds(
  given: {
    prompts: readonly (readonly number[])[];
    stopTokens: readonly number[];
    suppressTokens?: readonly number[];
    logitBias?: Readonly<Record<string, number>>;
  },
  vocab: number,
  where: string,
): void {
  for (let r = 0; r < given.prompts.length; r++) {
    checkTokenIds(given.prompts[r], vocab, `the prompt of row ${r}`, where);
  }
  checkTokenIds(given.stopTokens, vocab, 'stopTokens', where);
  checkTokenIds(given.suppressTokens ?? [], vocab, 'suppressTokens', where);
  checkTokenIds(Object.keys(given.logitBias ?? {}).map(Number), vocab, 'logitBias', where);
}
