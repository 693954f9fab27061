/**
 * @file @hasten/kernels-cuda: not built yet. The CUDA backend issue (a later phase) has not been done yet. This package deliberately exports nothing.
 */
export {};
