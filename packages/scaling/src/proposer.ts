/**
 * @file The contracts a strategy searches with. Everything is async-capable, so a remote engine (an
 * OpenAI-compatible server, a worker) can stand behind a proposer or a scorer.
 *
 * Generation is modelled as steps over an opaque state S: `initial()` makes the root state (the
 * prompt, the initial noise x_T), `propose(state)` returns the state one step later (a reasoning step,
 * a denoising step), `done(state)` says the state is final. States are treated as immutable values:
 * a strategy may propose from the same state many times (beam expansion, resampled particles). When
 * duplicating is not free (a KV cache), the proposer supplies `fork` (called once per extra copy a
 * resampler makes, e.g. a copy-on-write fork of @hasten/kv's paged cache) and `release` (called when a
 * strategy drops a state it will never propose from again).
 */
import type { Philox } from '@hasten/core-tensor';

export interface ProposeContext {
  /** A generator for this call alone, derived from the run's seed and the call's position in the run. */
  rng: Philox;
  signal?: AbortSignal;
}

export interface Proposer<S> {
  /** The root state of a query (the prompt; x_T). */
  initial(ctx: ProposeContext): S | Promise<S>;
  /** One step from `state`; must not mutate it. */
  propose(state: S, ctx: ProposeContext): S | Promise<S>;
  /** Whether `state` is final (EOS, an answer, t = 0). */
  done(state: S): boolean;
  /** The canonical final answer of a state, for voting (self-consistency, weighted best-of-N). */
  answer?(state: S): string;
  /** Units (tokens, NFE) the step from `from` to `to` cost; default 1 per propose call. */
  cost?(from: S, to: S): number;
  /** An independent copy of `state` for a duplicate made by resampling (default: the same value). */
  fork?(state: S): S;
  /** `state` will not be used again (pruned, not resampled); free what it holds. */
  release?(state: S): void;
}

export interface ScoreContext {
  signal?: AbortSignal;
}

/**
 * A reward: of a partial state (a process reward model, a reward on the Tweedie estimate x̂0) or of a
 * final one (an outcome reward, a verifier). Must return a finite number.
 */
export type Scorer<S> = (state: S, ctx: ScoreContext) => number | Promise<number>;

/**
 * Diffusion-side search over initial noises (Ma et al. 2501.09732; EvoSearch 2505.17618): a sample is a
 * deterministic function of its noise vector (an ODE/DDIM solve), costing `nfe` function evaluations.
 */
export interface NoiseProposer<S> {
  /** Length of a noise vector. */
  readonly dim: number;
  /** NFE one `generate` costs (default 1). */
  readonly nfe?: number;
  generate(noise: Float64Array, ctx: ProposeContext): S | Promise<S>;
}
