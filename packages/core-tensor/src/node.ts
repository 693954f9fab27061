/**
 * @file @hasten/core-tensor/node: Node-only helpers (file access, worker threads). Never imported by
 * the isomorphic entry point.
 */
export { cpuThreads, disableCpuThreads, enableCpuThreads } from './ops/matmul/thread-pool';
export {
  fileSource,
  loadSafetensors,
  openSafetensors,
  openShardedSafetensors,
  saveSafetensors,
} from './safetensors/node';
