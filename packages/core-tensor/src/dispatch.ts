/**
 * @file Op dispatch: check the inputs are alive and on one backend, then call the kernel registered
 * for (op, that backend).
 */
import { fmtShape, TensorError } from './errors';
import { getBackend, getKernel } from './registry';
import type { Tensor } from './tensor';

export function runKernel(op: string, inputs: Tensor[], attrs: object = {}): Tensor | Tensor[] {
  if (inputs.length === 0) return getKernel(op, getBackend().name).fn([], attrs, getBackend());
  for (const t of inputs) t.assertLive(op);
  const backend = inputs[0].backend;
  for (const t of inputs) {
    if (t.backend !== backend) {
      const where = inputs.map((x) => `${fmtShape(x.shape)} on ${x.device}`).join(', ');
      throw new TensorError(
        op,
        `inputs are on different backends (${where}); move them with await t.to('${backend.name}')`,
      );
    }
  }
  return getKernel(op, backend.name).fn(inputs, attrs, backend);
}

export function run1(op: string, inputs: Tensor[], attrs: object = {}): Tensor {
  return runKernel(op, inputs, attrs) as Tensor;
}
