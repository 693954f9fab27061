/**
 * The rows of the arithmetic bench (arith.ts): every LLM strategy of @hasten/scaling on the same
 * proposer (arith-lm through `llmProposer`) and scorer (arith-prm), each as a function of the budget
 * N. How N maps onto each method (its label says it too):
 *  - best-of-N, weighted best-of-N, self-consistency: N samples;
 *  - beam search: N beams of width min(4, N); DVTS: width gcd(4, N) (search-and-learn's
 *    `beam_width` 4, "m in the paper"), so N/4 independent subtrees expanding 4 children per step;
 *  - particle filtering, entropic PF: N particles;
 *  - particle Gibbs: particles × sweeps = N, as its_hub (`num_particles = budget // num_iterations`):
 *    2 sweeps of ⌊N/2⌋ particles; undefined at N = 1 (a sweep needs 2 particles), shown as n/a;
 *  - early stopping (adaptive / Beta self-consistency) and mid-generation pruning: N is the most
 *    samples; what they spend is the bench's token count.
 * A row returns undefined at a budget it is not defined at.
 */
import type { ArithPrm, LlmState } from '../src/adapters/index';
import {
  beamSearch,
  bestOfN,
  dvts,
  entropicParticleFiltering,
  type Proposer,
  particleFiltering,
  particleGibbs,
  type Strategy,
  selfConsistency,
  selfEvalPruning,
  weightedBestOfN,
} from '../src/index';

export type Make = (proposer: Proposer<LlmState>, budget: number) => Strategy<LlmState> | undefined;

/** Most steps (lines) of a solution; the held-out problems need 2–3 (T_max of entropic annealing). */
const maxSteps = 8;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Particle Gibbs sweeps: the budget is PG_SWEEPS × ⌊N / PG_SWEEPS⌋ particles. */
const PG_SWEEPS = 2;
/** Mid-generation pruning: self-evaluate after these steps and keep this share of the unfinished. */
const PRUNE_CHECKPOINTS = [1, 2];
const PRUNE_KEEP = 0.25;

export const BEST_OF_N = 'best-of-N (PRM min)';
export const WEIGHTED_BEST_OF_N = 'weighted best-of-N (PRM min)';
export const SELF_CONSISTENCY = 'self-consistency (majority vote)';
export const PARTICLE_FILTERING = 'particle filtering (PRM)';
export const PARTICLE_FILTERING_WM = 'particle filtering (PRM, weighted majority)';
export const PRUNING =
  'mid-generation pruning (PRM min as self-eval; keep ¼ of unfinished after steps 1 and 2)';

export function arithRows(prm: ArithPrm): Record<string, Make> {
  return {
    [BEST_OF_N]: (proposer, n) => bestOfN({ proposer, scorer: prm.scorer('min'), budget: n, maxSteps }),
    [WEIGHTED_BEST_OF_N]: (proposer, n) =>
      weightedBestOfN({ proposer, scorer: prm.scorer('min'), budget: n, maxSteps }),
    [SELF_CONSISTENCY]: (proposer, n) => selfConsistency({ proposer, budget: n, maxSteps }),
    'beam search (PRM, width ≤ 4)': (proposer, n) =>
      beamSearch({ proposer, scorer: prm.scorer('last'), budget: n, beamWidth: Math.min(4, n), maxSteps }),
    [PARTICLE_FILTERING]: (proposer, n) =>
      particleFiltering({ proposer, scorer: prm.scorer('last'), budget: n, maxSteps }),
    // The same filter (same seed, same draws); only the final choice differs.
    [PARTICLE_FILTERING_WM]: (proposer, n) =>
      particleFiltering({
        proposer,
        scorer: prm.scorer('last'),
        budget: n,
        maxSteps,
        select: 'weighted-majority',
      }),
    'DVTS (PRM, width gcd(4, N): N/4 subtrees of 4)': (proposer, n) =>
      dvts({ proposer, scorer: prm.scorer('last'), budget: n, beamWidth: gcd(4, n), maxSteps }),
    // its_hub's defaults: ESS/N < 0.5 in the first half of the steps, systematic resampling.
    'entropic particle filtering (PRM; its_hub defaults)': (proposer, n) =>
      entropicParticleFiltering({ proposer, scorer: prm.scorer('last'), budget: n, maxSteps }),
    [`particle Gibbs (PRM; ${PG_SWEEPS} sweeps × N/${PG_SWEEPS} particles = N)`]: (proposer, n) =>
      Math.floor(n / PG_SWEEPS) < 2
        ? undefined
        : particleGibbs({
            proposer,
            scorer: prm.scorer('last'),
            budget: PG_SWEEPS * Math.floor(n / PG_SWEEPS),
            iterations: PG_SWEEPS,
            maxSteps,
          }),
    // its_hub's adaptive SC: check at 2, 4, 8, ... samples, stop at a 75% supermajority.
    'self-consistency, adaptive stop (2, 4, 8, … ≤ N samples; ≥ 75% supermajority)': (proposer, n) =>
      selfConsistency({ proposer, budget: n, maxSteps, stopping: 'adaptive' }),
    // Beta SC: samples drawn in waves of the run's concurrency (8, the default, set here), stop when
    // P(leader > runner-up) ≥ 0.95; the rest of the wave was paid for and is counted in the tokens.
    'self-consistency, Beta stop (≤ N samples in waves of 8; P(leader best) ≥ 0.95)': (proposer, n) =>
      selfConsistency({ proposer, budget: n, maxSteps, stopping: 'beta', concurrency: 8 }),
    // Manvi et al.'s pruning with the PRM standing in for the self-evaluation; the final pick is the
    // argmax of the same score, so its reference is best-of-N with the PRM (min), not the weighted vote.
    [PRUNING]: (proposer, n) =>
      selfEvalPruning({
        proposer,
        scorer: prm.scorer('min'),
        budget: n,
        checkpoints: PRUNE_CHECKPOINTS,
        keep: PRUNE_KEEP,
        maxSteps,
      }),
  };
}
