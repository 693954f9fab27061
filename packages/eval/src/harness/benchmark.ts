import type { EnvironmentInput } from './environment.js';
import type { QualityCheck, Series } from './schema.js';

// What a package's bench/ file declares: cases that each run a method and its baseline on the same
// inputs, plus the quality check that makes the speed-up meaningful.

export interface BenchmarkCase<R> {
  name: string;
  /** Names shown in tables and plots (default "baseline" / "method"). */
  baselineLabel?: string;
  methodLabel?: string;
  baseline: () => R | Promise<R>;
  method: () => R | Promise<R>;
  /** Compares the outputs of the last measured runs (method syntax: bivariant, so cases mix output types). */
  quality?(baselineOut: R, methodOut: R): QualityCheck | Promise<QualityCheck>;
  /** Work per call (e.g. { amount: 128, unit: 'tokens' }) to report rates beside the times. */
  work?: { amount: number; unit: string };
  /** Calls per timed sample, for functions too fast to time one by one (default 1). */
  batch?: number;
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
