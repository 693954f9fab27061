/**
 * @file `copy`: gather any strided view into a new contiguous tensor, bit-exact for every dtype
 * (Tensor.contiguous() and reading a view back both use it). WGSL has no 8- or 16-bit storage types,
 * so each thread builds one 32-bit output word from the 1, 2 or 4 elements it holds, extracting each
 * element from its source word with a shift and a mask.
 */
import { BYTES_PER_ELEMENT, type KernelFn, Tensor } from '@hasten/core-tensor';
import { gpuBuffer, grid, type WebGpuBackend } from '../backend';
import { dims, STRIDED_OFFSET_WGSL } from '../strided';

const WORKGROUP = 256;

const wgsl = (bytes: number) => /* wgsl */ `
struct Params {
  count: u32, rank: u32, offset: u32, _pad: u32,
  shape: array<vec4<u32>, 2>,
  strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
${STRIDED_OFFSET_WGSL}
const BYTES = ${bytes}u;          // bytes per element
const PER_WORD = ${4 / bytes}u;   // elements per 32-bit word
const MASK = ${bytes === 4 ? '0xffffffffu' : `${(1 << (8 * bytes)) - 1}u`};

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let word = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (word * PER_WORD >= p.count) { return; }
  var packed = 0u;
  for (var j = 0u; j < PER_WORD; j++) {
    let i = word * PER_WORD + j;
    if (i < p.count) {
      let byte = (p.offset + strided_offset(i, p.rank, p.shape, p.strides)) * BYTES;
      // For 4-byte elements the shifts are 0 (a shift by 32 would be invalid WGSL).
      let value = (src[byte / 4u] >> ((byte % 4u) * 8u)) & MASK;
      packed |= value << (j * BYTES * 8u);
    }
  }
  out[word] = packed;
}
`;

export const copyWebGpu: KernelFn = ([t], _attrs, backend) => {
  const bytes = BYTES_PER_ELEMENT[t.dtype];
  const params = new Uint32Array([
    t.size,
    t.rank,
    t.offset,
    0,
    ...dims('copy', t.shape),
    ...dims('copy', t.strides),
  ]);
  const out = Tensor.empty(backend, t.shape, t.dtype);
  if (t.size === 0) return out;
  const words = Math.ceil((t.size * bytes) / 4);
  (backend as WebGpuBackend).dispatch(
    `copy/${bytes}`,
    () => wgsl(bytes),
    params,
    [gpuBuffer(t), gpuBuffer(out)],
    grid(Math.ceil(words / WORKGROUP)),
  );
  return out;
};
