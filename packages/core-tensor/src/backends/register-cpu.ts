/**
 * @file Registers the two CPU backends and their kernels. Each reference kernel is registered for
 * both 'reference' and 'cpu'; a fast kernel replaces the reference one on 'cpu' only (see
 * `CPU_FAST`), so tests can always compare the two.
 */
import { type KernelFn, hasBackend, registerBackend, registerKernel } from '../registry';
import { ARITHMETIC_OPS, COMPARISON_OPS } from '../ops/binary/binary';
import { binaryReference } from '../ops/binary/reference';
import { castReference, copyReference } from '../ops/copy/reference';
import { matmulReference } from '../ops/matmul/reference';
import { CpuBackend } from './cpu';

/** Reference kernels: the readable ground truth, one per op. */
const REFERENCE: Record<string, KernelFn> = {
  copy: copyReference,
  cast: castReference,
  matmul: matmulReference,
  ...Object.fromEntries([...ARITHMETIC_OPS, ...COMPARISON_OPS].map((op) => [op, binaryReference])),
};

/** Fast CPU kernels that replace a reference kernel on the 'cpu' backend. */
const CPU_FAST: Record<string, KernelFn> = {};

let done = false;
export function registerCpuBackends(): void {
  if (done || hasBackend('cpu')) return;
  done = true;
  registerBackend(new CpuBackend('cpu'));
  registerBackend(new CpuBackend('reference'));
  for (const [op, fn] of Object.entries(REFERENCE)) {
    registerKernel({ op, backend: 'reference', fn });
    registerKernel({ op, backend: 'cpu', fn: CPU_FAST[op] ?? fn });
  }
}
