/**
 * @file @hasten/scaling: not built yet. The test-time scaling issue (a later phase) has not been done yet. This package deliberately exports nothing.
 */
export {};
