import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources, not dist/, so `npm test` needs no build first.
const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const alias = {
  '@hasten/core-tensor/node': src('./packages/core-tensor/src/node.ts'),
  '@hasten/core-tensor': src('./packages/core-tensor/src/index.ts'),
  '@hasten/kernels-webgpu/node': src('./packages/kernels-webgpu/src/node.ts'),
  '@hasten/kernels-webgpu': src('./packages/kernels-webgpu/src/index.ts'),
  '@hasten/kernels-cuda': src('./packages/kernels-cuda/src/index.ts'),
  '@hasten/kernels-cpu': src('./packages/kernels-cpu/src/index.ts'),
  '@hasten/kv': src('./packages/kv/src/index.ts'),
  '@hasten/models/ort': src('./packages/models/src/ort/index.ts'),
  '@hasten/models/node': src('./packages/models/src/node.ts'),
  '@hasten/models': src('./packages/models/src/index.ts'),
  '@hasten/decoding': src('./packages/decoding/src/index.ts'),
  '@hasten/diffusion/node': src('./packages/diffusion/src/node.ts'),
  '@hasten/diffusion': src('./packages/diffusion/src/index.ts'),
  '@hasten/scaling/adapters': src('./packages/scaling/src/adapters/index.ts'),
  '@hasten/scaling': src('./packages/scaling/src/index.ts'),
  '@hasten/eval/node': src('./packages/eval/src/node.ts'),
  '@hasten/eval': src('./packages/eval/src/index.ts'),
};

// The packages' own "@hasten/source" export condition (what tsx gets through the root .npmrc) also
// points at the sources, for any entry point the aliases miss. Node-side tests resolve with
// ssr.resolve, browser ones with resolve; setting conditions replaces Vite's defaults, so they are kept.
const source = '@hasten/source';

// Inline projects do not inherit the root `test` options: the timeouts are repeated here, or a
// project falls back to vitest's 5 s and the exhaustive tests time out on a loaded 2-core machine.
const TIMEOUT_MS = 120_000;

const project = (name: string, dir: string, extra: Record<string, unknown> = {}) => ({
  resolve: { alias, conditions: [source, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [source, ...defaultServerConditions] } },
  test: {
    name,
    root: src(dir),
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: TIMEOUT_MS,
    hookTimeout: TIMEOUT_MS,
    ...extra,
  },
});

export default defineConfig({
  test: {
    // 2-core CI: keep the worker count small and the timeouts generous (tests assert no wall time).
    maxWorkers: 2,
    testTimeout: TIMEOUT_MS,
    hookTimeout: TIMEOUT_MS,
    // A package gets a project once it has tests (decoding's are being written). passWithNoTests is
    // a run-wide option in vitest, not a project one: decoding's `test` script passes the flag.
    projects: [
      project('core-tensor', './packages/core-tensor'),
      project('kernels-webgpu', './packages/kernels-webgpu'),
      project('kv', './packages/kv'),
      project('models', './packages/models'),
      project('decoding', './packages/decoding'),
      project('diffusion', './packages/diffusion'),
      project('scaling', './packages/scaling'),
      project('kernels-cuda', './packages/kernels-cuda'),
      project('kernels-cpu', './packages/kernels-cpu'),
      project('eval', './packages/eval'),
      project('integration', './test'),
    ],
  },
});
