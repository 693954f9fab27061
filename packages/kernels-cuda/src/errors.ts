/**
 * @file The error thrown when the CUDA backend is asked for and cannot serve: no addon built, or no
 * usable GPU (cudaGetDeviceCount failed or found none). Its message says why and what serves instead.
 */
export class CudaUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(
      `no usable CUDA GPU: ${reason}. The CUDA backend is optional: use the 'cpu' backend (default) or ` +
        "'webgpu' (@hasten/kernels-webgpu) instead, and check isCudaAvailable() before loadCudaBackend().",
    );
    this.name = 'CudaUnavailableError';
  }
}
