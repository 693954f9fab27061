/**
 * The CI gate for the WebGPU proof: a Node WebGPU adapter must be found. This is a test of its own
 * (not only a beforeAll hook, which vitest reports as skipped tests), so a machine without the setup
 * fails here with the message that names the missing step.
 */
import { expect, it } from 'vitest';
import { createNodeWebGpu } from './node';

it('finds a WebGPU adapter in Node (or fails naming the missing setup step)', async () => {
  const device = await createNodeWebGpu();
  expect(device.adapterInfo.vendor || device.adapterInfo.description).toBeTruthy();
  device.destroy();
});
