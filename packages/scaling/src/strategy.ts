/**
 * @file The Strategy contract. A strategy is built from a proposer, a scorer and a budget in a declared
 * unit; `run()` is an async iterator of progress events whose last event is `{ type: 'done', trace }`
 * (every candidate, score, weight and decision, the budget spent). Runs are seeded (Philox, one
 * generator per call, see run-context.ts), limited in concurrency, and stop on an AbortSignal with a
 * StrategyAbortError (name 'AbortError') that carries the trace recorded so far.
 */
import type { BudgetUnit } from './budget';
import { isAbortError, StrategyAbortError } from './errors';
import { parseOptions, RunOptions } from './options';
import { RunContext } from './run-context';
import type { StrategyEvent, Trace } from './trace';

export interface Strategy<S> {
  readonly name: string;
  readonly unit: BudgetUnit;
  readonly budget: number;
  run(options?: RunOptions): AsyncGenerator<StrategyEvent<S>, Trace<S>, void>;
}

/** What a strategy body yields at the end of a step; the runner adds spent and budget. */
export interface StepReport {
  step: number;
  active: number;
  bestScore?: number;
}

export interface StrategySpec<S> {
  name: string;
  unit: BudgetUnit;
  budget: number;
  defaults: { seed: number; concurrency: number; signal?: AbortSignal };
  body(ctx: RunContext<S>): AsyncGenerator<StepReport, void, void>;
}

/** Wrap a strategy body into the Strategy contract (events, trace, abort). */
export function defineStrategy<S>(spec: StrategySpec<S>): Strategy<S> {
  return {
    name: spec.name,
    unit: spec.unit,
    budget: spec.budget,
    async *run(options?: RunOptions) {
      const o = parseOptions(RunOptions, options, `${spec.name}.run`);
      const ctx = new RunContext<S>({
        strategy: spec.name,
        unit: spec.unit,
        budget: spec.budget,
        seed: o.seed ?? spec.defaults.seed,
        concurrency: o.concurrency ?? spec.defaults.concurrency,
        signal: o.signal ?? spec.defaults.signal,
      });
      try {
        ctx.throwIfAborted();
        for await (const r of spec.body(ctx)) {
          ctx.throwIfAborted();
          yield { type: 'progress', spent: ctx.spent, budget: spec.budget, ...r };
        }
        ctx.throwIfAborted();
      } catch (e) {
        if (ctx.signal?.aborted || isAbortError(e)) throw new StrategyAbortError(ctx.trace(true), e);
        throw e;
      }
      const trace = ctx.trace();
      yield { type: 'done', trace };
      return trace;
    },
  };
}

/** Run a strategy to the end, ignoring progress events; resolves with the trace. */
export async function runStrategy<S>(strategy: Strategy<S>, options?: RunOptions): Promise<Trace<S>> {
  for await (const e of strategy.run(options)) if (e.type === 'done') return e.trace;
  throw new Error(`${strategy.name}: run ended without a trace`);
}
