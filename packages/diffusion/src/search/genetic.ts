/**
 * @file A small seeded genetic-search engine, generic over the genome, shared by the schedule
 * searches (ECAD cache schedules, `ecad.ts`; S³ / AutoDiffusion-style timestep schedules,
 * `timestep-search.ts`). Two selection schemes:
 *
 * - `'tournament'` (single objective, the first objective is minimised): parents are k-way
 *   tournament winners, each child a crossover (probability `crossoverRate`) then the problem's
 *   mutation; of parents and children together the `elitism` best survive and the remaining places
 *   go to the best children (default: (μ + λ) truncation, which kept improving on the cache-schedule
 *   problem where a generational GA with 2 elites stalled at its first generation's best).
 * - `'nsga2'` (several objectives, all minimised): NSGA-II (Deb, Pratap, Agarwal & Meyarivan, "A Fast
 *   and Elitist Multiobjective Genetic Algorithm: NSGA-II", IEEE TEC 6(2), 2002): fast non-dominated
 *   sorting, crowding distance, binary tournament on (rank, −crowding), (μ + λ) survivor selection
 *   by fronts, the last front cut by crowding distance. ECAD searches its cache schedules this way
 *   (Aggarwal et al., ICLR 2026, a Pareto front of quality against compute).
 *
 * Randomness comes only from a core-tensor Philox seeded with `seed`, so a search is reproducible.
 * The budget counts fitness evaluations of distinct genomes (`problem.key`): a genome seen before
 * takes its cached fitness and costs nothing. `evolve` is an async iterator of generations;
 * `geneticSearch` runs it to the end with an optional `onGeneration` callback. An `AbortSignal`
 * stops the search between evaluations (the promise rejects with the signal's reason).
 */
import { type Philox, rng } from '@hasten/core-tensor';
import { z } from 'zod';
import { parseOptions } from '../util';

const NAME = 'geneticSearch';

export const GeneticOptions = z.strictObject({
  populationSize: z.number().int().min(2).default(16),
  /** Fitness evaluations (of distinct genomes) the search may spend, generation 0 included. */
  budget: z.number().int().positive().default(200),
  /** A bound on generations, so a search whose children are all seen before still ends. */
  maxGenerations: z.number().int().positive().default(1000),
  seed: z.number().int().nonnegative().default(0),
  selection: z.enum(['tournament', 'nsga2']).default('tournament'),
  /** Tournament mode: individuals per tournament. */
  tournamentSize: z.number().int().min(2).default(3),
  crossoverRate: z.number().min(0).max(1).default(0.9),
  /**
   * Tournament mode: the best `elitism` individuals of parents and children together survive, the
   * other places go to the best children; the default (= populationSize) is (μ + λ) truncation,
   * 0 a generational GA. NSGA-II is elitist by construction.
   */
  elitism: z.number().int().nonnegative().optional(),
  signal: z
    .custom<AbortSignal>((v) => typeof v === 'object' && v !== null && 'aborted' in v, {
      message: 'expected an AbortSignal',
    })
    .optional(),
  /** Called after each generation (generation 0 included). */
  onGeneration: z
    .custom<(g: Generation<unknown>) => void>((v) => typeof v === 'function', {
      message: 'expected a function',
    })
    .optional(),
});
export type GeneticOptions = z.input<typeof GeneticOptions>;

/** What the engine needs to know about a genome type. */
export interface GeneticProblem<G> {
  /** A random individual of generation 0. */
  random(r: Philox): G;
  /** Individuals placed in generation 0 before the random ones (e.g. hand-set schedules). */
  initial?: readonly G[];
  crossover(a: G, b: G, r: Philox): G;
  mutate(a: G, r: Philox): G;
  /** Identity of a genome for the fitness cache and de-duplication. */
  key(a: G): string;
  /** Objective values, all minimised (a number is one objective). Infinity marks an infeasible genome. */
  evaluate(a: G): number | readonly number[] | Promise<number | readonly number[]>;
}

export interface Individual<G> {
  genome: G;
  objectives: number[];
  /** Non-domination rank (0 = Pareto front); in tournament mode the position in fitness order. */
  rank: number;
  crowding: number;
}

export interface Generation<G> {
  index: number;
  /** Fitness evaluations spent so far. */
  evaluations: number;
  /** The population, best first (tournament: by objective 0; NSGA-II: by rank, then crowding). */
  population: Individual<G>[];
  /** Lowest first objective in the population (ties: lowest rank). */
  best: Individual<G>;
  /** The non-dominated individuals of the population, sorted by their first objective. */
  front: Individual<G>[];
}

export interface GeneticResult<G> {
  best: Individual<G>;
  front: Individual<G>[];
  generations: number;
  evaluations: number;
  /** Per generation: evaluations spent and the best objectives. */
  history: { generation: number; evaluations: number; best: number[] }[];
}

/** Seeded generations of a genetic search (see the file comment); the last one is the result. */
export async function* evolve<G>(
  problem: GeneticProblem<G>,
  options: GeneticOptions = {},
): AsyncGenerator<Generation<G>, void, undefined> {
  const o = parseOptions(NAME, GeneticOptions, options);
  const r = rng(o.seed);
  const cache = new Map<string, number[]>();
  let evaluations = 0;
  let nObjectives = -1;

  const evaluate = async (g: G): Promise<Individual<G> | null> => {
    const k = problem.key(g);
    let obj = cache.get(k);
    if (obj === undefined) {
      if (evaluations >= o.budget) return null;
      o.signal?.throwIfAborted();
      const v = await problem.evaluate(g);
      obj = typeof v === 'number' ? [v] : [...v];
      if (obj.length === 0 || obj.some((x) => Number.isNaN(x)))
        throw new Error(
          `${NAME}: evaluate returned [${obj}] for genome ${k}; objectives must be numbers, not NaN`,
        );
      if (nObjectives < 0) nObjectives = obj.length;
      else if (obj.length !== nObjectives)
        throw new Error(
          `${NAME}: evaluate returned ${obj.length} objectives, earlier ones had ${nObjectives}`,
        );
      evaluations++;
      cache.set(k, obj);
    }
    return { genome: g, objectives: obj, rank: 0, crowding: 0 };
  };

  // Generation 0: the problem's seeds, then distinct random genomes.
  let population: Individual<G>[] = [];
  const seen = new Set<string>();
  const add = async (g: G) => {
    const k = problem.key(g);
    if (seen.has(k)) return true;
    const ind = await evaluate(g);
    if (ind === null) return false;
    seen.add(k);
    population.push(ind);
    return true;
  };
  for (const g of problem.initial ?? []) {
    if (population.length >= o.populationSize || !(await add(g))) break;
  }
  for (let tries = 0; population.length < o.populationSize && tries < 20 * o.populationSize; tries++)
    if (!(await add(problem.random(r)))) break;
  if (population.length === 0)
    throw new Error(`${NAME}: generation 0 is empty (budget ${o.budget}, no distinct genomes)`);

  const finishGeneration = (index: number): Generation<G> => {
    population = o.selection === 'nsga2' ? survivors(population, population.length) : byFitness(population);
    const front = population
      .filter((p) => p.rank === 0)
      .sort((a, b) => lexicographic(a.objectives, b.objectives));
    const best = population.reduce((a, b) =>
      b.objectives[0] < a.objectives[0] || (b.objectives[0] === a.objectives[0] && b.rank < a.rank) ? b : a,
    );
    const g: Generation<G> = { index, evaluations, population, best, front };
    o.onGeneration?.(g as Generation<unknown>);
    return g;
  };

  yield finishGeneration(0);
  for (let gen = 1; gen < o.maxGenerations && evaluations < o.budget; gen++) {
    // Let timers (an abort, a progress display) run between generations of synchronous evaluations.
    await new Promise((resolve) => setTimeout(resolve, 0));
    o.signal?.throwIfAborted();
    const pick = () =>
      o.selection === 'nsga2'
        ? crowdedTournament(population, r)
        : tournament(population, o.tournamentSize, r);
    const child = () => {
      const a = pick();
      const b = pick();
      const c = r.uniform(1)[0] < o.crossoverRate ? problem.crossover(a.genome, b.genome, r) : a.genome;
      return problem.mutate(c, r);
    };
    const children: Individual<G>[] = [];
    let exhausted = false;
    for (let i = 0; i < o.populationSize; i++) {
      const ind = await evaluate(child());
      if (ind === null) {
        exhausted = true;
        break;
      }
      children.push(ind);
    }
    if (o.selection === 'nsga2') {
      const union = dedupe([...population, ...children], problem.key);
      population = survivors(union, o.populationSize);
    } else {
      // The `elitism` best of parents ∪ children survive, the other places go to the best remaining
      // children (then the best remaining parents, if the budget ran out mid-generation).
      const union = byFitness(dedupe([...population, ...children], problem.key));
      const elites = union.slice(0, Math.min(o.elitism ?? o.populationSize, o.populationSize));
      const rest = union.filter((p) => !elites.includes(p));
      const kids = rest.filter((p) => children.includes(p));
      const olds = rest.filter((p) => !children.includes(p));
      population = [...elites, ...kids, ...olds].slice(0, o.populationSize);
    }
    yield finishGeneration(gen);
    if (exhausted) return;
  }
}

/** Runs `evolve` to the end and returns the best individual, the Pareto front and a history. */
export async function geneticSearch<G>(
  problem: GeneticProblem<G>,
  options: GeneticOptions = {},
): Promise<GeneticResult<G>> {
  let last: Generation<G> | undefined;
  const history: GeneticResult<G>['history'] = [];
  for await (const g of evolve(problem, options)) {
    last = g;
    history.push({ generation: g.index, evaluations: g.evaluations, best: [...g.best.objectives] });
  }
  if (last === undefined) throw new Error(`${NAME}: no generation ran`);
  return {
    best: last.best,
    front: last.front,
    generations: last.index + 1,
    evaluations: last.evaluations,
    history,
  };
}

// ---- selection ------------------------------------------------------------------------------------

function lexicographic(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** Tournament mode: sorted by objectives (lexicographic), rank = position. */
function byFitness<G>(pop: Individual<G>[]): Individual<G>[] {
  const sorted = [...pop].sort((a, b) => lexicographic(a.objectives, b.objectives));
  sorted.forEach((p, i) => {
    p.rank = i;
    p.crowding = 0;
  });
  return sorted;
}

function dedupe<G>(pop: Individual<G>[], key: (g: G) => string): Individual<G>[] {
  const seen = new Set<string>();
  return pop.filter((p) => {
    const k = key(p.genome);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function randomIndex(n: number, r: Philox): number {
  return Math.min(n - 1, Math.floor(r.uniform(1)[0] * n));
}

/** k-way tournament on the fitness order (the population is sorted, so the lowest index wins). */
function tournament<G>(pop: Individual<G>[], k: number, r: Philox): Individual<G> {
  let best = randomIndex(pop.length, r);
  for (let i = 1; i < k; i++) best = Math.min(best, randomIndex(pop.length, r));
  return pop[best];
}

/** NSGA-II's binary crowded-comparison tournament. */
function crowdedTournament<G>(pop: Individual<G>[], r: Philox): Individual<G> {
  const a = pop[randomIndex(pop.length, r)];
  const b = pop[randomIndex(pop.length, r)];
  if (a.rank !== b.rank) return a.rank < b.rank ? a : b;
  return b.crowding > a.crowding ? b : a;
}

/** a dominates b: no worse in every objective and better in one (minimisation). */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/** Deb et al.'s fast non-dominated sort: the fronts as index lists, front 0 first. */
export function nonDominatedSort(objectives: readonly (readonly number[])[]): number[][] {
  const n = objectives.length;
  const dominatedBy = Array.from({ length: n }, () => [] as number[]);
  const count = new Int32Array(n);
  const fronts: number[][] = [[]];
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      if (p === q) continue;
      if (dominates(objectives[p], objectives[q])) dominatedBy[p].push(q);
      else if (dominates(objectives[q], objectives[p])) count[p]++;
    }
    if (count[p] === 0) fronts[0].push(p);
  }
  for (let i = 0; fronts[i].length > 0; i++) {
    const next: number[] = [];
    for (const p of fronts[i]) for (const q of dominatedBy[p]) if (--count[q] === 0) next.push(q);
    fronts.push(next);
  }
  fronts.pop();
  return fronts;
}

/** Crowding distance of the members of one front (boundary points: Infinity). */
export function crowdingDistance(objectives: readonly (readonly number[])[]): Float64Array {
  const n = objectives.length;
  const d = new Float64Array(n);
  if (n === 0) return d;
  for (let m = 0; m < objectives[0].length; m++) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => objectives[a][m] - objectives[b][m]);
    const lo = objectives[order[0]][m];
    const hi = objectives[order[n - 1]][m];
    d[order[0]] = Infinity;
    d[order[n - 1]] = Infinity;
    if (!(hi > lo) || !Number.isFinite(hi - lo)) continue;
    for (let i = 1; i < n - 1; i++)
      d[order[i]] += (objectives[order[i + 1]][m] - objectives[order[i - 1]][m]) / (hi - lo);
  }
  return d;
}

/** NSGA-II survivor selection: whole fronts while they fit, the last one by crowding distance. */
function survivors<G>(pop: Individual<G>[], size: number): Individual<G>[] {
  const fronts = nonDominatedSort(pop.map((p) => p.objectives));
  const out: Individual<G>[] = [];
  fronts.forEach((front, rank) => {
    if (out.length >= size) return;
    const members = front.map((i) => pop[i]);
    const crowd = crowdingDistance(members.map((p) => p.objectives));
    members.forEach((p, i) => {
      p.rank = rank;
      p.crowding = crowd[i];
    });
    members.sort((a, b) => b.crowding - a.crowding || lexicographic(a.objectives, b.objectives));
    out.push(...members.slice(0, size - out.length));
  });
  return out;
}
