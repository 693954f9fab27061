import type { SpeedupEstimate } from '../metrics/speedup.js';
import type { SampleSummary } from '../metrics/summarize.js';
import type { EnvironmentInput } from './environment.js';
import type { BenchImage, QualityCheck, Series } from './schema.js';

// What a package's bench/ file declares: cases that each run a method and its baseline on the same
// inputs, plus the quality check that makes the speed-up meaningful.

/** The case's measured times, handed to `quality` for checks that are about speed (a cost target). */
export interface CaseTiming {
  /** Milliseconds per call, as in the result. */
  baseline: SampleSummary;
  method: SampleSummary;
  speedup: SpeedupEstimate;
}

export type BenchSide = 'baseline' | 'method';

export interface BenchmarkCase<R> {
  name: string;
  /** Names shown in tables and plots (default "baseline" / "method"). */
  baselineLabel?: string;
  methodLabel?: string;
  baseline: () => R | Promise<R>;
  method: () => R | Promise<R>;
  /**
   * Compares the outputs of the last measured runs (method syntax: bivariant, so cases mix output
   * types). `timing` holds the measured times, for a check stated as a cost target.
   */
  quality?(baselineOut: R, methodOut: R, timing: CaseTiming): QualityCheck | Promise<QualityCheck>;
  /** Work per call (e.g. { amount: 128, unit: 'tokens' }) to report rates beside the times. */
  work?: { amount: number; unit: string };
  /** Calls per timed sample, for functions too fast to time one by one (default 1). */
  batch?: number;
  /**
   * Target length of a timed sample in ms: after the warm-up, each side is timed (over 1, 2, 4, ...
   * calls until they last sampleMs / 4) and gets max(batch, ceil(sampleMs / its ms per call)) calls
   * per sample, so sub-millisecond calls are timed over many calls and both sides' samples last
   * about as long. Recorded as `callsPerSample`.
   */
  sampleMs?: number;
  /**
   * Runs untimed before each timed sample of a side, with that side's calls per sample: e.g. wait for a
   * thread pool that spins after work to go idle, then re-warm the side that runs next.
   */
  beforeSample?(side: BenchSide, calls: number): void | Promise<void>;
  warmup?: number;
  repeats?: number;
  setup?(): void | Promise<void>;
  teardown?(): void | Promise<void>;
}

export interface BenchmarkDefinition {
  /** Short package name: results go to bench-results/<package>/<name>.json. */
  package: string;
  name: string;
  description?: string;
  cases: BenchmarkCase<unknown>[];
  /** Unmeasured warm-up rounds (each runs baseline and method once). Default 2. */
  warmup?: number;
  /** Measured rounds. Default 10. */
  repeats?: number;
  /** 'abba' (default) alternates which side runs first each round; 'ab' always runs the baseline first. */
  interleave?: 'ab' | 'abba';
  confidence?: number;
  resamples?: number;
  seed?: number;
  /** Curves for the report: accuracy against budget, quality against steps. */
  series?: Series[] | (() => Series[] | Promise<Series[]>);
  /** Pictures for the report (paths relative to the repository root), resolved after the cases ran. */
  images?: BenchImage[] | (() => BenchImage[] | Promise<BenchImage[]>);
  environment?: EnvironmentInput;
}

/** Identity with types: `export default defineBenchmark({...})` in a bench module. */
export function defineBenchmark(definition: BenchmarkDefinition): BenchmarkDefinition {
  return definition;
}

/** Identity with inference of the output type R, so `quality(a, b)` is typed. */
export function defineCase<R>(benchCase: BenchmarkCase<R>): BenchmarkCase<unknown> {
  return benchCase as BenchmarkCase<unknown>;
}
