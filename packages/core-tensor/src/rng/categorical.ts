/**
 * @file Categorical sampling in float64, from logits or probabilities, with a temperature.
 *
 * Why f64: Gumbel-max in float32 draws u on a 2^-24 grid, so no Gumbel exceeds about 16.6 and the
 * tail just below is coarse; tokens more than ~15 nats below the top are under-sampled or never
 * sampled, which lowers the effective temperature (Zheng et al., "Masked Diffusion Models are
 * Secretly Time-Agnostic Masked Models and Exploit Inaccurate Categorical Sampling",
 * arXiv:2409.02908, §2.5). Both methods here work in f64 from 52-53 random bits per uniform.
 *
 * Methods (the counter layout follows generator.ts):
 * - 'inverse-cdf' (default): one uniform per sample, so a draw uses 2n words: sample s takes
 *   uniform element s, t = u * sum(w), and returns the first j with cumsum(w)[j] > t, where
 *   w_j = exp(s_j - max s) and s = logits / T. O(V) once plus O(log V) per sample.
 * - 'gumbel-max': argmax_j (s_j + g_j) with f64 Gumbel noise; sample s uses its own draw of V
 *   Gumbels, i.e. blocks base + s * ceil(V / 2) onwards. O(V) per sample; the usual GPU form.
 * Temperature 0 returns the argmax (first index on ties) and still advances the stream as if it
 * had sampled, so later draws do not depend on the temperature.
 */
import { z } from 'zod';
import { TensorError } from '../errors';
import { parseOptions } from '../ops/checks';
import type { Philox } from './generator';

const CategoricalOptions = z.strictObject({
  /** Number of samples. */
  n: z.number().int().nonnegative().default(1),
  /** Divides the logits (probabilities are raised to 1/T); 0 means argmax. */
  temperature: z.number().nonnegative().finite().default(1),
  /** The values are probabilities (non-negative, any positive sum) rather than logits. */
  probs: z.boolean().default(false),
  method: z.enum(['inverse-cdf', 'gumbel-max']).default('inverse-cdf'),
});
export type CategoricalOptions = z.input<typeof CategoricalOptions>;

const OP = 'categorical';

/** Scores s_j = log-weight / T in f64; -Infinity marks an impossible category. */
function scores(values: ArrayLike<number>, probs: boolean, temperature: number): Float64Array {
  const v = values.length;
  if (v === 0) throw new TensorError(OP, 'needs at least one category, got an empty array');
  const s = new Float64Array(v);
  const t = temperature === 0 ? 1 : temperature;
  let anyFinite = false;
  for (let j = 0; j < v; j++) {
    const x = values[j];
    if (probs) {
      if (!(x >= 0) || x === Number.POSITIVE_INFINITY) {
        throw new TensorError(OP, `probability at index ${j} is ${x}; probabilities must be finite and >= 0`);
      }
      s[j] = Math.log(x) / t;
    } else {
      if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) {
        throw new TensorError(OP, `logit at index ${j} is ${x}; logits must be finite or -Infinity`);
      }
      s[j] = x / t;
    }
    if (s[j] !== Number.NEGATIVE_INFINITY) anyFinite = true;
  }
  if (!anyFinite) {
    throw new TensorError(
      OP,
      probs ? 'all probabilities are 0' : 'all logits are -Infinity; nothing can be sampled',
    );
  }
  return s;
}

function argmax(s: Float64Array): number {
  let best = 0;
  for (let j = 1; j < s.length; j++) if (s[j] > s[best]) best = j;
  return best;
}

/** `n` category indices drawn from `values` (logits by default); see the file comment. */
export function sampleCategorical(
  gen: Philox,
  values: ArrayLike<number>,
  options?: CategoricalOptions,
): Int32Array {
  const { n, temperature, probs, method } = parseOptions(OP, CategoricalOptions, options);
  const s = scores(values, probs, temperature);
  const v = s.length;
  const out = new Int32Array(n);

  if (method === 'gumbel-max') {
    for (let i = 0; i < n; i++) {
      const g = gen.gumbel(v);
      if (temperature === 0) {
        out[i] = argmax(s);
        continue;
      }
      let best = -1;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < v; j++) {
        const x = s[j] + g[j];
        if (x > bestScore) {
          bestScore = x;
          best = j;
        }
      }
      out[i] = best;
    }
    return out;
  }

  const u = gen.uniform(n);
  if (temperature === 0) return out.fill(argmax(s));
  const m = s[argmax(s)];
  const cdf = new Float64Array(v);
  let total = 0;
  for (let j = 0; j < v; j++) {
    total += Math.exp(s[j] - m);
    cdf[j] = total;
  }
  for (let i = 0; i < n; i++) {
    const t = u[i] * total;
    // First j with cdf[j] > t; zero-weight categories can never be that j.
    let lo = 0;
    let hi = v - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > t) hi = mid;
      else lo = mid + 1;
    }
    out[i] = lo;
  }
  return out;
}
