import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources, not dist/, so `npm test` needs no build first.
const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const alias = {
  '@hasten/core-tensor/node': src('./packages/core-tensor/src/node.ts'),
  '@hasten/core-tensor': src('./packages/core-tensor/src/index.ts'),
  '@hasten/kernels-webgpu/node': src('./packages/kernels-webgpu/src/node.ts'),
  '@hasten/kernels-webgpu': src('./packages/kernels-webgpu/src/index.ts'),
  '@hasten/kernels-cuda': src('./packages/kernels-cuda/src/index.ts'),
  '@hasten/kv': src('./packages/kv/src/index.ts'),
  '@hasten/models/ort': src('./packages/models/src/ort/index.ts'),
  '@hasten/models/node': src('./packages/models/src/node.ts'),
  '@hasten/models': src('./packages/models/src/index.ts'),
  '@hasten/decoding': src('./packages/decoding/src/index.ts'),
  '@hasten/diffusion': src('./packages/diffusion/src/index.ts'),
  '@hasten/scaling': src('./packages/scaling/src/index.ts'),
  '@hasten/eval/node': src('./packages/eval/src/node.ts'),
  '@hasten/eval': src('./packages/eval/src/index.ts'),
};

const project = (name: string, dir: string, extra: Record<string, unknown> = {}) => ({
  resolve: { alias },
  test: {
    name,
    root: src(dir),
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    ...extra,
  },
});

export default defineConfig({
  test: {
    // 2-core CI: keep the worker count small and the timeouts generous (tests assert no wall time).
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      project('core-tensor', './packages/core-tensor'),
      project('kernels-webgpu', './packages/kernels-webgpu'),
      project('kv', './packages/kv'),
      project('models', './packages/models'),
      project('eval', './packages/eval'),
      project('integration', './test'),
    ],
  },
});
