/**
 * @file generateDiffusion() / streamDiffusion(): decoding a masked diffusion LM (MaskedDiffusionLM of
 * @hasten/models), LLaDA's reverse process (arXiv 2502.09992) with Fast-dLLM's parallel commits and
 * caches (arXiv 2505.22618) and the first-hitting sampler (arXiv 2409.02908).
 *
 * A row's sequence is its prompt followed by `genLength` mask tokens (then, for infilling, the
 * `suffix` tokens, which the bidirectional model reads at every step), decoded block by block
 * (`blockLength`, semi-autoregressive; one block by default). At each step the model's logits give
 * every masked position of the current block a prediction and a confidence (llada.ts); the step then
 * commits, by `commit`:
 * - 'schedule': LLaDA's k_i tokens (numTransferTokens of the block's masks over steps / blocks),
 *   the most confident ones ('low-confidence') or uniformly chosen ones ('random');
 * - 'threshold' / 'factor': Fast-dLLM's parallel rules (fast-dllm-threshold.ts, fast-dllm-factor.ts),
 *   at least one token per step, until the block has no mask left;
 * - 'local-leap': LocalLeap's anchors and the relaxed commits near them (local-leap.ts);
 * - 'learn2pd': every masked position Learn2PD's learned filter scores >= tau, at least one
 *   (learn2pd.ts, arXiv 2509.25188);
 * - 'ar-guided': the longest left-to-right run of proposals an autoregressive model's greedy tokens
 *   agree with, then its token at the first disagreement (ar-guided.ts, arXiv 2505.21467);
 * or, with sampler 'first-hitting', exactly one token at the first-hitting position (first-hitting.ts).
 * Committed tokens are never re-masked. With `eosFill` (default), once an <eos> is committed the
 * masked positions after it become <eos> and are not decoded (eos-fill.ts); a block with no mask left
 * costs no forward. The cache decides what each step forwards: Fast-dLLM's prefix / dual
 * (fast-dllm-cache.ts), dKV-Cache (dkv-cache.ts), dLLM-Cache (dllm-cache.ts) or Elastic-Cache
 * (elastic-cache.ts).
 *
 * Rows of a batch are decoded one after the other, each with its own Philox stream
 * (rng(seed).fold(row)). One event per step: the positions committed and why, so a UI can draw the
 * canvas filling in. Abort: the signal is checked before every forward; unfinished rows then end with
 * finish reason 'abort' and their undecided positions stay the mask token in `canvas`.
 */
import type { Philox } from '@hasten/core-tensor';
import type { DiffusionAttention, MaskedDiffusionLM } from '@hasten/models';
import { DecodingError } from '../errors';
import { checkTokenIds, resolvePrompts } from '../generation/inputs';
import { parseOptions, requireOption } from '../options';
import { rowGenerators } from '../sampling/select';
import { ArGuide, arGuidedCommits } from './ar-guided';
import { DkvCacheForwarder } from './dkv-cache';
import { DLLM_CACHE_DEFAULTS, DllmCacheForwarder } from './dllm-cache';
import { ElasticCacheForwarder } from './elastic-cache';
import { eosFill } from './eos-fill';
import { BlockForwarder } from './fast-dllm-cache';
import { factorCommitCount } from './fast-dllm-factor';
import { thresholdCommitCount } from './fast-dllm-threshold';
import { firstHit } from './first-hitting';
import { learn2pdCommits, learn2pdFeatures, learn2pdScore } from './learn2pd';
import { byConfidence, numTransferTokens, type Prediction, predict } from './llada';
import { type LocalLeapSettings, localLeapCommits } from './local-leap';
import { type DiffusionOptions, DiffusionOptionsSchema, type ParsedDiffusionOptions } from './options';
import type { StepForwarder } from './position-cache';

export type CommitReason =
  | 'low-confidence'
  | 'random'
  | 'threshold'
  | 'factor'
  | 'first-hitting'
  | 'anchor'
  | 'local-leap'
  | 'eos-fill'
  | 'learn2pd'
  | 'ar-guided'
  | 'ar-correction';

export interface DiffusionCommit {
  /** Index in the generated region (0 = first position after the prompt). */
  position: number;
  token: number;
  reason: CommitReason;
  /** The confidence that ranked it (not for eos-fill). */
  confidence?: number;
}

export interface DiffusionStepEvent {
  type: 'step';
  row: number;
  /** 0-based step of the row (one forward each). */
  step: number;
  block: number;
  commits: DiffusionCommit[];
  /** First-hitting sampler: the time of this unmasking, in (0, 1]. */
  time?: number;
}

export type DiffusionFinishReason = 'stop' | 'length' | 'abort';

export interface DiffusionFinishEvent {
  type: 'finish';
  row: number;
  finishReason: DiffusionFinishReason;
  text?: string;
}

export type DiffusionEvent = DiffusionStepEvent | DiffusionFinishEvent;

export interface DiffusionRow {
  /** The generated tokens up to and including the first <eos> ('stop'), else all genLength. */
  tokens: number[];
  /** All genLength generated positions (the mask id where an aborted row left them undecided). */
  canvas: number[];
  text?: string;
  finishReason: DiffusionFinishReason;
  /** Forwards of this row. */
  forwards: number;
}

export interface DiffusionStats {
  promptTokens: number;
  /** Positions the model decided (excludes eos-fill). */
  decodedTokens: number;
  /** Positions filled with <eos> without decoding. */
  filledTokens: number;
  forwards: number;
  decodeMs: number;
  /** (decoded + filled) / forwards. */
  tokensPerForward: number;
  /** Generated positions (decoded + filled) per second of decodeMs (Fast-dLLM's throughput). */
  tokensPerSecond: number;
  /** commit 'ar-guided': forwards of the autoregressive model (not in `forwards`). */
  arForwards?: number;
}

export interface DiffusionResult {
  rows: DiffusionRow[];
  stats: DiffusionStats;
}

interface Plan {
  o: ParsedDiffusionOptions;
  prompts: number[][];
  /** Per row, the tokens after the generated positions (option `suffix`; empty without it). */
  suffixes: number[][];
  blockLength: number;
  stepsPerBlock: number;
  eos: number | undefined;
  attention: 'bidirectional' | 'block-causal';
  gens: Philox[];
  localLeap: LocalLeapSettings;
}

/** Options that apply to one cache or commit rule only: naming them with another is an error. */
const ONLY: [keyof ParsedDiffusionOptions, 'cache' | 'commit', string][] = [
  ['promptRefreshEvery', 'cache', 'dllm-cache'],
  ['responseRefreshEvery', 'cache', 'dllm-cache'],
  ['refreshRatio', 'cache', 'dllm-cache'],
  ['driftThreshold', 'cache', 'elastic'],
  ['driftLayer', 'cache', 'elastic'],
  ['window', 'cache', 'elastic'],
  ['anchorThreshold', 'commit', 'local-leap'],
  ['localThreshold', 'commit', 'local-leap'],
  ['leapRadius', 'commit', 'local-leap'],
  ['learn2pdFilter', 'commit', 'learn2pd'],
  ['learn2pdThreshold', 'commit', 'learn2pd'],
  ['arModel', 'commit', 'ar-guided'],
  ['arFallback', 'commit', 'ar-guided'],
];

const WHERE = 'generateDiffusion';

function plan(model: MaskedDiffusionLM, options: DiffusionOptions): Plan {
  const o = parseOptions(DiffusionOptionsSchema, options, WHERE);
  const { prompts } = resolvePrompts(o.prompt, o.tokenizer, WHERE);
  const V = model.config.vocabSize;
  for (let r = 0; r < prompts.length; r++) checkTokenIds(prompts[r], V, `the prompt of row ${r}`, WHERE);
  const perRow = o.suffix !== undefined && o.suffix.length > 0 && Array.isArray(o.suffix[0]);
  const suffixes = perRow ? (o.suffix as number[][]) : prompts.map(() => (o.suffix ?? []) as number[]);
  requireOption(
    suffixes.length === prompts.length,
    WHERE,
    'suffix',
    `one token array for every row or one per row (${prompts.length})`,
    `${suffixes.length} arrays`,
  );
  for (let r = 0; r < suffixes.length; r++) checkTokenIds(suffixes[r], V, `the suffix of row ${r}`, WHERE);
  const blockLength = o.blockLength ?? o.genLength;
  requireOption(
    o.genLength % blockLength === 0,
    WHERE,
    'blockLength',
    `a divisor of genLength ${o.genLength}`,
    blockLength,
  );
  const blocks = o.genLength / blockLength;
  const steps = o.steps ?? o.genLength;
  requireOption(
    steps % blocks === 0,
    WHERE,
    'steps',
    `a multiple of the number of blocks (${blocks} = genLength / blockLength)`,
    steps,
  );
  if (o.commit !== 'schedule') {
    requireOption(
      o.remasking === 'low-confidence',
      WHERE,
      'remasking',
      `'low-confidence' with commit '${o.commit}' (the rule reads the model's confidences)`,
      o.remasking,
    );
  }
  if (o.sampler === 'first-hitting') {
    requireOption(
      o.commit === 'schedule',
      WHERE,
      'commit',
      "'schedule' with sampler 'first-hitting'",
      o.commit,
    );
  }
  // With a suffix, `longest` counts the row's prompt and suffix tokens.
  const longest = Math.max(...prompts.map((p, r) => p.length + suffixes[r].length));
  if (longest + o.genLength > model.config.contextLength) {
    throw new DecodingError(
      'context',
      `${WHERE}: the longest prompt${o.suffix ? ' and suffix' : ''} (${longest} tokens) plus genLength ${o.genLength} needs ${longest + o.genLength} positions; the model's context length is ${model.config.contextLength}`,
    );
  }
  for (const [field, key, value] of ONLY) {
    if (o[field] !== undefined) {
      requireOption(o[key] === value, WHERE, key, `'${value}' when option '${field}' is set`, o[key]);
    }
  }
  if (o.cache === 'dllm-cache') {
    requireOption(
      o.refreshEvery === undefined,
      WHERE,
      'refreshEvery',
      "unset with cache 'dllm-cache' (it refreshes by promptRefreshEvery / responseRefreshEvery)",
      o.refreshEvery,
    );
  }
  if (o.driftLayer !== undefined) {
    requireOption(
      o.driftLayer < model.config.numLayers,
      WHERE,
      'driftLayer',
      `a layer index in [0, ${model.config.numLayers})`,
      o.driftLayer,
    );
  }
  const localLeap: LocalLeapSettings = {
    anchorThreshold: o.anchorThreshold ?? 0.9,
    localThreshold: o.localThreshold ?? 0.7,
    leapRadius: o.leapRadius ?? 2,
  };
  requireOption(
    localLeap.localThreshold <= localLeap.anchorThreshold,
    WHERE,
    'localThreshold',
    `at most anchorThreshold ${localLeap.anchorThreshold} (the relaxed bar near an anchor)`,
    localLeap.localThreshold,
  );
  if (o.commit === 'learn2pd') {
    requireOption(
      o.learn2pdFilter !== undefined,
      WHERE,
      'learn2pdFilter',
      "set with commit 'learn2pd' (the filter's weights, e.g. fixtures/code-mdlm/learn2pd.json)",
      o.learn2pdFilter,
    );
  }
  if (o.commit === 'ar-guided') {
    const ar = o.arModel;
    requireOption(ar !== undefined, WHERE, 'arModel', "set with commit 'ar-guided' (a CausalLM)", ar);
    if (ar) {
      requireOption(
        ar.config.vocabSize === V,
        WHERE,
        'arModel',
        `a model with the diffusion model's vocabulary size ${V} (the same tokenizer)`,
        `a model with vocabulary size ${ar.config.vocabSize}`,
      );
      requireOption(
        longest + o.genLength <= ar.config.contextLength,
        WHERE,
        'arModel',
        `a model whose context length holds the prompt plus genLength (${longest + o.genLength})`,
        `context length ${ar.config.contextLength}`,
      );
    }
    requireOption(
      prompts.every((q) => q.length > 0),
      WHERE,
      'prompt',
      "non-empty with commit 'ar-guided' (the AR model predicts each position from the one before)",
      prompts.map((q) => q.length),
    );
  }
  const cfgEos = model.config.eosTokenId;
  const eos = o.eosTokenId ?? (Array.isArray(cfgEos) ? cfgEos[0] : cfgEos) ?? o.tokenizer?.eosTokenId;
  if (eos !== undefined) checkTokenIds([eos], V, 'eosTokenId', WHERE);
  const attention =
    o.attention ?? (model.config.attention === 'bidirectional' ? 'bidirectional' : 'block-causal');
  if (suffixes.some((q) => q.length > 0)) {
    requireOption(
      attention === 'bidirectional',
      WHERE,
      'attention',
      "'bidirectional' with a suffix (block-causal blocks never see the tokens after them)",
      attention,
    );
  }
  return {
    o,
    prompts,
    suffixes,
    blockLength,
    stepsPerBlock: steps / blocks,
    eos,
    attention,
    gens: rowGenerators(o.seed, prompts.length),
    localLeap,
  };
}

/** Decodes every row to the end; the result of streamDiffusion() without the events. */
export async function generateDiffusion(
  model: MaskedDiffusionLM,
  options: DiffusionOptions,
): Promise<DiffusionResult> {
  const it = streamDiffusion(model, options);
  while (true) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}

/**
 * Yields a 'step' event per step and a 'finish' event per row; returns the DiffusionResult. Options
 * are validated (and throw) when it is called, before any forward.
 */
export function streamDiffusion(
  model: MaskedDiffusionLM,
  options: DiffusionOptions,
): AsyncGenerator<DiffusionEvent, DiffusionResult, void> {
  return run(model, plan(model, options));
}

async function* run(
  model: MaskedDiffusionLM,
  p: Plan,
): AsyncGenerator<DiffusionEvent, DiffusionResult, void> {
  const stats: DiffusionStats = {
    promptTokens: p.prompts.reduce((s, x) => s + x.length, 0),
    decodedTokens: 0,
    filledTokens: 0,
    forwards: 0,
    decodeMs: 0,
    tokensPerForward: 0,
    tokensPerSecond: 0,
  };
  const rows: DiffusionRow[] = [];
  for (let r = 0; r < p.prompts.length; r++) {
    const row = yield* decodeRow(model, p, r, stats);
    rows.push(row);
    yield {
      type: 'finish',
      row: r,
      finishReason: row.finishReason,
      ...(row.text !== undefined ? { text: row.text } : {}),
    };
  }
  const done = stats.decodedTokens + stats.filledTokens;
  stats.tokensPerForward = stats.forwards > 0 ? done / stats.forwards : 0;
  stats.tokensPerSecond = stats.decodeMs > 0 ? done / (stats.decodeMs / 1000) : 0;
  return { rows, stats };
}

async function* decodeRow(
  model: MaskedDiffusionLM,
  p: Plan,
  r: number,
  stats: DiffusionStats,
): AsyncGenerator<DiffusionEvent, DiffusionRow, void> {
  const { o } = p;
  const mask = model.maskTokenId;
  const prompt = p.prompts[r];
  const P0 = prompt.length;
  const L = P0 + o.genLength + p.suffixes[r].length;
  const x = new Int32Array(L).fill(mask);
  x.set(prompt);
  x.set(p.suffixes[r], P0 + o.genLength);
  const gen = p.gens[r];
  const attention: DiffusionAttention =
    p.attention === 'bidirectional' ? 'bidirectional' : { blockLength: p.blockLength, offset: P0 };
  const fwd = forwarder(model, o, attention, L, P0);
  const guide = o.commit === 'ar-guided' && o.arModel ? new ArGuide(o.arModel, L) : null;
  const aborted = () => o.signal?.aborted === true;
  let step = 0;
  let time = 1;
  let finishReason: DiffusionFinishReason | null = null;
  let ms = 0;
  try {
    const blocks = o.genLength / p.blockLength;
    for (let b = 0; b < blocks && finishReason === null; b++) {
      const lo = P0 + b * p.blockLength;
      const hi = lo + p.blockLength;
      const maskedIn = () => {
        const m: number[] = [];
        for (let i = lo; i < hi; i++) if (x[i] === mask) m.push(i);
        return m;
      };
      const schedule = numTransferTokens(maskedIn().length, p.stepsPerBlock);
      for (let i = 0; ; i++) {
        const masked = maskedIn();
        if (masked.length === 0) break;
        if (o.sampler === 'step' && o.commit === 'schedule') {
          if (i >= schedule.length) break;
          if (schedule[i] === 0) continue; // nothing to commit: LLaDA would run a forward for nothing
        }
        if (aborted()) {
          finishReason = 'abort';
          break;
        }
        const t0 = performance.now();
        const logits = await fwd.blockLogits(x, lo, hi, i);
        const V = model.config.vocabSize;
        const commits: DiffusionCommit[] = [];
        let hitTime: number | undefined;
        const where = `${WHERE}: row ${r}`;
        if (o.sampler === 'first-hitting') {
          const hit = firstHit(masked.length, time, gen);
          time = hit.time;
          hitTime = hit.time;
          const pos = masked[hit.index];
          const at = pos - lo;
          const pr = predict(
            logits.subarray(at * V, (at + 1) * V),
            o.temperature,
            'low-confidence',
            mask,
            gen,
            where,
          );
          commits.push({
            position: pos,
            token: pr.token,
            reason: 'first-hitting',
            confidence: pr.confidence,
          });
        } else {
          const preds: (Prediction & { position: number })[] = masked.map((pos) => {
            const at = pos - lo;
            const pr = predict(
              logits.subarray(at * V, (at + 1) * V),
              o.temperature,
              o.remasking,
              mask,
              gen,
              where,
            );
            return { ...pr, position: pos };
          });
          const order = byConfidence(preds);
          const sorted = order.map((j) => preds[j].confidence);
          let k: number;
          let reason: CommitReason;
          if (o.commit === 'threshold') {
            k = thresholdCommitCount(sorted, o.threshold);
            reason = 'threshold';
          } else if (o.commit === 'factor') {
            k = factorCommitCount(sorted, o.factor);
            reason = 'factor';
          } else if (o.commit === 'learn2pd' && o.learn2pdFilter) {
            k = 0;
            reason = 'learn2pd';
            const filter = o.learn2pdFilter;
            const tau = o.learn2pdThreshold ?? filter.threshold;
            const scored = preds.map((pr) => {
              const at = pr.position - lo;
              const f = learn2pdFeatures(logits.subarray(at * V, (at + 1) * V), pr.token, {
                x,
                position: pr.position,
                lo,
                hi,
                mask,
                eos: p.eos,
              });
              return { ...pr, score: learn2pdScore(filter, f) };
            });
            for (const pick of learn2pdCommits(scored, tau)) {
              const pr = scored[pick.index];
              commits.push({
                position: pr.position,
                token: pr.token,
                reason: pick.reason,
                confidence: pr.confidence,
              });
            }
          } else if (o.commit === 'ar-guided' && guide) {
            k = 0;
            reason = 'ar-guided';
            const proposals = new Map(preds.map((pr) => [pr.position, pr]));
            const y = Int32Array.from(x);
            for (const pr of preds) y[pr.position] = pr.token;
            const arTokens = await guide.greedy(y, masked[0], hi);
            for (const pick of arGuidedCommits(
              x,
              mask,
              masked[0],
              hi,
              proposals,
              arTokens,
              o.arFallback ?? 'ar',
            )) {
              const pr = proposals.get(pick.position);
              commits.push({
                position: pick.position,
                token: pick.token,
                reason: pick.reason,
                ...(pr ? { confidence: pr.confidence } : {}),
              });
            }
          } else if (o.commit === 'local-leap') {
            k = 0;
            reason = 'local-leap';
            for (const pick of localLeapCommits(preds, p.localLeap)) {
              const pr = preds[pick.index];
              commits.push({
                position: pr.position,
                token: pr.token,
                reason: pick.reason,
                confidence: pr.confidence,
              });
            }
          } else {
            k = Math.min(schedule[i], preds.length);
            reason = o.remasking;
          }
          for (let j = 0; j < k; j++) {
            const pr = preds[order[j]];
            // The rules' forced first commit is a plain low-confidence pick when below the bar.
            const why =
              j === 0 && reason === 'threshold' && pr.confidence < o.threshold ? 'low-confidence' : reason;
            commits.push({ position: pr.position, token: pr.token, reason: why, confidence: pr.confidence });
          }
        }
        for (const c of commits) x[c.position] = c.token;
        stats.decodedTokens += commits.length;
        if (o.eosFill && p.eos !== undefined && commits.some((c) => c.token === p.eos)) {
          for (const pos of eosFill(x, P0, p.eos, mask)) {
            commits.push({ position: pos, token: p.eos, reason: 'eos-fill' });
            stats.filledTokens++;
          }
        }
        if (guide) {
          let f = P0;
          while (f < L && x[f] !== mask) f++;
          guide.settle(x, f);
        }
        ms += performance.now() - t0;
        const event: DiffusionStepEvent = {
          type: 'step',
          row: r,
          step,
          block: b,
          commits: commits.map((c) => ({ ...c, position: c.position - P0 })),
          ...(hitTime !== undefined ? { time: hitTime } : {}),
        };
        step++;
        yield event;
      }
    }
  } finally {
    stats.forwards += fwd.forwards;
    stats.decodeMs += ms;
    fwd.dispose();
    if (guide) {
      stats.arForwards = (stats.arForwards ?? 0) + guide.forwards;
      guide.dispose();
    }
  }
  const canvas = Array.from(x.subarray(P0, P0 + o.genLength));
  const firstEos = p.eos === undefined ? -1 : canvas.indexOf(p.eos);
  finishReason ??= firstEos >= 0 ? 'stop' : 'length';
  const tokens = firstEos >= 0 && finishReason === 'stop' ? canvas.slice(0, firstEos + 1) : canvas;
  return {
    tokens,
    canvas,
    ...(o.tokenizer
      ? {
          text: o.tokenizer.decode(
            tokens.filter((t) => t !== mask),
            { skipSpecialTokens: o.skipSpecialTokens },
          ),
        }
      : {}),
    finishReason,
    forwards: fwd.forwards,
  };
}

/** The cache a row decodes with (see options.ts `cache`). */
function forwarder(
  model: MaskedDiffusionLM,
  o: ParsedDiffusionOptions,
  attention: DiffusionAttention,
  L: number,
  promptLength: number,
): StepForwarder {
  switch (o.cache) {
    case 'dkv':
      return new DkvCacheForwarder(model, attention, L, o.refreshEvery);
    case 'dllm-cache':
      return new DllmCacheForwarder(model, attention, L, promptLength, {
        promptRefreshEvery: o.promptRefreshEvery ?? DLLM_CACHE_DEFAULTS.promptRefreshEvery,
        responseRefreshEvery: o.responseRefreshEvery ?? DLLM_CACHE_DEFAULTS.responseRefreshEvery,
        refreshRatio: o.refreshRatio ?? DLLM_CACHE_DEFAULTS.refreshRatio,
      });
    case 'elastic':
      return new ElasticCacheForwarder(model, attention, L, {
        driftThreshold: o.driftThreshold ?? 0.9,
        ...(o.driftLayer !== undefined ? { driftLayer: o.driftLayer } : {}),
        ...(o.window !== undefined ? { window: o.window } : {}),
        ...(o.refreshEvery !== undefined ? { refreshEvery: o.refreshEvery } : {}),
      });
    default:
      return new BlockForwarder(model, o.cache, attention, L, o.refreshEvery);
  }
}
