/**
 * @file Noise-level (σ) schedules and conversions, f64, with diffusers' formulas
 * (huggingface/diffusers:src/diffusers/schedulers/scheduling_euler_discrete.py `_convert_to_karras`,
 * `_convert_to_exponential`, `_convert_to_beta`, `_sigma_to_t`; scheduling_dpmsolver_multistep.py
 * `_convert_to_lu`):
 * - Karras et al. (arXiv 2206.00364, eq. 5): σ_i = (σmax^{1/ρ} + i/(N−1)·(σmin^{1/ρ} − σmax^{1/ρ}))^ρ, ρ = 7;
 * - exponential: σ_i = exp(linspace(log σmax, log σmin, N));
 * - beta (Lee et al., "Beta Sampling is All You Need", arXiv 2407.12173): σ_i = σmin + F⁻¹(1 − i/(N−1))·(σmax − σmin),
 *   F the Beta(0.6, 0.6) CDF;
 * - λ-uniform (Lu et al., DPM-Solver++ arXiv 2211.01095): λ = −log σ evenly spaced, i.e. exponential in σ;
 * - VP conversions: α_t = 1/√(σ²+1), σ_t = σ·α_t, λ = log α_t − log σ_t = −log σ.
 */

/** Karras sigmas (ρ = 7 unless given). */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7): Float64Array {
  const lo = sigmaMin ** (1 / rho);
  const hi = sigmaMax ** (1 / rho);
  return Float64Array.from({ length: n }, (_, i) => (hi + (n === 1 ? 0 : i / (n - 1)) * (lo - hi)) ** rho);
}

/** Log-uniform sigmas from σmax down to σmin. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, n: number): Float64Array {
  const a = Math.log(sigmaMax);
  const b = Math.log(sigmaMin);
  return Float64Array.from({ length: n }, (_, i) => Math.exp(n === 1 ? a : a + (i / (n - 1)) * (b - a)));
}

/** λ-uniform sigmas: λ = −log σ evenly spaced between the ends (diffusers' use_lu_lambdas). */
export function luLambdaSigmas(sigmaMin: number, sigmaMax: number, n: number): Float64Array {
  return exponentialSigmas(sigmaMin, sigmaMax, n);
}

/** Beta-quantile sigmas (α = β = 0.6 by default). */
export function betaSigmas(
  sigmaMin: number,
  sigmaMax: number,
  n: number,
  alpha = 0.6,
  beta = 0.6,
): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => {
    const q = 1 - (n === 1 ? 0 : i / (n - 1));
    return sigmaMin + betaPpf(q, alpha, beta) * (sigmaMax - sigmaMin);
  });
}

/** log Γ(x) (Lanczos, g = 7, n = 9; ~1e-15 relative for x > 0). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xx = x - 1;
  let a = c[0];
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (xx + i);
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b), the Beta(a, b) CDF. */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lbt) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lbt) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Beta(a, b) quantile by bisection (monotone CDF; 200 halvings reach f64 resolution). */
export function betaPpf(q: number, a: number, b: number): number {
  if (q <= 0) return 0;
  if (q >= 1) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-17; i++) {
    const mid = 0.5 * (lo + hi);
    if (betaCdf(mid, a, b) < q) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** numpy.interp for ascending `xp`, clamped at the ends. */
export function interp(x: number, xp: ArrayLike<number>, fp: ArrayLike<number>): number {
  const n = xp.length;
  if (x <= xp[0]) return fp[0];
  if (x >= xp[n - 1]) return fp[n - 1];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid] <= x) lo = mid;
    else hi = mid;
  }
  const w = (x - xp[lo]) / (xp[hi] - xp[lo]);
  return fp[lo] + w * (fp[hi] - fp[lo]);
}

/**
 * The (fractional) training timestep of σ: piecewise-linear in log σ over the training sigmas
 * (ascending), clipped to [0, T−1] (diffusers' `_sigma_to_t`).
 */
export function sigmaToT(sigma: number, logSigmas: Float64Array): number {
  const ls = Math.log(Math.max(sigma, 1e-10));
  const n = logSigmas.length;
  let low = 0;
  for (let i = 0; i < n; i++) if (ls >= logSigmas[i]) low = i; // cumsum(dists >= 0).argmax: last index with ls ≥ logσ_i
  low = Math.min(low, n - 2);
  const w = Math.min(1, Math.max(0, (logSigmas[low] - ls) / (logSigmas[low] - logSigmas[low + 1])));
  return (1 - w) * low + w * (low + 1);
}

/** σ at a fractional training timestep: the inverse of `sigmaToT` (log-linear between integer steps). */
export function tToSigma(t: number, logSigmas: Float64Array): number {
  const n = logSigmas.length;
  const c = Math.min(Math.max(t, 0), n - 1);
  const i = Math.min(Math.floor(c), n - 2);
  const w = c - i;
  return Math.exp((1 - w) * logSigmas[i] + w * logSigmas[i + 1]);
}

/** VP (α_t, σ_t) of a VE-view σ. */
export function vpAlphaSigma(sigma: number): { alpha: number; sigma: number } {
  const a = 1 / Math.sqrt(sigma * sigma + 1);
  return { alpha: a, sigma: sigma * a };
}
