/**
 * @file @hasten/diffusion/node: Node-only entry (reads model folders from disk). The browser-safe
 * API is in the main entry; models there are built from bytes already in memory.
 */

export { loadDiT } from './models/dit-load';
export { loadGlyphClassifier } from './models/glyph-classifier-load';
export { loadUNet } from './models/unet-load';
