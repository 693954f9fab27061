/**
 * @file The state of one run: its random stream, concurrency limit, abort signal, budget accounting
 * and trace. Strategies call the proposer and the scorer only through it, so every call is limited,
 * abortable, counted and reproducible.
 *
 * Reproducibility: each call gets its own generator `root.fold(i)`, i = the call's index in request
 * order. Strategies request calls in a fixed order (a loop over particles) and read results by index,
 * never by completion order, so the trace is a function of the seed alone, whatever the concurrency.
 */
import { type Philox, rng } from '@hasten/core-tensor';
import type { BudgetUnit } from './budget';
import { ConcurrencyLimit } from './concurrency-limit';
import { ScalingError } from './errors';
import type { ProposeContext, Proposer, Scorer } from './proposer';
import type { Candidate, Decision, Trace } from './trace';

export interface RunSettings {
  strategy: string;
  unit: BudgetUnit;
  budget: number;
  seed: number;
  concurrency: number;
  signal?: AbortSignal;
}

/** The signal's reason, or a DOMException('AbortError') when it has none. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The run was aborted', 'AbortError');
}

export class RunContext<S> {
  readonly limit: ConcurrencyLimit;
  readonly signal?: AbortSignal;
  private readonly root: Philox;
  private drawn = 0;
  spent = 0;
  readonly calls = { propose: 0, score: 0 };
  readonly candidates: Candidate<S>[] = [];
  readonly decisions: Decision[] = [];
  best?: number;
  answer?: string;

  constructor(readonly settings: RunSettings) {
    this.limit = new ConcurrencyLimit(settings.concurrency);
    this.signal = settings.signal;
    this.root = rng(settings.seed);
  }

  /** A fresh generator, the next in the run's request order. */
  rng(): Philox {
    return this.root.fold(this.drawn++);
  }

  throwIfAborted(): void {
    if (this.signal?.aborted) throw abortReason(this.signal);
  }

  /**
   * Run `fn` under the concurrency limit; rejects as soon as the signal fires (a call already running
   * is left to finish in the background, its result ignored; a queued call never starts).
   */
  call<T>(fn: () => T | Promise<T>): Promise<T> {
    this.throwIfAborted();
    const signal = this.signal;
    const limited = this.limit.run(() => {
      this.throwIfAborted();
      return fn();
    });
    if (!signal) return limited;
    return Promise.race([limited, this.onAbort()]);
  }

  private abortPromise?: Promise<never>;

  /** One promise per run that rejects when the signal fires (one listener, however many calls). */
  private onAbort(): Promise<never> {
    if (!this.abortPromise) {
      const signal = this.signal as AbortSignal;
      this.abortPromise = new Promise<never>((_, reject) => {
        signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
      });
      this.abortPromise.catch(() => {}); // observed by the races; never an unhandled rejection
    }
    return this.abortPromise;
  }

  proposeContext(): ProposeContext {
    return { rng: this.rng(), signal: this.signal };
  }

  /** One proposer step from `state`; returns the new state and the step's cost (default 1). */
  async propose(proposer: Proposer<S>, state: S): Promise<{ state: S; cost: number }> {
    const ctx = this.proposeContext();
    const next = await this.call(() => proposer.propose(state, ctx));
    this.calls.propose++;
    const cost = proposer.cost ? proposer.cost(state, next) : 1;
    if (!(cost >= 0) || !Number.isFinite(cost)) {
      throw new ScalingError(
        'input',
        `${this.settings.strategy}: proposer.cost returned ${cost}; must be finite and >= 0`,
      );
    }
    return { state: next, cost };
  }

  async initial(proposer: Proposer<S>): Promise<S> {
    const ctx = this.proposeContext();
    return this.call(() => proposer.initial(ctx));
  }

  /** Score `state`; a non-finite score is an error naming the strategy. */
  async score<T = S>(scorer: Scorer<T>, state: T): Promise<number> {
    const s = await this.call(() => scorer(state, { signal: this.signal }));
    this.calls.score++;
    if (typeof s !== 'number' || !Number.isFinite(s)) {
      throw new ScalingError(
        'input',
        `${this.settings.strategy}: scorer returned ${String(s)}; must be a finite number`,
      );
    }
    return s;
  }

  spend(units: number): void {
    this.spent += units;
  }

  get remaining(): number {
    return this.settings.budget - this.spent;
  }

  /** Record a candidate; its id is its index in the trace. */
  add(c: Omit<Candidate<S>, 'id'>): Candidate<S> {
    const full = { id: this.candidates.length, ...c } as Candidate<S>;
    this.candidates.push(full);
    return full;
  }

  decide(step: number, kind: string, detail: Record<string, unknown> = {}): void {
    this.decisions.push({ step, kind, detail });
  }

  trace(aborted = false): Trace<S> {
    const { strategy, unit, budget, seed } = this.settings;
    return {
      strategy,
      unit,
      budget,
      spent: this.spent,
      seed,
      calls: { ...this.calls },
      candidates: this.candidates.slice(),
      decisions: this.decisions.slice(),
      ...(this.best === undefined ? {} : { best: this.best }),
      ...(this.answer === undefined ? {} : { answer: this.answer }),
      aborted,
    };
  }
}
