import { checkInteger, fail } from '../util/check.js';

/** Rows are samples, columns features: an array of vectors, or a flat row-major matrix. */
export type FeatureMatrix =
  | ReadonlyArray<ArrayLike<number>>
  | { data: ArrayLike<number>; rows: number; cols: number };

export interface FeatureStatistics {
  mean: Float64Array;
  /** Row-major dim x dim, unbiased (divides by count - 1, as numpy.cov in pytorch-fid). */
  cov: Float64Array;
  dim: number;
  count: number;
}

/** Normalises a FeatureMatrix to a flat Float64Array, checking shapes and finiteness. */
export function toRows(
  where: string,
  field: string,
  m: FeatureMatrix,
): { data: Float64Array; rows: number; cols: number } {
  if (Array.isArray(m)) {
    if (m.length === 0) fail(where, field, 'must have at least one row');
    const cols = m[0]?.length ?? 0;
    if (cols === 0) fail(where, `${field}[0]`, 'must be a non-empty vector');
    const data = new Float64Array(m.length * cols);
    m.forEach((row, r) => {
      if (row?.length !== cols)
        fail(where, `${field}[${r}]`, `must have length ${cols} like row 0 (got ${row?.length})`);
      for (let c = 0; c < cols; c++) data[r * cols + c] = row[c]!;
    });
    return checkFinite(where, field, { data, rows: m.length, cols });
  }
  const mm = m as { data: ArrayLike<number>; rows: number; cols: number };
  if (mm === null || typeof mm !== 'object')
    fail(where, field, 'must be an array of vectors or { data, rows, cols }');
  const rows = checkInteger(where, `${field}.rows`, mm.rows, 1);
  const cols = checkInteger(where, `${field}.cols`, mm.cols, 1);
  if (mm.data?.length !== rows * cols)
    fail(where, `${field}.data`, `must have rows*cols = ${rows * cols} entries`);
  return checkFinite(where, field, { data: Float64Array.from(mm.data), rows, cols });
}

function checkFinite<T extends { data: Float64Array; cols: number }>(where: string, field: string, m: T): T {
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i]!)) {
      fail(where, `${field}[${Math.floor(i / m.cols)}][${i % m.cols}]`, `must be finite (got ${m.data[i]})`);
    }
  }
  return m;
}

export function featureStatistics(features: FeatureMatrix): FeatureStatistics {
  const { data, rows, cols } = toRows('featureStatistics', 'features', features);
  if (rows < 2) fail('featureStatistics', 'features', 'needs at least 2 rows for a covariance');
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c]! += data[r * cols + c]!;
  for (let c = 0; c < cols; c++) mean[c]! /= rows;
  const cov = new Float64Array(cols * cols);
  const centred = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) centred[c] = data[r * cols + c]! - mean[c]!;
    for (let i = 0; i < cols; i++) {
      const ci = centred[i]!;
      if (ci === 0) continue;
      const off = i * cols;
      for (let j = i; j < cols; j++) cov[off + j]! += ci * centred[j]!;
    }
  }
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      const v = cov[i * cols + j]! / (rows - 1);
      cov[i * cols + j] = v;
      cov[j * cols + i] = v;
    }
  }
  return { mean, cov, dim: cols, count: rows };
}
