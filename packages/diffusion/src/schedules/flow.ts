/**
 * @file Flow-matching sigma schedules (rectified flow, x_σ = (1 − σ)·x0 + σ·ε), with diffusers'
 * formulas (huggingface/diffusers:src/diffusers/schedulers/scheduling_flow_match_euler_discrete.py,
 * pipelines/flux/pipeline_flux.py `calculate_shift`):
 * - static shift (SD3, Esser et al. arXiv 2403.03206 eq. 23): σ' = sσ / (1 + (s − 1)σ);
 * - dynamic shift (FLUX): exponential time shift σ' = e^μ / (e^μ + (1/σ − 1)^τ) (τ = 1), with μ linear
 *   in the image sequence length between (base_seq_len, base_shift) and (max_seq_len, max_shift);
 *   linear time shift σ' = μ / (μ + (1/σ − 1)^τ);
 * - shift_terminal (LTX): stretch so that the last σ equals the terminal value:
 *   σ'' = 1 − (1 − σ')/((1 − σ'_last)/(1 − terminal)).
 */

/** Static shift σ' = sσ/(1 + (s−1)σ). */
export function shiftSigma(sigma: number, shift: number): number {
  return (shift * sigma) / (1 + (shift - 1) * sigma);
}

/** Exponential time shift e^μ/(e^μ + (1/σ − 1)^τ). */
export function timeShiftExponential(mu: number, sigma: number, tau = 1): number {
  if (sigma <= 0) return 0;
  return Math.exp(mu) / (Math.exp(mu) + (1 / sigma - 1) ** tau);
}

/** Linear time shift μ/(μ + (1/σ − 1)^τ). */
export function timeShiftLinear(mu: number, sigma: number, tau = 1): number {
  if (sigma <= 0) return 0;
  return mu / (mu + (1 / sigma - 1) ** tau);
}

/** μ for an image sequence length (FLUX's calculate_shift; defaults 256 → 0.5, 4096 → 1.15). */
export function calculateShift(
  imageSeqLen: number,
  baseSeqLen = 256,
  maxSeqLen = 4096,
  baseShift = 0.5,
  maxShift = 1.15,
): number {
  const m = (maxShift - baseShift) / (maxSeqLen - baseSeqLen);
  return imageSeqLen * m + (baseShift - m * baseSeqLen);
}

/** Stretch a descending σ list so that its last value becomes `terminal`. */
export function stretchShiftToTerminal(sigmas: Float64Array, terminal: number): Float64Array {
  const scale = (1 - sigmas[sigmas.length - 1]) / (1 - terminal);
  return sigmas.map((s) => 1 - (1 - s) / scale);
}
