/**
 * @file A Gaussian-mixture target with its exact denoiser, exact samples and an exact
 * probability-flow ODE reference, for testing samplers without a trained model (as in Karras et al.,
 * arXiv 2206.00364, and DPM-Solver's toy experiments).
 *
 * Target p(x0) = Σ_k w_k N(μ_k, diag(s_k²)) in d dimensions. Under x_t = α·x0 + σ·ε:
 *   p(x_t | k) = N(α μ_k, diag(α² s_k² + σ²)),
 *   E[x0 | x_t, k] = μ_k + α s_k² / (α² s_k² + σ²) · (x_t − α μ_k),
 *   E[x0 | x_t] = Σ_k r_k(x_t) E[x0 | x_t, k], r_k ∝ w_k p(x_t | k) (softmax of log-densities).
 * VP: α = 1/√(1+σ_VE²); VE: α = 1; flow matching: α = 1 − σ. The PF-ODE in the VE variable
 * x̃ = x/α, σ_VE = σ/α is dx̃/dσ = (x̃ − D(x̃; σ))/σ (Karras et al. eq. 3 with s = 1), with
 * D(x̃; σ) = E[x0 | x0 + σ ε = x̃]; `odeSolve` integrates it with classical RK4 in u = log σ.
 *
 * Components may carry a class label; a conditional denoiser restricts the sum to the components of
 * the requested class (weights renormalised), which is the exact class-conditional target; a null
 * label (the unconditional branch of classifier-free guidance) uses all components.
 */
import type { Philox } from '@hasten/core-tensor';
import { z } from 'zod';
import { tToSigma } from '../schedules/sigmas';
import type { Denoiser, PredictionType, Sample } from '../types';
import { parseOptions } from '../util';

const finite = z.number().refine(Number.isFinite, 'must be finite');
export const GaussianMixtureSpec = z.strictObject({
  weights: z.array(finite.min(0)).min(1),
  /** K means of d values each. */
  means: z.array(z.array(finite).min(1)).min(1),
  /** Per component: one standard deviation (isotropic) or d of them (diagonal). */
  stds: z.array(z.union([finite.positive(), z.array(finite.positive()).min(1)])).min(1),
  /** Optional class label per component (for conditional denoisers). */
  labels: z.array(z.number().int()).optional(),
});
export type GaussianMixtureSpec = z.input<typeof GaussianMixtureSpec>;

/** How a denoiser reads its timestep t. */
export type NoiseParameterisation =
  /** Discrete VP: t is a (possibly fractional) training step; σ_VE from the training ᾱ, log-linear between steps. */
  | { kind: 'vp'; alphasCumprod: Float64Array }
  /** Flow matching: σ = t / numTrainTimesteps, x = (1 − σ)·x0 + σ·ε. */
  | { kind: 'flow'; numTrainTimesteps: number }
  /** Variance exploding: t is σ. */
  | { kind: 've' };

export class GaussianMixture {
  readonly dim: number;
  readonly k: number;
  /** Normalised weights (K), means (K·d) and per-dimension variances (K·d). */
  readonly w: Float64Array;
  readonly mu: Float64Array;
  readonly v: Float64Array;
  readonly labels: Int32Array;

  constructor(options: GaussianMixtureSpec) {
    const spec = parseOptions('GaussianMixture', GaussianMixtureSpec, options);
    const k = spec.weights.length;
    if (k === 0 || spec.means.length !== k || spec.stds.length !== k) {
      throw new Error(
        `GaussianMixture: weights, means and stds need the same length ≥ 1, got ${k}, ${spec.means.length}, ${spec.stds.length}`,
      );
    }
    const d = spec.means[0].length;
    const total = spec.weights.reduce((a, b) => a + b, 0);
    if (!(total > 0) || spec.weights.some((x) => !(x >= 0)))
      throw new Error('GaussianMixture: weights must be ≥ 0 with a positive sum');
    this.dim = d;
    this.k = k;
    this.w = Float64Array.from(spec.weights, (x) => x / total);
    this.mu = new Float64Array(k * d);
    this.v = new Float64Array(k * d);
    for (let j = 0; j < k; j++) {
      if (spec.means[j].length !== d)
        throw new Error(`GaussianMixture: mean ${j} has ${spec.means[j].length} values, expected ${d}`);
      const s = spec.stds[j];
      for (let i = 0; i < d; i++) {
        this.mu[j * d + i] = spec.means[j][i];
        if (typeof s !== 'number' && s.length !== d)
          throw new Error(`GaussianMixture: stds ${j} has ${s.length} values, expected 1 or ${d}`);
        const si = typeof s === 'number' ? s : s[i];
        this.v[j * d + i] = si * si;
      }
    }
    if (spec.labels !== undefined && spec.labels.length !== k)
      throw new Error(`GaussianMixture: labels has ${spec.labels.length} entries, expected ${k}`);
    this.labels = Int32Array.from(spec.labels ?? new Array(k).fill(0));
  }

  /** Exact samples: n items (n·d values) and their component indices. */
  sample(n: number, gen: Philox, label?: number): { x: Sample; component: Int32Array } {
    const d = this.dim;
    const u = gen.uniform(n);
    const z = gen.normal(n * d);
    const x = new Float64Array(n * d);
    const component = new Int32Array(n);
    const w = this.classWeights(label);
    for (let b = 0; b < n; b++) {
      let j = 0;
      let acc = w[0];
      while (u[b] >= acc && j < this.k - 1) acc += w[++j];
      component[b] = j;
      for (let i = 0; i < d; i++)
        x[b * d + i] = this.mu[j * d + i] + Math.sqrt(this.v[j * d + i]) * z[b * d + i];
    }
    return { x, component };
  }

  /** Mixture weights, restricted to one class (renormalised) when `label` is given. */
  classWeights(label?: number): Float64Array {
    if (label === undefined) return this.w;
    const w = this.w.map((x, j) => (this.labels[j] === label ? x : 0));
    const s = w.reduce((a, b) => a + b, 0);
    if (!(s > 0)) throw new Error(`GaussianMixture: no component has label ${label}`);
    return w.map((x) => x / s);
  }

  /** The most probable component of each item (argmax_k w_k N(x; μ_k, diag s_k²)). */
  classify(x: Float64Array): Int32Array {
    const d = this.dim;
    const n = x.length / d;
    const out = new Int32Array(n);
    for (let b = 0; b < n; b++) {
      let best = -Infinity;
      for (let j = 0; j < this.k; j++) {
        let l = Math.log(this.w[j]);
        for (let i = 0; i < d; i++) {
          const v = this.v[j * d + i];
          const r = x[b * d + i] - this.mu[j * d + i];
          l -= 0.5 * (Math.log(v) + (r * r) / v);
        }
        if (l > best) {
          best = l;
          out[b] = j;
        }
      }
    }
    return out;
  }

  /** Mean of the (class-restricted) target. */
  mean(label?: number): Float64Array {
    const w = this.classWeights(label);
    const m = new Float64Array(this.dim);
    for (let j = 0; j < this.k; j++)
      for (let i = 0; i < this.dim; i++) m[i] += w[j] * this.mu[j * this.dim + i];
    return m;
  }

  /** Covariance (d×d, row-major) of the (class-restricted) target. */
  covariance(label?: number): Float64Array {
    const d = this.dim;
    const w = this.classWeights(label);
    const m = this.mean(label);
    const c = new Float64Array(d * d);
    for (let j = 0; j < this.k; j++) {
      for (let a = 0; a < d; a++) {
        c[a * d + a] += w[j] * this.v[j * d + a];
        for (let b = 0; b < d; b++)
          c[a * d + b] += w[j] * (this.mu[j * d + a] - m[a]) * (this.mu[j * d + b] - m[b]);
      }
    }
    return c;
  }

  /**
   * E[x0 | x_t] for x_t = α·x0 + σ·ε, per item of the batch `x` (n·d values). `labels` (one per item,
   * or null for unconditional) restricts each item to its class's components.
   */
  posteriorMean(
    x: Float64Array,
    alpha: number,
    sigma: number,
    labels: ArrayLike<number | null> | null = null,
  ): Sample {
    const d = this.dim;
    const n = x.length / d;
    if (!Number.isInteger(n))
      throw new Error(`GaussianMixture: sample length ${x.length} is not a multiple of dim ${d}`);
    const out = new Float64Array(x.length);
    const logr = new Float64Array(this.k);
    const wByLabel = new Map<number, Float64Array>();
    for (let b = 0; b < n; b++) {
      const lab = labels === null ? null : labels[b];
      let w = this.w;
      if (lab !== null && lab !== undefined) {
        let c = wByLabel.get(lab);
        if (c === undefined) {
          c = this.classWeights(lab);
          wByLabel.set(lab, c);
        }
        w = c;
      }
      let max = -Infinity;
      for (let j = 0; j < this.k; j++) {
        if (w[j] === 0) {
          logr[j] = -Infinity;
          continue;
        }
        let l = Math.log(w[j]);
        for (let i = 0; i < d; i++) {
          const vv = alpha * alpha * this.v[j * d + i] + sigma * sigma;
          const r = x[b * d + i] - alpha * this.mu[j * d + i];
          l -= 0.5 * (Math.log(vv) + (r * r) / vv);
        }
        logr[j] = l;
        if (l > max) max = l;
      }
      let z = 0;
      for (let j = 0; j < this.k; j++) {
        logr[j] = Math.exp(logr[j] - max);
        z += logr[j];
      }
      for (let j = 0; j < this.k; j++) {
        const r = logr[j] / z;
        if (r === 0) continue;
        for (let i = 0; i < d; i++) {
          const vj = this.v[j * d + i];
          const mj = this.mu[j * d + i];
          const gain = (alpha * vj) / (alpha * alpha * vj + sigma * sigma);
          out[b * d + i] += r * (mj + gain * (x[b * d + i] - alpha * mj));
        }
      }
    }
    return out;
  }

  /**
   * The exact denoiser as a model would be: `(x_t, t, cond) -> prediction` of `predictionType`,
   * reading t through `param`. `cond` is a label per batch item, or null (unconditional).
   */
  denoiser(
    param: NoiseParameterisation,
    predictionType: PredictionType,
  ): Denoiser<(number | null)[]> & { calls: number } {
    const logSigmas =
      param.kind === 'vp' ? param.alphasCumprod.map((a) => Math.log(Math.sqrt((1 - a) / a))) : null;
    const f = ((x: Sample, t: number, cond: (number | null)[] | null) => {
      f.calls++;
      let alpha: number;
      let sigma: number;
      if (param.kind === 'vp') {
        const s = tToSigma(t, logSigmas as Float64Array);
        alpha = 1 / Math.sqrt(1 + s * s);
        sigma = s * alpha;
      } else if (param.kind === 'flow') {
        sigma = t / param.numTrainTimesteps;
        alpha = 1 - sigma;
      } else {
        alpha = 1;
        sigma = t;
      }
      const x0 = this.posteriorMean(x, alpha, sigma, cond);
      if (predictionType === 'sample') return x0;
      const out = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const eps = sigma > 0 ? (x[i] - alpha * x0[i]) / sigma : 0;
        out[i] =
          predictionType === 'epsilon'
            ? eps
            : predictionType === 'v_prediction'
              ? alpha * eps - sigma * x0[i]
              : eps - x0[i];
      }
      return out;
    }) as Denoiser<(number | null)[]> & { calls: number };
    Object.defineProperty(f, 'predictionType', { value: predictionType });
    f.calls = 0;
    return f;
  }

  /**
   * The exact probability-flow ODE solution, in the VE variable x̃ = x/α: from x̃ at σ = `sigmaFrom`
   * to σ = `sigmaTo` (≥ 0), by RK4 in u = log σ with `steps` steps (error O(h⁴); 2000 steps over a
   * log-σ range of 15 give ~1e-10 on the mixtures in the tests). σ = 0 is reached by integrating
   * to 1e-6 and denoising there (the remaining ODE change is O(σ²)).
   */
  odeSolve(
    xTilde: Float64Array,
    sigmaFrom: number,
    sigmaTo: number,
    steps = 2000,
    labels: ArrayLike<number | null> | null = null,
  ): Sample {
    const end = sigmaTo > 0 ? sigmaTo : 1e-6;
    const u0 = Math.log(sigmaFrom);
    const u1 = Math.log(end);
    const h = (u1 - u0) / steps;
    const rhs = (x: Float64Array, u: number) => {
      const D = this.posteriorMean(x, 1, Math.exp(u), labels);
      for (let i = 0; i < x.length; i++) D[i] = x[i] - D[i];
      return D;
    };
    let x = Float64Array.from(xTilde);
    const tmp = new Float64Array(x.length);
    for (let s = 0; s < steps; s++) {
      const u = u0 + s * h;
      const k1 = rhs(x, u);
      for (let i = 0; i < x.length; i++) tmp[i] = x[i] + 0.5 * h * k1[i];
      const k2 = rhs(tmp, u + 0.5 * h);
      for (let i = 0; i < x.length; i++) tmp[i] = x[i] + 0.5 * h * k2[i];
      const k3 = rhs(tmp, u + 0.5 * h);
      for (let i = 0; i < x.length; i++) tmp[i] = x[i] + h * k3[i];
      const k4 = rhs(tmp, u + h);
      const next = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) next[i] = x[i] + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
      x = next;
    }
    return sigmaTo > 0 ? x : this.posteriorMean(x, 1, end, labels);
  }

  /**
   * The exact flow-matching ODE solution dx/dσ = v̂(x, σ) (x = (1 − σ)x0 + σε, v̂ = ε̂ − x̂0) from
   * σ = `sFrom` ≤ 1 to `sTo` ≥ 0: RK4 in σ down to 0.5 (where the flow is smooth, σ = 1 included),
   * then the VE ODE in log σ_VE on x̃ = x/(1 − σ), σ_VE = σ/(1 − σ) (`odeSolve`).
   */
  flowOdeSolve(
    x: Float64Array,
    sFrom: number,
    sTo: number,
    steps = 2000,
    labels: ArrayLike<number | null> | null = null,
  ): Sample {
    let cur = Float64Array.from(x);
    let s = sFrom;
    const mid = Math.max(0.5, sTo);
    if (sFrom > mid) {
      const h = (mid - sFrom) / steps;
      const v = (y: Float64Array, sg: number) => {
        const x0 = this.posteriorMean(y, 1 - sg, sg, labels);
        return y.map((yv, k) => (yv - (1 - sg) * x0[k]) / sg - x0[k]);
      };
      const tmp = new Float64Array(cur.length);
      for (let i = 0; i < steps; i++) {
        const sg = sFrom + i * h;
        const k1 = v(cur, sg);
        for (let k = 0; k < cur.length; k++) tmp[k] = cur[k] + 0.5 * h * k1[k];
        const k2 = v(tmp, sg + 0.5 * h);
        for (let k = 0; k < cur.length; k++) tmp[k] = cur[k] + 0.5 * h * k2[k];
        const k3 = v(tmp, sg + 0.5 * h);
        for (let k = 0; k < cur.length; k++) tmp[k] = cur[k] + h * k3[k];
        const k4 = v(tmp, sg + h);
        cur = cur.map((c, k) => c + (h / 6) * (k1[k] + 2 * k2[k] + 2 * k3[k] + k4[k]));
      }
      s = mid;
    }
    if (s === sTo) return cur;
    const tilde = cur.map((c) => c / (1 - s));
    const out = this.odeSolve(tilde, s / (1 - s), sTo / (1 - sTo), steps, labels);
    return out.map((c) => c * (1 - sTo));
  }
}
