/**
 * @file @hasten/core-tensor/node: Node-only helpers (file access, worker threads). Never imported by
 * the isomorphic entry point.
 */
export {};
