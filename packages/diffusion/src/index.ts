/**
 * @file @hasten/diffusion: not built yet. The diffusion issue (a later phase) has not been done yet. This package deliberately exports nothing.
 */
export {};
