import { z } from 'zod';
import { type FeatureMatrix, toRows } from '../linalg/covariance.js';
import { fail, parseOptions } from '../util/check.js';
import { createRng } from '../util/seededRng.js';

// Sliced Wasserstein distance (Rabin et al. 2011; Bonneel et al., JMIV 2015; as POT
// `ot.sliced_wasserstein_distance`): project both sample sets on L random unit directions, take the
// exact 1-D Wasserstein-p distance of each projection (sorted quantile functions), and average:
//   SW_p = ( mean_l W_p^p(theta_l . X, theta_l . Y) )^{1/p}
// Directions come from a seeded RNG, so the value is reproducible. Unequal sample counts are handled
// exactly by integrating |F^-1(t) - G^-1(t)|^p over the merged breakpoints.

const swOptions = z
  .object({
    projections: z.number().int().min(1).default(128),
    p: z.number().min(1).default(2),
    seed: z.number().int().default(0),
  })
  .strict();
export type SlicedWassersteinOptions = z.input<typeof swOptions>;

export function slicedWasserstein(
  x: FeatureMatrix,
  y: FeatureMatrix,
  options: SlicedWassersteinOptions = {},
): number {
  const where = 'slicedWasserstein';
  const opts = parseOptions(swOptions, options, where);
  const xs = toRows(where, 'x', x);
  const ys = toRows(where, 'y', y);
  const d = xs.cols;
  if (ys.cols !== d) fail(where, 'y', `has dimension ${ys.cols}, x has ${d}`);
  const rng = createRng(opts.seed);
  const theta = new Float64Array(d);
  const px = new Float64Array(xs.rows);
  const py = new Float64Array(ys.rows);
  // In 1-D every direction is ±1, so one projection is exact.
  const projections = d === 1 ? 1 : opts.projections;
  let sum = 0;
  for (let l = 0; l < projections; l++) {
    let norm = 0;
    do {
      norm = 0;
      for (let c = 0; c < d; c++) {
        theta[c] = d === 1 ? 1 : rng.normal();
        norm += theta[c]! ** 2;
      }
    } while (norm === 0);
    norm = Math.sqrt(norm);
    for (let c = 0; c < d; c++) theta[c]! /= norm;
    project(xs.data, xs.rows, d, theta, px);
    project(ys.data, ys.rows, d, theta, py);
    sum += wassersteinPow1d(px.sort(), py.sort(), opts.p);
  }
  return (sum / projections) ** (1 / opts.p);
}

function project(data: Float64Array, rows: number, d: number, theta: Float64Array, out: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += data[r * d + c]! * theta[c]!;
    out[r] = s;
  }
}

/** W_p^p between two sorted 1-D empirical distributions (uniform weights). */
export function wassersteinPow1d(a: Float64Array, b: Float64Array, p: number): number {
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  let t = 0;
  let total = 0;
  // Walk the merged breakpoints i/n and j/m of the two quantile functions.
  while (i < n && j < m) {
    const next = Math.min((i + 1) / n, (j + 1) / m);
    total += (next - t) * Math.abs(a[i]! - b[j]!) ** p;
    t = next;
    if ((i + 1) / n <= next) i++;
    if ((j + 1) / m <= next) j++;
  }
  return total;
}
