/**
 * @file Loading the native addon (build/Release/hasten_cuda.node, made by `npm run build:addon`).
 * Loading never throws: a missing or unloadable addon is reported as `{ addon: null, reason }`, so
 * `isCudaAvailable()` can answer false and the other backends serve. Node-only (this package is the
 * one Hasten package that is not isomorphic; see shared DESIGN.md).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What `deviceInfo()` reports; `error` is set when cudaGetDeviceCount failed (no GPU or driver). */
export interface CudaDeviceInfo {
  runtimeVersion: number;
  driverVersion: number;
  count: number;
  error?: string;
  devices: {
    index: number;
    name: string;
    major: number;
    minor: number;
    totalMemory: number;
    multiProcessors: number;
  }[];
}

/** The addon's per-device context: one stream, device buffers behind integer handles. */
export interface NativeContext {
  alloc(bytes: number): number;
  write(id: number, byteOffset: number, data: ArrayBufferView): void;
  copy(dst: number, dstOffset: number, src: number, srcOffset: number, bytes: number): void;
  read(id: number, byteOffset: number, bytes: number): Promise<ArrayBuffer>;
  free(id: number): void;
  sync(): Promise<void>;
  /** buffers: [id, byteOffset] pairs, id -1 for an absent optional buffer. */
  launch(kernel: string, version: number, buffers: number[], params: number[]): void;
  beginCapture(): void;
  endCapture(): number;
  launchGraph(id: number): void;
  destroyGraph(id: number): void;
  dispose(): void;
}

export interface NativeAddon {
  deviceInfo(): CudaDeviceInfo;
  Context: new (device: number) => NativeContext;
  kernels: string[];
}

export type AddonLoad = { addon: NativeAddon; path: string } | { addon: null; reason: string };

/** Where the build script puts the addon; HASTEN_CUDA_ADDON overrides it (a prebuilt one). */
export function addonPath(): string {
  // biome-ignore lint/complexity/useLiteralKeys: process.env is an index signature
  const override = process.env['HASTEN_CUDA_ADDON'];
  if (override) return override;
  return fileURLToPath(new URL('../build/Release/hasten_cuda.node', import.meta.url));
}

let cached: AddonLoad | undefined;

/** Load the addon once; never throws. */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    cached = {
      addon: null,
      reason: `the CUDA addon is not built (${path} does not exist; run \`npm run build:addon -w @hasten/kernels-cuda\` on a machine with nvcc)`,
    };
    return cached;
  }
  try {
    const require = createRequire(import.meta.url);
    cached = { addon: require(path) as NativeAddon, path };
  } catch (e) {
    cached = { addon: null, reason: `the CUDA addon at ${path} failed to load: ${(e as Error).message}` };
  }
  return cached;
}
