/**
 * @file A one-node ONNX model, y = MatMul(x, W), with W as an initializer (so ONNX Runtime can
 * pre-pack it, as it does for real models), built in memory for onnxruntime-node.
 *
 * The ModelProto is written with a few lines of protobuf encoding rather than a protobuf library:
 * none is among this package's dependencies, and this writes five message types with fixed fields
 * (numbers from onnx/onnx.proto, https://github.com/onnx/onnx/blob/main/onnx/onnx.proto). Bench code
 * only.
 */
import * as ort from 'onnxruntime-node';

type Bytes = Uint8Array;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function concat(parts: (Bytes | number[])[]): Bytes {
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Wire type 0 (varint) field. */
const int = (field: number, v: number) => Uint8Array.from([...varint(field << 3), ...varint(v)]);
/** Wire type 2 (length-delimited) field: bytes, a string or an embedded message. */
const bytes = (field: number, b: Bytes) => concat([varint((field << 3) | 2), varint(b.length), b]);
const str = (field: number, s: string) => bytes(field, new TextEncoder().encode(s));
const msg = (field: number, ...parts: Bytes[]) => bytes(field, concat(parts));

const FLOAT = 1; // TensorProto.DataType.FLOAT

/** ValueInfoProto { name, type: TypeProto { tensor_type { elem_type, shape { dim { dim_value } } } } }. */
function valueInfo(field: number, name: string, shape: number[]): Bytes {
  const dims = shape.map((d) => msg(1, int(1, d)));
  return msg(field, str(1, name), msg(2, msg(1, int(1, FLOAT), msg(2, ...dims))));
}

/** ModelProto bytes for y[m, n] = x[m, k] @ w[k, n] (w row-major, k x n). */
export function matmulModel(m: number, k: number, n: number, w: Float32Array): Bytes {
  const raw = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  const initializer = msg(5, int(1, k), int(1, n), int(2, FLOAT), str(8, 'w'), bytes(9, raw));
  const node = msg(1, str(1, 'x'), str(1, 'w'), str(2, 'y'), str(3, 'matmul'), str(4, 'MatMul'));
  const graph = msg(
    7,
    node,
    str(2, 'matmul'),
    initializer,
    valueInfo(11, 'x', [m, k]),
    valueInfo(12, 'y', [m, n]),
  );
  // ir_version 8, opset 17: both supported by onnxruntime 1.30.
  return concat([int(1, 8), str(2, 'hasten-bench'), graph, msg(8, str(1, ''), int(2, 17))]);
}

/**
 * An ORT session computing x @ w for a fixed x shape, on `threads` intra-op threads. `spin: false`
 * makes idle pool threads sleep at once instead of spinning (ORT's default is to spin): for the
 * benchmark's cycles of many sessions, whose separate pools would otherwise fight for the cores.
 */
export async function ortMatmul(
  m: number,
  k: number,
  n: number,
  w: Float32Array,
  threads: number,
  spin = true,
) {
  const session = await ort.InferenceSession.create(matmulModel(m, k, n, w), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...(spin ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  });
  return {
    async run(x: Float32Array): Promise<Float32Array> {
      const out = await session.run({ x: new ort.Tensor('float32', x, [m, k]) });
      return out.y.data as Float32Array;
    },
    release: () => session.release(),
  };
}

export const ortVersion = (): string => ort.env.versions?.common ?? 'unknown';
