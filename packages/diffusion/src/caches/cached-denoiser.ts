/**
 * @file The engine shared by the feature caches: wraps a `BlockDenoiser` and a `CachePolicy` into a
 * `Denoiser` for `sample()`. As diffusers' cache hooks do (one state per `cache_context`, "cond" /
 * "uncond", reset between generations; diffusers:docs/source/en/optimization/cache.md), it keeps ONE
 * STATE PER GUIDANCE BRANCH: a batched CFG call is split into its conditional items (cond ≠ null) and
 * its unconditional items (cond = null), each run as its own sub-batch pass with its own cached
 * features and decisions, and the predictions are put back in the caller's order.
 *
 * Guards (anchors §3.3): the first and the last denoiser call of a generation and the first
 * `warmupSteps` calls always compute every block; a block is never reused more than
 * `maxConsecutiveReuse` calls in a row (a token-subset evaluation counts as a reuse). The engine
 * enforces them: a policy asks `ctx.mayReuse(i)` and `ctx.reuse(i)` throws when the guard says no.
 *
 * `sample(..., { cache })` tells the cache the number of denoiser calls of the generation and the
 * index of each call (`beginGeneration`, `beginStep`); used by hand, call `beginGeneration(steps)`
 * and the index advances by one per call.
 *
 * Below the engine: helpers several policies share (residual arithmetic, the whole-stack residual of
 * TeaCache and MagCache, the per-token block cache of ToCa and RAS).
 */
import { z } from 'zod';
import type { BlockDenoiser, DenoiserPass } from '../block-denoiser';
import type { Denoiser, PredictionType, Sample } from '../types';
import { parseOptions } from '../util';

export type Branch = 'cond' | 'uncond';

/** What `sample()` calls on its `cache` option. */
export interface SamplingCache {
  /** A new generation of `steps` denoiser calls starts: forget every cached feature and statistic. */
  beginGeneration(steps: number): void;
  /** The next denoiser call is call `index` (0-based) of the generation. */
  beginStep(index: number): void;
}

/** Per-call view a policy works with: the step, the guards and the bookkeeping of block decisions. */
export interface CacheContext {
  readonly model: BlockDenoiser<unknown>;
  readonly branch: Branch;
  /** Index of this denoiser call in the generation and the number of calls. */
  readonly step: number;
  readonly steps: number;
  readonly t: number;
  /** True when a guard (first / last / warm-up step) demands that every block is computed. */
  readonly mustCompute: boolean;
  /** Whether block i may be reused (or computed on a token subset) at this call. */
  mayReuse(i: number): boolean;
  /** Runs block i fully on `pass.hidden` and records it. */
  compute(pass: DenoiserPass, i: number): void;
  /** Runs block i on the given token rows only (DiT) and records a partial evaluation. */
  computeTokens(pass: DenoiserPass, i: number, tokens: Int32Array, totalTokens: number): void;
  /** Records that block i was not run (the policy substitutes its output). Throws if a guard forbids it. */
  reuse(i: number): void;
}

/**
 * A cache policy: per branch, a state made at the start of a generation, and the block loop of one
 * pass (between `model.begin` and `pass.finish`), which computes, reuses or forecasts each block.
 */
export interface CachePolicy<S = unknown> {
  readonly name: string;
  /** Throws a clear error when the model does not fit the policy (architecture, block count). */
  validate(model: BlockDenoiser<unknown>): void;
  createState(model: BlockDenoiser<unknown>, steps: number, branch: Branch): S;
  forward(pass: DenoiserPass, ctx: CacheContext, state: S): void;
}

export const CacheGuardOptions = z.strictObject({
  /** Calls 0..warmupSteps−1 compute every block (in addition to the first and last call). */
  warmupSteps: z.number().int().nonnegative().default(0),
  /** At most this many consecutive reuses of a block before it must be computed (absent: no cap). */
  maxConsecutiveReuse: z.number().int().nonnegative().optional(),
});
export type CacheGuardOptions = z.input<typeof CacheGuardOptions>;

/** Decisions per block: 'C' computed, 'P' computed on a token subset, 'R' reused (cached or forecast). */
export interface CacheTraceEntry {
  step: number;
  branch: Branch;
  items: number;
  blocks: string;
}

export interface BranchCounts {
  passes: number;
  computed: number;
  partial: number;
  reused: number;
}

export interface CacheStats {
  policy: string;
  steps: number;
  numBlocks: number;
  /** Block decisions over both branches (each pass counts each block once, whatever its item count). */
  computed: number;
  partial: number;
  reused: number;
  /** reused / (computed + partial + reused). */
  hitRate: number;
  /** Full-block evaluations equivalent: computed + Σ token fraction of partial evaluations. */
  blockEvaluations: number;
  perBranch: Record<Branch, BranchCounts>;
  trace: CacheTraceEntry[];
}

export type CachedDenoiser<C> = Denoiser<(C | null)[]> &
  SamplingCache & {
    readonly policy: string;
    stats(): CacheStats;
  };

interface BranchState {
  state: unknown;
  items: number;
  consecutive: Int32Array;
}

const NAME = 'cachedDenoiser';

/** Wraps `model` with `policy` (and the guards) into a `Denoiser` whose features are cached. */
export function cachedDenoiser<C>(
  model: BlockDenoiser<C>,
  policy: CachePolicy<unknown>,
  options: CacheGuardOptions = {},
): CachedDenoiser<C> {
  const o = parseOptions(NAME, CacheGuardOptions, options);
  const m = model as BlockDenoiser<unknown>;
  policy.validate(m);
  const L = model.numBlocks;
  let steps = -1;
  let next = 0;
  let branches: Partial<Record<Branch, BranchState>> = {};
  let stats = emptyStats(policy.name, 0, L);

  const runBranch = (
    x: Float64Array,
    t: number,
    cond: (C | null)[],
    branch: Branch,
    step: number,
  ): Sample => {
    let bs = branches[branch];
    if (bs === undefined) {
      bs = {
        state: policy.createState(m, steps, branch),
        items: cond.length,
        consecutive: new Int32Array(L),
      };
      branches[branch] = bs;
    } else if (bs.items !== cond.length) {
      throw new Error(
        `${NAME}: the ${branch} branch had ${bs.items} items and now has ${cond.length}; start a new generation (beginGeneration) when the batch changes`,
      );
    }
    const guarded = step === 0 || step === steps - 1 || step < o.warmupSteps;
    const marks = new Array<string>(L).fill('-');
    let partialFraction = 0;
    const state = bs;
    const mayReuse = (i: number) =>
      !guarded && (o.maxConsecutiveReuse === undefined || state.consecutive[i] < o.maxConsecutiveReuse);
    const mark = (i: number, c: string) => {
      if (marks[i] !== '-')
        throw new Error(`${NAME}: policy ${policy.name} decided block ${i} twice in one pass`);
      marks[i] = c;
    };
    const ctx: CacheContext = {
      model: m,
      branch,
      step,
      steps,
      t,
      mustCompute: guarded,
      mayReuse,
      compute(pass, i) {
        mark(i, 'C');
        pass.runBlock(i);
        state.consecutive[i] = 0;
      },
      computeTokens(pass, i, tokens, totalTokens) {
        if (!mayReuse(i))
          throw new Error(
            `${NAME}: policy ${policy.name} ran block ${i} on a token subset where a guard forbids reuse`,
          );
        mark(i, 'P');
        pass.runBlock(i, { tokens });
        partialFraction += tokens.length / totalTokens;
        state.consecutive[i]++;
      },
      reuse(i) {
        if (!mayReuse(i))
          throw new Error(
            `${NAME}: policy ${policy.name} reused block ${i} at step ${step} where a guard forbids it`,
          );
        mark(i, 'R');
        state.consecutive[i]++;
      },
    };
    const pass = m.begin(x, t, cond);
    policy.forward(pass, ctx, bs.state);
    const undecided = marks.indexOf('-');
    if (undecided >= 0) throw new Error(`${NAME}: policy ${policy.name} left block ${undecided} undecided`);
    const blocks = marks.join('');
    const counts = stats.perBranch[branch];
    counts.passes++;
    for (const c of blocks) {
      if (c === 'C') counts.computed++;
      else if (c === 'P') counts.partial++;
      else counts.reused++;
    }
    stats.blockEvaluations += blocks.split('C').length - 1 + partialFraction;
    stats.trace.push({ step, branch, items: cond.length, blocks });
    return pass.finish();
  };

  const denoiser = (x: Sample, t: number, cond: (C | null)[] | null): Sample => {
    if (steps < 0)
      throw new Error(
        `${NAME}: no generation started; pass the cached denoiser as sample(..., { cache }) or call beginGeneration(steps) first`,
      );
    if (next >= steps)
      throw new Error(
        `${NAME}: call ${next + 1} of a generation of ${steps} calls; call beginGeneration again`,
      );
    const step = next++;
    const S = model.sampleSize;
    const items = x.length / S;
    const cs = cond ?? new Array<C | null>(items).fill(null);
    if (!Number.isInteger(items) || cs.length !== items)
      throw new Error(`${NAME}: x has ${x.length} values, cond has ${cs.length} entries, sampleSize is ${S}`);
    const out = new Float64Array(x.length);
    for (const branch of ['cond', 'uncond'] as const) {
      const idx: number[] = [];
      cs.forEach((c, k) => {
        if ((c === null) === (branch === 'uncond')) idx.push(k);
      });
      if (idx.length === 0) continue;
      const sub = new Float64Array(idx.length * S);
      idx.forEach((k, j) => {
        sub.set(x.subarray(k * S, (k + 1) * S), j * S);
      });
      const pred = runBranch(
        sub,
        t,
        idx.map((k) => cs[k]),
        branch,
        step,
      );
      idx.forEach((k, j) => {
        out.set(pred.subarray(j * S, (j + 1) * S), k * S);
      });
    }
    return out;
  };

  const api = {
    predictionType: model.predictionType as PredictionType,
    policy: policy.name,
    beginGeneration(n: number) {
      if (!(Number.isInteger(n) && n > 0))
        throw new Error(`${NAME}: beginGeneration(steps): steps must be a positive integer, got ${n}`);
      steps = n;
      next = 0;
      branches = {};
      stats = emptyStats(policy.name, n, L);
    },
    beginStep(index: number) {
      if (!(Number.isInteger(index) && index >= 0 && index < steps))
        throw new Error(`${NAME}: beginStep(${index}) is outside the generation's ${steps} calls`);
      next = index;
    },
    stats(): CacheStats {
      const b = stats.perBranch;
      const computed = b.cond.computed + b.uncond.computed;
      const partial = b.cond.partial + b.uncond.partial;
      const reused = b.cond.reused + b.uncond.reused;
      const total = computed + partial + reused;
      return structuredClone({ ...stats, computed, partial, reused, hitRate: total ? reused / total : 0 });
    },
  };
  return Object.assign(denoiser, api);
}

function emptyStats(policy: string, steps: number, numBlocks: number): CacheStats {
  const zero = (): BranchCounts => ({ passes: 0, computed: 0, partial: 0, reused: 0 });
  return {
    policy,
    steps,
    numBlocks,
    computed: 0,
    partial: 0,
    reused: 0,
    hitRate: 0,
    blockEvaluations: 0,
    perBranch: { cond: zero(), uncond: zero() },
    trace: [],
  };
}

// ---- helpers the policies share ------------------------------------------------------------------

/** a − b elementwise (same length). */
export function difference(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length !== b.length) throw new Error(`residual of buffers of ${a.length} and ${b.length} values`);
  const r = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) r[i] = a[i] - b[i];
  return r;
}

/** a + b elementwise into a new buffer. */
export function addInto(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length !== b.length)
    throw new Error(`cannot add a cached residual of ${b.length} values to ${a.length}`);
  const r = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) r[i] = a[i] + b[i];
  return r;
}

/** mean|a − b| / mean|b| (diffusers' and TeaCache's relative L1 distance). */
export function relativeL1(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += Math.abs(a[i] - b[i]);
    den += Math.abs(b[i]);
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : num / den;
}

/** Requires a DiT (token rows) or UNet model, with a clear message naming the policy. */
export function requireArchitecture(
  policy: string,
  model: BlockDenoiser<unknown>,
  arch: 'dit' | 'unet',
): void {
  if (model.architecture !== arch)
    throw new Error(
      `${policy}: needs a ${arch === 'dit' ? 'DiT (token rows, shape-preserving blocks)' : 'UNet (skip branches)'}, got a ${model.architecture}`,
    );
}

/** Sets `pass.hidden` to `value` (same shape as now, e.g. input + cached residual). */
export function replaceHidden(
  pass: DenoiserPass,
  value: Float32Array,
  shape: readonly number[] = pass.shape,
): void {
  pass.hidden = value;
  pass.shape = shape;
}

/** Runs every block and returns h_L − h_0 (the stack must keep the shape of its input). */
export function stackResidual(pass: DenoiserPass, ctx: CacheContext, policy: string): Float32Array {
  const input = pass.hidden.slice();
  const shape = [...pass.shape];
  for (let i = 0; i < ctx.model.numBlocks; i++) ctx.compute(pass, i);
  if (pass.shape.length !== shape.length || pass.shape.some((d, k) => d !== shape[k]))
    throw new Error(
      `${policy}: the block stack maps shape [${shape}] to [${pass.shape}]; a stack residual needs equal shapes`,
    );
  return difference(pass.hidden, input);
}

/** Per-token cache of one block (ToCa, RAS): its last input and residual per row, steps since computed. */
export interface BlockCache {
  input: Float32Array;
  residual: Float32Array;
  stale: Int32Array;
}

/** The k highest scores' indices, ascending (ties: the lower index). */
export function topTokens(score: Float64Array, k: number): Int32Array {
  const order = Array.from(score.keys()).sort((a, b) => score[b] - score[a] || a - b);
  return Int32Array.from(order.slice(0, k)).sort();
}

/** [items, tokens, width] of a DiT pass. */
export function ditDims(pass: DenoiserPass, policy: string): [number, number, number] {
  if (pass.shape.length !== 3)
    throw new Error(`${policy}: needs DiT hidden states [batch, tokens, width], got [${pass.shape}]`);
  return [pass.shape[0], pass.shape[1], pass.shape[2]];
}

/**
 * Runs block i on `tokens` only; the other rows get input + cached residual. Refreshes the cache of
 * the computed rows (input, residual, staleness 0); the others age by one.
 */
export function partialBlock(
  pass: DenoiserPass,
  ctx: CacheContext,
  i: number,
  tokens: Int32Array,
  c: BlockCache,
): void {
  const [B, T, W] = ditDims(pass, 'partialBlock');
  const input = pass.hidden.slice();
  ctx.computeTokens(pass, i, tokens, T);
  const out = pass.hidden;
  const chosen = new Uint8Array(T);
  for (const tok of tokens) chosen[tok] = 1;
  for (let tok = 0; tok < T; tok++) {
    if (chosen[tok]) c.stale[tok] = 0;
    else c.stale[tok]++;
    for (let b = 0; b < B; b++) {
      const o = (b * T + tok) * W;
      for (let w = o; w < o + W; w++) {
        if (chosen[tok]) {
          c.residual[w] = out[w] - input[w];
          c.input[w] = input[w];
        } else out[w] = input[w] + c.residual[w];
      }
    }
  }
}

/** Runs block i fully and caches its input and residual for every row. */
export function fullBlock(pass: DenoiserPass, ctx: CacheContext, i: number, T: number): BlockCache {
  const input = pass.hidden.slice();
  ctx.compute(pass, i);
  const residual = new Float32Array(input.length);
  for (let k = 0; k < input.length; k++) residual[k] = pass.hidden[k] - input[k];
  return { input, residual, stale: new Int32Array(T) };
}
