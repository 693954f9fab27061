/**
 * @file Registers the two CPU backends and their kernels. Each reference kernel is registered for
 * both 'reference' and 'cpu'; a fast kernel replaces the reference one on 'cpu' only (see
 * `CPU_FAST`), so tests can always compare the two.
 */

import { ARITHMETIC_OPS, COMPARISON_OPS } from '../ops/binary/binary';
import { binaryFast } from '../ops/binary/fast';
import { binaryReference } from '../ops/binary/reference';
import { conv2dFast } from '../ops/conv2d/fast';
import { conv2dReference } from '../ops/conv2d/reference';
import { copyFast } from '../ops/copy/fast';
import { castReference, copyReference } from '../ops/copy/reference';
import { cumsumReference } from '../ops/cumsum/reference';
import { embeddingFast } from '../ops/embedding/fast';
import { embeddingReference } from '../ops/embedding/reference';
import { groupnormFast } from '../ops/groupnorm/fast';
import { groupnormReference } from '../ops/groupnorm/reference';
import { matmulReference } from '../ops/matmul/reference';
import { matmulWasm } from '../ops/matmul/wasm-kernel';
import { rmsnormFast } from '../ops/norm/fast';
import { layernormReference, rmsnormReference } from '../ops/norm/reference';
import { pagedSdpaFast } from '../ops/paged-sdpa/fast';
import { pagedSdpaReference } from '../ops/paged-sdpa/reference';
import { quantLinearReference } from '../ops/quant/reference';
import { quantLinearWasm } from '../ops/quant/wasm-kernel';
import { REDUCE_OPS } from '../ops/reduce/reduce';
import { reduceReference } from '../ops/reduce/reference';
import { ropeFast } from '../ops/rope/fast';
import { ropeReference } from '../ops/rope/reference';
import { sdpaFast } from '../ops/sdpa/fast';
import { sdpaReference } from '../ops/sdpa/reference';
import { concatReference } from '../ops/shape/reference';
import { softmaxFast } from '../ops/softmax/fast';
import { softmaxReference } from '../ops/softmax/reference';
import { topkReference } from '../ops/topk/reference';
import { siluFast } from '../ops/unary/fast';
import { unaryReference } from '../ops/unary/reference';
import { UNARY_OPS } from '../ops/unary/unary';
import { whereReference } from '../ops/where/reference';
import { hasBackend, type KernelFn, registerBackend, registerKernel } from '../registry';
import { CpuBackend } from './cpu';

/** Reference kernels: the readable ground truth, one per op. */
const REFERENCE: Record<string, KernelFn> = {
  copy: copyReference,
  cast: castReference,
  matmul: matmulReference,
  quantLinear: quantLinearReference,
  ...Object.fromEntries([...ARITHMETIC_OPS, ...COMPARISON_OPS].map((op) => [op, binaryReference])),
  ...Object.fromEntries(UNARY_OPS.map((op) => [op, unaryReference])),
  ...Object.fromEntries(REDUCE_OPS.map((op) => [op, reduceReference])),
  softmax: softmaxReference,
  logSoftmax: softmaxReference,
  layernorm: layernormReference,
  rmsnorm: rmsnormReference,
  rope: ropeReference,
  embedding: embeddingReference,
  concat: concatReference,
  where: whereReference,
  topk: topkReference,
  cumsum: cumsumReference,
  sdpa: sdpaReference,
  pagedSdpa: pagedSdpaReference,
  conv2d: conv2dReference,
  groupnorm: groupnormReference,
};

/** Fast CPU kernels that replace a reference kernel on the 'cpu' backend. */
const CPU_FAST: Record<string, KernelFn> = {
  matmul: matmulWasm,
  quantLinear: quantLinearWasm,
  // f32 fast paths for what decoding needs; each falls back to its reference kernel otherwise.
  sdpa: sdpaFast,
  pagedSdpa: pagedSdpaFast,
  rmsnorm: rmsnormFast,
  rope: ropeFast,
  silu: siluFast,
  add: binaryFast,
  sub: binaryFast,
  mul: binaryFast,
  div: binaryFast,
  embedding: embeddingFast,
  softmax: softmaxFast,
  logSoftmax: softmaxFast,
  copy: copyFast,
  conv2d: conv2dFast,
  groupnorm: groupnormFast,
};

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
