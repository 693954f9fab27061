/**
 * @file @hasten/decoding: not built yet. The decoding issue (a later phase) has not been done yet. This package deliberately exports nothing.
 */
export {};
