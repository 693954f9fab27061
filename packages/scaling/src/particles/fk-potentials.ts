/**
 * @file Feynman–Kac potentials of FK steering (Singhal, Horvitz, Teehan et al., "A General Framework
 * for Inference-time Scaling and Steering of Diffusion Models", arXiv 2501.06848; its reference code
 * fkd_class.py). A particle carries an accumulated reward a (initially `rewardMin`); at a resampling
 * step with reward r = r(x̂0(x_t)) and strength λ:
 *   difference: G = exp(λ(r − a)),          a ← r
 *   max:        G = exp(λ·max(r, a)),       a ← max(r, a)
 *   sum:        G = exp(λ(r + a)),          a ← r + a
 *   immediate:  G = exp(λ r),               a ← r        (the code's 'rt')
 * At the final step the max / sum / immediate potentials are replaced by the correction
 *   G_T = exp(λ r_T) / ∏_{s<T} G_s,
 * so the product of all potentials is exp(λ r(x0)) and the target is p(x0)·exp(λ r(x0)); the
 * difference potential telescopes to the same product and needs no correction. Everything here is in
 * log space: log G, and the running Σ log G of each particle.
 */
export const FK_POTENTIALS = ['difference', 'max', 'sum', 'immediate'] as const;
export type FkPotential = (typeof FK_POTENTIALS)[number];

export interface FkParticleState {
  /** Accumulated reward a. */
  accumulated: number;
  /** Σ log G of the potentials applied so far (the log of the product the correction divides by). */
  logProduct: number;
}

/** log G of one particle at one resampling step, and its state after. */
export function fkLogPotential(
  potential: FkPotential,
  reward: number,
  state: FkParticleState,
  lambda: number,
  final: boolean,
): { logG: number; next: FkParticleState } {
  let logG: number;
  let accumulated: number;
  switch (potential) {
    case 'difference':
      logG = lambda * (reward - state.accumulated);
      accumulated = reward;
      break;
    case 'max':
      accumulated = Math.max(reward, state.accumulated);
      logG = lambda * accumulated;
      break;
    case 'sum':
      accumulated = reward + state.accumulated;
      logG = lambda * accumulated;
      break;
    case 'immediate':
      accumulated = reward;
      logG = lambda * reward;
      break;
  }
  if (final && potential !== 'difference') logG = lambda * reward - state.logProduct;
  return { logG, next: { accumulated, logProduct: state.logProduct + logG } };
}
