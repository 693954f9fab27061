/**
 * @file Elementwise add, sub and mul (f32) with NumPy broadcasting: both inputs are read through
 * their broadcast views (expand gives stride 0), so nothing is materialised. WGSL rounds f32 +, -
 * and * correctly (https://www.w3.org/TR/WGSL/#floating-point-accuracy), so the results equal the
 * reference kernel's bit for bit.
 */
import { type KernelFn, sizeOf, Tensor } from '@hasten/core-tensor';
import { gpuBuffer, grid, type WebGpuBackend } from '../backend';
import { assertF32, broadcastStrides, dims, STRIDED_OFFSET_WGSL } from '../strided';

const OPERATORS = { add: '+', sub: '-', mul: '*' } as const;
export type WebGpuBinaryOp = keyof typeof OPERATORS;
export const WEBGPU_BINARY_OPS = Object.keys(OPERATORS) as WebGpuBinaryOp[];

const WORKGROUP = 256;

const wgsl = (operator: string) => /* wgsl */ `
struct Params {
  count: u32, rank: u32, a_offset: u32, b_offset: u32,
  shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${STRIDED_OFFSET_WGSL}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (i >= p.count) { return; }
  let x = a[p.a_offset + strided_offset(i, p.rank, p.shape, p.a_strides)];
  let y = b[p.b_offset + strided_offset(i, p.rank, p.shape, p.b_strides)];
  out[i] = x ${operator} y;
}
`;

/** The kernel registered for `op` on 'webgpu' (attrs are core-tensor's BinaryAttrs). */
export function binaryWebGpu(op: WebGpuBinaryOp): KernelFn<{ shape: number[] }> {
  return ([a, b], { shape }, backend) => {
    assertF32(op, a, 'a');
    assertF32(op, b, 'b');
    const count = sizeOf(shape);
    const params = new Uint32Array([
      count,
      shape.length,
      a.offset,
      b.offset,
      ...dims(op, shape),
      ...dims(op, broadcastStrides(a, shape)),
      ...dims(op, broadcastStrides(b, shape)),
    ]);
    const out = Tensor.empty(backend, shape, 'f32');
    if (count === 0) return out;
    const buffers = [gpuBuffer(a), gpuBuffer(b), gpuBuffer(out)];
    (backend as WebGpuBackend).dispatch(
      `binary/${op}`,
      () => wgsl(OPERATORS[op]),
      params,
      buffers,
      grid(Math.ceil(count / WORKGROUP)),
    );
    return out;
  };
}
