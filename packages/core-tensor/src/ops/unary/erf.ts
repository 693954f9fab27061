/**
 * @file Float64 erf and erfc, accurate to a few ulp, for the exact GELU.
 * - |x| < 2.5: the all-positive-terms series erf x = (2/√π) e^{-x²} Σ_n 2^n x^{2n+1} / (1·3·…·(2n+1))
 *   (DLMF 7.6.2, https://dlmf.nist.gov/7.6.E2); no cancellation, so it is accurate where the Taylor
 *   series is not.
 * - erfc for x >= 1, and erf for |x| >= 2.5: the continued fraction √π e^{x²} erfc x = 1/(x+ (1/2)/(x+ 1/(x+ (3/2)/(x+ …))))
 *   (DLMF 7.9.2, https://dlmf.nist.gov/7.9.E2), evaluated with the modified Lentz method, which gives
 *   erfc with full relative accuracy far into the tail.
 * e^{-x²} is computed as e^{-h²}·e^{-(x-h)(x+h)} with h = x rounded to float32, so h² is exact and the
 * rounding of x² does not cost relative accuracy in the tail (the trick fdlibm's s_erf.c uses).
 */
const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;
const SWITCH = 2.5;
/** Below 1 the fraction converges slowly (~190 terms at 1) and 1 - erf loses nothing. */
const ERFC_SWITCH = 1;

/** e^{-x²} without the error of rounding x² first. */
function expMinusSquare(x: number): number {
  const h = Math.fround(x);
  return Math.exp(-h * h) * Math.exp(-(x - h) * (x + h));
}

/** erf(x) for 0 <= x < SWITCH. */
function erfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 0; n < 200 && term > 1e-17 * sum; n++) {
    term *= x2 / (2 * n + 3);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * expMinusSquare(x) * sum;
}

/** erfc(x) for x >= ERFC_SWITCH. */
function erfcFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = x + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (ONE_OVER_SQRT_PI * expMinusSquare(x)) / f;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  const r = a < SWITCH ? erfSeries(a) : 1 - erfcFraction(a);
  return x < 0 ? -r : r;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x >= ERFC_SWITCH) return x > 27.3 ? 0 : erfcFraction(x); // erfc(27.3) < 2^-1074
  return 1 - erf(x);
}
