/** @file Reference where: broadcast views of the three inputs, one select per element. */

import type { Backend } from '../../backend';
import { readF64, writeValues } from '../../backends/cpu-access';
import { Tensor } from '../../tensor';
import type { WhereAttrs } from './where';

export function whereReference([cond, a, b]: Tensor[], { shape }: WhereAttrs, backend: Backend): Tensor {
  const out = Tensor.empty(backend, shape, a.dtype);
  const views = [cond, a, b].map((t) => t.expand(shape));
  const [c, x, y] = views.map(readF64);
  for (const v of views) v.dispose();
  for (let i = 0; i < x.length; i++) if (!c[i]) x[i] = y[i];
  writeValues(out, x);
  return out;
}
