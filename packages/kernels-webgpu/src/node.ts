/**
 * @file @hasten/kernels-webgpu/node: a WebGPU device in Node through the `webgpu` package (Dawn's
 * Node bindings). Dawn talks to a Vulkan driver; on a machine without a GPU, SwiftShader's (shipped
 * inside Debian's chromium package) works, Mesa lavapipe 22.3 is rejected (see SETUP.md). When no
 * adapter is found the error names the missing setup step.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { WebGpuBackend } from './backend';
import { registerWebGpu, requestDevice } from './register';

const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];
const LIBVULKAN = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];
const SETUP_HINT =
  "run `. scripts/setup.sh` (installs chromium for SwiftShader's Vulkan driver and libvulkan1)";

/** SwiftShader's Vulkan ICD manifest, at Debian's path or wherever `dpkg -L chromium-common` puts it. */
export function findSwiftShaderIcd(): string | undefined {
  const known = SWIFTSHADER_ICDS.find((p) => existsSync(p));
  if (known) return known;
  try {
    const files = execFileSync('dpkg', ['-L', 'chromium-common'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return files.split('\n').find((f) => f.endsWith('/vk_swiftshader_icd.json') && existsSync(f));
  } catch {
    return undefined; // no dpkg, or chromium-common not installed
  }
}

function hasLibVulkan(): boolean {
  if (LIBVULKAN.some((p) => existsSync(p))) return true;
  try {
    return execFileSync('ldconfig', ['-p'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

export interface AdapterProbe {
  platform: string;
  /** VK_ICD_FILENAMES as the process had it before we looked (colon-separated list of manifests). */
  icdEnv: string | undefined;
  /** Whether each file in icdEnv exists. */
  icdFilesExist: boolean;
  /** The SwiftShader manifest found on disk (used when icdEnv is unset). */
  swiftshaderIcd: string | undefined;
  libVulkan: boolean;
}

/** The error message for "no adapter": which setup step is missing, checked in install order. */
export function diagnoseNoAdapter(probe: AdapterProbe): string {
  const head = 'no WebGPU adapter';
  if (probe.platform !== 'linux')
    return `${head}: the \`webgpu\` package found no GPU adapter on ${probe.platform}`;
  let why: string;
  if (!probe.libVulkan) {
    why = 'libvulkan1 (the Vulkan loader, libvulkan.so.1) is not installed';
  } else if (probe.icdEnv && !probe.icdFilesExist) {
    why = `VK_ICD_FILENAMES points to a missing file (${probe.icdEnv})`;
  } else if (!probe.icdEnv && !probe.swiftshaderIcd) {
    why =
      "VK_ICD_FILENAMES is not set and SwiftShader's Vulkan driver (vk_swiftshader_icd.json from Debian's chromium) is not installed";
  } else {
    const icd = probe.icdEnv ?? probe.swiftshaderIcd;
    why = `Dawn accepted no Vulkan driver from VK_ICD_FILENAMES=${icd} (it needs SwiftShader or a GPU driver; Mesa lavapipe 22.3 is rejected)`;
  }
  return `${head}: ${why}; ${SETUP_HINT}`;
}

type WebGpuModule = { create(options: string[]): GPU; globals: object };

/**
 * Every GPU object `create()` returned. They must outlive their devices: when one is garbage
 * collected, Dawn frees the instance while its event processing still runs, and the process aborts
 * ("The futex facility returned an unexpected error code", seen with webgpu 0.6.2 after a few reads).
 */
const instances: GPU[] = [];

async function requestAdapter(create: WebGpuModule['create']): Promise<GPUAdapter | null> {
  const gpu = create([]);
  instances.push(gpu);
  return gpu.requestAdapter();
}

async function loadWebGpu(): Promise<WebGpuModule> {
  try {
    return (await import('webgpu')) as WebGpuModule;
  } catch (e) {
    throw new Error(
      `createNodeWebGpu: the optional dependency \`webgpu\` could not be loaded (${(e as Error).message}); install it with \`npm install webgpu\``,
    );
  }
}

/**
 * A GPUDevice in Node. Tries the default Vulkan driver first (a real GPU where there is one); if
 * that finds no adapter and VK_ICD_FILENAMES is unset, points the Vulkan loader at SwiftShader and
 * tries again, so tests work without sourcing scripts/setup.sh. The loader reads the variable when
 * each Dawn instance is created, so setting it in-process works (in a child process or the main
 * thread; a worker thread's process.env does not reach native code).
 */
export async function createNodeWebGpu(): Promise<GPUDevice> {
  const { create, globals } = await loadWebGpu();
  Object.assign(globalThis, globals);
  process.env.XDG_RUNTIME_DIR ??= tmpdir(); // the Vulkan loader warns without it
  const icdEnv = process.env.VK_ICD_FILENAMES || undefined;
  let adapter = await requestAdapter(create);
  let swiftshaderIcd: string | undefined;
  if (!adapter && !icdEnv && process.platform === 'linux') {
    swiftshaderIcd = findSwiftShaderIcd();
    if (swiftshaderIcd) {
      process.env.VK_ICD_FILENAMES = swiftshaderIcd;
      adapter = await requestAdapter(create);
    }
  }
  if (!adapter) {
    throw new Error(
      diagnoseNoAdapter({
        platform: process.platform,
        icdEnv,
        icdFilesExist: !!icdEnv && icdEnv.split(':').every((f) => existsSync(f)),
        swiftshaderIcd,
        libVulkan: process.platform === 'linux' && hasLibVulkan(),
      }),
    );
  }
  return requestDevice(adapter);
}

/** `registerWebGpu(await createNodeWebGpu())`. */
export async function registerNodeWebGpu(): Promise<WebGpuBackend> {
  return registerWebGpu(await createNodeWebGpu());
}
