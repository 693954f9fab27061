/**
 * @file softmax and logSoftmax (f32) along any axis: one workgroup per lane, which takes the lane
 * maximum and then the sum of exp(x - max) with a shared-memory tree reduction, and writes
 * exp(x - max) / sum (or x - max - log sum). The input is read through its strides.
 *
 * Difference from the reference kernel: a lane that is all -Infinity throws there, but a shader
 * cannot throw; here it comes out as NaN (as in PyTorch).
 */
import { contiguousStrides, type KernelFn, type SoftmaxAttrs, sizeOf, Tensor } from '@hasten/core-tensor';
import { gpuBuffer, grid, type WebGpuBackend } from '../backend';
import { assertF32, dims, STRIDED_OFFSET_WGSL } from '../strided';

const WORKGROUP = 64;

const wgsl = (log: boolean) => /* wgsl */ `
struct Params {
  lanes: u32, n: u32, rank: u32, in_offset: u32,
  in_stride: u32, out_stride: u32, _pad0: u32, _pad1: u32,
  lane_shape: array<vec4<u32>, 2>,
  in_lane_strides: array<vec4<u32>, 2>,
  out_lane_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${STRIDED_OFFSET_WGSL}
const WG = ${WORKGROUP}u;
var<workgroup> partial: array<f32, ${WORKGROUP}>;

// Tree reduction over the workgroup; every thread gets the result. Called in uniform control flow.
fn reduce(value: f32, lid: u32, is_max: bool) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (lid < s) {
      partial[lid] = select(partial[lid] + partial[lid + s], max(partial[lid], partial[lid + s]), is_max);
    }
    workgroupBarrier();
  }
  let r = partial[0];
  workgroupBarrier(); // partial is reused by the next reduction
  return r;
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let lane = wid.x + wid.y * nwg.x; // the same for the whole workgroup, so the return is uniform
  if (lane >= p.lanes) { return; }
  let src = p.in_offset + strided_offset(lane, p.rank, p.lane_shape, p.in_lane_strides);
  let dst = strided_offset(lane, p.rank, p.lane_shape, p.out_lane_strides);

  var m = bitcast<f32>(0xff7fffffu); // lowest finite f32 (WGSL has no infinity literal)
  for (var j = lid; j < p.n; j += WG) { m = max(m, x[src + j * p.in_stride]); }
  m = reduce(m, lid, true);

  var s = 0.0;
  for (var j = lid; j < p.n; j += WG) { s += exp(x[src + j * p.in_stride] - m); }
  s = reduce(s, lid, false);

  for (var j = lid; j < p.n; j += WG) {
    let d = x[src + j * p.in_stride] - m;
    out[dst + j * p.out_stride] = ${log ? 'd - log(s)' : 'exp(d) / s'};
  }
}
`;

export const softmaxWebGpu: KernelFn<SoftmaxAttrs> = ([x], { axis, log }, backend) => {
  const op = log ? 'logSoftmax' : 'softmax';
  assertF32(op, x);
  const without = <T>(v: readonly T[]) => v.filter((_, i) => i !== axis);
  const laneShape = without(x.shape);
  const outStrides = contiguousStrides(x.shape);
  const lanes = sizeOf(laneShape);
  const params = new Uint32Array([
    lanes,
    x.shape[axis],
    laneShape.length,
    x.offset,
    x.strides[axis],
    outStrides[axis],
    0,
    0,
    ...dims(op, laneShape),
    ...dims(op, without(x.strides)),
    ...dims(op, without(outStrides)),
  ]);
  const out = Tensor.empty(backend, x.shape, 'f32');
  if (out.size === 0) return out;
  (backend as WebGpuBackend).dispatch(
    `softmax/${op}`,
    () => wgsl(log),
    params,
    [gpuBuffer(x), gpuBuffer(out)],
    grid(lanes),
  );
  return out;
};
