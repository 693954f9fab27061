/**
 * @file stream(): autoregressive generation on any CausalLM, one event per new token. The same loop
 * backs generate().
 *
 * A batch is left-padded and prefilled in one forward (the cache records the padding), then every
 * step feeds one token per row: a row's newest token, or the pad id once the row has finished (its
 * logits are ignored). Each active row's logits go through the processor chain and then the argmax
 * (greedy) or a draw from the row's own Philox stream (doSample). A row ends on a stop token, a stop
 * string, maxNewTokens, or the abort signal.
 *
 * Abort: the signal is checked before every forward and after it; once aborted, every unfinished row
 * ends with finish reason 'abort' (no throw), the logits of a forward that was in flight are
 * discarded, and the result holds exactly the tokens emitted so far. Nothing is left half done: the
 * cache and the processors' state are released in every case, including a consumer that stops
 * iterating early.
 */
import type { Philox } from '@hasten/core-tensor';
import type { CausalLM, ForwardOutput, Tokenizer } from '@hasten/models';
import { column, leftPad } from '../batch/left-pad';
import { DecodingError } from '../errors';
import { parseOptions } from '../options';
import { processorsFor, rejectSamplingOptions } from '../processors/from-options';
import type { LogitsProcessor } from '../processors/processor';
import { argmax, rowGenerators, sampleToken } from '../sampling/select';
import { IncrementalDetokenizer } from './detokenizer';
import { checkAllTokenIds, contextNeeded, defaultStopTokens, padIdOf, resolvePrompts } from './inputs';
import { type KVCompressionStats, KVCompressor } from './kv-compression';
import { type GenerateOptions, GenerateOptionsSchema, type ParsedGenerateOptions } from './options';
import { StopStrings } from './stop-strings';

export type FinishReason = 'stop' | 'length' | 'abort';

export interface TokenEvent {
  type: 'token';
  row: number;
  token: number;
  /** 0 for the row's first new token. */
  index: number;
  /** Text this token completes (with a tokenizer); '' while a character or a possible stop string is incomplete. */
  text?: string;
}

export interface FinishEvent {
  type: 'finish';
  row: number;
  finishReason: FinishReason;
  /** The stop token that ended the row (it is the row's last token). */
  stopToken?: number;
  /** The stop string that ended the row (cut from the text). */
  stopString?: string;
  /** Text held back until now (with a tokenizer); the row's token texts plus this equal its final text. */
  text?: string;
}

export type StreamEvent = TokenEvent | FinishEvent;

export interface GenerationRow {
  /** The new tokens (a stop token that ended the row included). */
  tokens: number[];
  /** The new text (with a tokenizer), cut before a stop string. */
  text?: string;
  finishReason: FinishReason;
  stopToken?: number;
  stopString?: string;
}

export interface GenerationStats {
  promptTokens: number;
  newTokens: number;
  /** Forwards of the main model (a second model's are counted by its processor). */
  forwards: number;
  /** Wall time of the prefill forward and the first tokens' selection. */
  prefillMs: number;
  /** Wall time of the decode steps, without the time a stream consumer kept the loop waiting. */
  decodeMs: number;
  /** Tokens from decode forwards per second of decodeMs. */
  decodeTokensPerSecond: number;
  /** With `kvCompression`: how often the cache was compressed and how many positions it evicted. */
  kvCompression?: KVCompressionStats;
}

export interface GenerateResult {
  rows: GenerationRow[];
  stats: GenerationStats;
}

/** Everything the loop needs, checked before any forward runs. */
interface Plan {
  o: ParsedGenerateOptions;
  prompts: number[][];
  stopTokens: Set<number>;
  chain: LogitsProcessor[];
  gens: Philox[] | null;
  padId: number;
  maxLength: number;
}

const WHERE = 'generate';

function plan(model: CausalLM, options: GenerateOptions): Plan {
  const o = parseOptions(GenerateOptionsSchema, options, WHERE);
  const V = model.config.vocabSize;
  const { prompts } = resolvePrompts(o.prompt, o.tokenizer, WHERE);
  rejectSamplingOptions(o, WHERE);
  if (o.stopStrings?.length && !o.tokenizer) {
    throw new DecodingError(
      'options',
      `${WHERE}: option 'stopStrings' needs a 'tokenizer' to decode the text`,
    );
  }
  const stopTokens = o.stopTokens ?? defaultStopTokens(model, o.tokenizer);
  checkAllTokenIds({ ...o, prompts, stopTokens }, V, WHERE);
  const maxLength = contextNeeded(model, Math.max(...prompts.map((p) => p.length)), o.maxNewTokens, WHERE);
  const chain = processorsFor(o, stopTokens);
  return {
    o,
    prompts,
    stopTokens: new Set(stopTokens),
    chain,
    gens: o.doSample ? rowGenerators(o.seed, prompts.length) : null,
    padId: padIdOf(model, o.tokenizer, o.padTokenId),
    maxLength: Math.max(1, maxLength),
  };
}

/** One row's progress. */
class Row {
  readonly context: number[];
  readonly generated: number[] = [];
  text = '';
  finish: Omit<FinishEvent, 'type' | 'row' | 'text'> | null = null;
  private readonly detok?: IncrementalDetokenizer;
  private readonly stops?: StopStrings;

  constructor(
    readonly prompt: number[],
    tokenizer: Tokenizer | undefined,
    stopStrings: readonly string[],
    skipSpecialTokens: boolean,
  ) {
    this.context = [...prompt];
    if (tokenizer) {
      this.detok = new IncrementalDetokenizer(tokenizer, prompt, skipSpecialTokens);
      this.stops = new StopStrings(stopStrings);
    }
  }

  get active(): boolean {
    return this.finish === null;
  }

  /** Adds a token; returns its text delta and whether a stop string matched. */
  push(token: number): { text?: string; stop?: string } {
    this.context.push(token);
    this.generated.push(token);
    if (!this.detok || !this.stops) return {};
    const r = this.stops.push(this.detok.push(token));
    this.text += r.text;
    return r;
  }

  /** Ends the row; returns the text released by the end (undefined without a tokenizer). */
  end(reason: FinishReason, stopToken?: number): string | undefined {
    let released: string | undefined;
    let stopString: string | undefined;
    if (this.detok && this.stops) {
      const tail = this.stops.push(this.detok.flush());
      stopString = tail.stop;
      released = tail.text + (stopString ? '' : this.stops.finish());
      this.text += released;
    }
    this.finish = stopString ? { finishReason: 'stop', stopString } : { finishReason: reason, stopToken };
    return released;
  }

  result(): GenerationRow {
    const f = this.finish!;
    return {
      tokens: this.generated,
      ...(this.detok ? { text: this.text } : {}),
      finishReason: f.finishReason,
      ...(f.stopToken !== undefined ? { stopToken: f.stopToken } : {}),
      ...(f.stopString !== undefined ? { stopString: f.stopString } : {}),
    };
  }
}

/** Reads [rows, 1, V] logits into one Float32Array and frees the tensor. */
async function readLogits(
  t: { data(): Promise<ArrayLike<number>>; dispose(): void },
  rows: number,
  V: number,
): Promise<Float32Array> {
  try {
    const data = await t.data();
    if (data.length !== rows * V) {
      throw new DecodingError(
        'logits',
        `${WHERE}: the model returned ${data.length} logits for ${rows} rows of vocab ${V}`,
      );
    }
    return data instanceof Float32Array ? data : Float32Array.from(data);
  } finally {
    t.dispose();
  }
}

/** Throws on a NaN or +Infinity logit from the model (processors must not hide it). */
function checkRow(logits: Float32Array, row: number): void {
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) {
      throw new DecodingError('logits', `${WHERE}: the model's logit of token ${i} in row ${row} is ${x}`);
    }
  }
}

/**
 * Generates from `model`, yielding a `token` event per new token and a `finish` event per row; the
 * generator's return value is the same GenerateResult that generate() returns. Options are
 * validated (and throw) when stream() is called, before any forward.
 */
export function stream(
  model: CausalLM,
  options: GenerateOptions,
): AsyncGenerator<StreamEvent, GenerateResult, void> {
  return oneByOne(steps(model, options));
}

/**
 * The loop itself, yielding the events of each step together (generate() takes them a step at a
 * time: one await per step rather than per event). Options are validated when it is called.
 */
export function steps(
  model: CausalLM,
  options: GenerateOptions,
): AsyncGenerator<StreamEvent[], GenerateResult, void> {
  return run(model, plan(model, options));
}

async function* oneByOne(
  inner: AsyncGenerator<StreamEvent[], GenerateResult, void>,
): AsyncGenerator<StreamEvent, GenerateResult, void> {
  try {
    while (true) {
      const r = await inner.next();
      if (r.done) return r.value;
      yield* r.value;
    }
  } finally {
    // A consumer that stops early ends the loop too (its finally releases the cache).
    await inner.return(undefined as never);
  }
}

async function* run(model: CausalLM, p: Plan): AsyncGenerator<StreamEvent[], GenerateResult, void> {
  const { o, prompts, chain, gens, padId } = p;
  const V = model.config.vocabSize;
  const B = prompts.length;
  const rows = prompts.map((pr) => new Row(pr, o.tokenizer, o.stopStrings ?? [], o.skipSpecialTokens));
  const stats: GenerationStats = {
    promptTokens: prompts.reduce((s, pr) => s + pr.length, 0),
    newTokens: 0,
    forwards: 0,
    prefillMs: 0,
    decodeMs: 0,
    decodeTokensPerSecond: 0,
  };
  const aborted = () => o.signal?.aborted === true;
  const abortAll = (events: StreamEvent[]) => {
    rows.forEach((r, i) => {
      if (r.active) events.push(finishEvent(i, r, r.end('abort')));
    });
  };
  const { numLayers, numHeads, headDim } = model.config;
  const compressor = o.kvCompression
    ? new KVCompressor(o.kvCompression, B, numLayers, numHeads, headDim)
    : null;
  if (compressor && new Set(prompts.map((pr) => pr.length)).size > 1) {
    throw new DecodingError(
      'options',
      `${WHERE}: kvCompression needs prompts of one length (a left-padded batch cannot be compressed); got lengths ${prompts.map((pr) => pr.length).join(', ')}`,
    );
  }
  if (compressor?.prefillChunk !== undefined && o.kvCompression?.prefill === false) {
    throw new DecodingError(
      'options',
      `${WHERE}: option 'kvCompression.prefillChunk' reads the prompt with compression between chunks; it needs 'kvCompression.prefill' true`,
    );
  }
  const cache = model.createCache({ batch: B, maxLength: p.maxLength });
  let decodeTokens = 0;
  try {
    const events: StreamEvent[] = [];
    if (aborted()) {
      abortAll(events);
      yield events;
      return result(rows, stats);
    }
    const t0 = performance.now();
    for (const proc of chain) await proc.step?.({ kind: 'prefill', prompts, maxNewTokens: o.maxNewTokens });
    let out: Pick<ForwardOutput, 'logits'>;
    if (compressor?.prefillChunk !== undefined) {
      const r = await compressor.chunkedPrefill(model, cache, prompts);
      out = r;
      stats.forwards += r.forwards;
    } else {
      const padded = leftPad(prompts, padId);
      let full: ForwardOutput;
      try {
        full = await model.forward({
          tokens: padded.tokens,
          cache,
          padding: padded.padding,
          logitsToKeep: 1,
          outputQueries: compressor?.outputQueries(padded.tokens.shape[1]),
        });
      } finally {
        padded.tokens.dispose();
      }
      compressor?.afterPrefill(cache, full);
      stats.forwards++;
      out = full;
    }
    let logits = await readLogits(out.logits, B, V);
    let decoding = false;
    let stepStart = t0;
    while (true) {
      if (aborted()) {
        abortAll(events);
      } else {
        for (let r = 0; r < B; r++) {
          const row = rows[r];
          if (!row.active) continue;
          const x = logits.slice(r * V, (r + 1) * V);
          checkRow(x, r);
          for (const proc of chain)
            proc.process(x, { tokens: row.context, promptLength: row.prompt.length, row: r });
          const token = gens
            ? sampleToken(x, gens[r], `${WHERE}: row ${r}`)
            : argmax(x, `${WHERE}: row ${r}`);
          const { text, stop } = row.push(token);
          stats.newTokens++;
          if (decoding) decodeTokens++;
          events.push({
            type: 'token',
            row: r,
            token,
            index: row.generated.length - 1,
            ...(text !== undefined ? { text } : {}),
          });
          let released: string | undefined;
          if (p.stopTokens.has(token)) released = row.end('stop', token);
          else if (stop !== undefined) row.finish = { finishReason: 'stop', stopString: stop };
          else if (row.generated.length >= o.maxNewTokens) released = row.end('length');
          if (!row.active)
            events.push(finishEvent(r, row, released ?? (text !== undefined ? '' : undefined)));
        }
      }
      const now = performance.now();
      if (decoding) stats.decodeMs += now - stepStart;
      else stats.prefillMs = now - t0;
      yield events.splice(0);
      if (!rows.some((r) => r.active)) break;
      stepStart = performance.now();
      const next = rows.map((r) => (r.active ? r.generated[r.generated.length - 1] : padId));
      for (const proc of chain) await proc.step?.({ kind: 'decode', tokens: next });
      if (aborted()) {
        decoding = true;
        continue;
      }
      const ids = column(next);
      let step: ForwardOutput;
      try {
        step = await model.forward({
          tokens: ids,
          cache,
          logitsToKeep: 1,
          outputQueries: compressor?.outputQueries(1),
        });
      } finally {
        ids.dispose();
      }
      compressor?.afterDecode(cache, step);
      stats.forwards++;
      logits = await readLogits(step.logits, B, V);
      decoding = true;
    }
    stats.decodeTokensPerSecond = stats.decodeMs > 0 ? decodeTokens / (stats.decodeMs / 1000) : 0;
    if (compressor) stats.kvCompression = { ...compressor.stats };
    return result(rows, stats);
  } finally {
    cache.dispose();
    for (const proc of chain) proc.release?.();
  }
}

function finishEvent(row: number, r: Row, text: string | undefined): FinishEvent {
  const f = r.finish!;
  return {
    type: 'finish',
    row,
    finishReason: f.finishReason,
    ...(f.stopToken !== undefined ? { stopToken: f.stopToken } : {}),
    ...(f.stopString !== undefined ? { stopString: f.stopString } : {}),
    ...(text !== undefined ? { text } : {}),
  };
}

function result(rows: Row[], stats: GenerationStats): GenerateResult {
  return { rows: rows.map((r) => r.result()), stats };
}
