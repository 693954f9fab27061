/**
 * @file Batched f32 matmul a[..., M, K] @ b[..., K, N] with broadcast batch dims. Both operands are
 * read through their strides (a transposed weight or a permuted head view needs no copy). The
 * kernel is the classic shared-memory tiling: a 16x16 workgroup computes a 16x16 output tile, one
 * output per thread, stepping over K in 16-wide tiles of A and B staged in workgroup memory (see
 * reference/tensor-kernels-style-anchors.md 1.3; the register-tiled, vec4, f16 kernels are a later
 * issue). Loads are bounds-checked, so M, N and K need not be multiples of 16.
 */
import { type KernelFn, type MatmulAttrs, sizeOf, Tensor, TensorError } from '@hasten/core-tensor';
import { gpuBuffer, MAX_WORKGROUPS_PER_DIM, type WebGpuBackend } from '../backend';
import { assertF32, broadcastStrides, dims } from '../strided';

const TILE = 16;

const WGSL = /* wgsl */ `
struct Params {
  m: u32, k: u32, n: u32, batch_rank: u32,
  a_offset: u32, a_stride_m: u32, a_stride_k: u32, _pad0: u32,
  b_offset: u32, b_stride_k: u32, b_stride_n: u32, _pad1: u32,
  batch_shape: array<vec4<u32>, 2>,
  a_batch_strides: array<vec4<u32>, 2>,
  b_batch_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const TILE = ${TILE}u;
var<workgroup> tile_a: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> tile_b: array<array<f32, ${TILE}>, ${TILE}>;

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.y * TILE + lid.y;
  let col = wid.x * TILE + lid.x;

  // Offsets of this batch entry in A and B (broadcast batch dims have stride 0).
  var batch_shape = p.batch_shape;
  var a_bs = p.a_batch_strides;
  var b_bs = p.b_batch_strides;
  var rest = wid.z;
  var a_base = p.a_offset;
  var b_base = p.b_offset;
  for (var d = i32(p.batch_rank) - 1; d >= 0; d--) {
    let size = batch_shape[d / 4][d % 4];
    let i = rest % size;
    a_base += i * a_bs[d / 4][d % 4];
    b_base += i * b_bs[d / 4][d % 4];
    rest /= size;
  }

  var acc = 0.0;
  for (var k0 = 0u; k0 < p.k; k0 += TILE) {
    // Each thread stages one element of the A tile (row, k0 + lid.x) and of the B tile (k0 + lid.y, col).
    let ka = k0 + lid.x;
    if (row < p.m && ka < p.k) {
      tile_a[lid.y][lid.x] = a[a_base + row * p.a_stride_m + ka * p.a_stride_k];
    } else {
      tile_a[lid.y][lid.x] = 0.0;
    }
    let kb = k0 + lid.y;
    if (kb < p.k && col < p.n) {
      tile_b[lid.y][lid.x] = b[b_base + kb * p.b_stride_k + col * p.b_stride_n];
    } else {
      tile_b[lid.y][lid.x] = 0.0;
    }
    workgroupBarrier();
    for (var q = 0u; q < TILE; q++) {
      acc += tile_a[lid.y][q] * tile_b[q][lid.x];
    }
    workgroupBarrier();
  }
  if (row < p.m && col < p.n) {
    out[(wid.z * p.m + row) * p.n + col] = acc;
  }
}
`;

export const matmulWebGpu: KernelFn<MatmulAttrs> = ([a, b], { batch, m, k, n }, backend) => {
  const op = 'matmul';
  assertF32(op, a, 'a');
  assertF32(op, b, 'b');
  const batchCount = sizeOf(batch);
  const groups = [Math.ceil(n / TILE), Math.ceil(m / TILE), batchCount];
  if (groups.some((g) => g > MAX_WORKGROUPS_PER_DIM)) {
    throw new TensorError(
      op,
      `output [${[...batch, m, n].join(', ')}] needs a ${groups.join(' x ')} grid of workgroups; the webgpu kernel allows at most ${MAX_WORKGROUPS_PER_DIM} per dimension (batch <= 65535, M and N <= 1048560)`,
    );
  }
  const full = [...batch, m, k];
  const aStrides = broadcastStrides(a, full);
  const bStrides = broadcastStrides(b, [...batch, k, n]);
  const r = batch.length;
  const params = new Uint32Array([
    m,
    k,
    n,
    r,
    a.offset,
    aStrides[r],
    aStrides[r + 1],
    0,
    b.offset,
    bStrides[r],
    bStrides[r + 1],
    0,
    ...dims(op, batch),
    ...dims(op, aStrides.slice(0, r)),
    ...dims(op, bStrides.slice(0, r)),
  ]);
  const out = Tensor.empty(backend, [...batch, m, n], 'f32');
  if (out.size === 0) return out;
  (backend as WebGpuBackend).dispatch(
    'matmul/tiled16',
    () => WGSL,
    params,
    [gpuBuffer(a), gpuBuffer(b), gpuBuffer(out)],
    groups,
  );
  return out;
};
