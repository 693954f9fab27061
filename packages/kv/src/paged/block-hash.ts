/**
 * @file Block keys for automatic prefix caching, as vLLM designs them (docs/design/prefix_caching.md;
 * PagedAttention, arXiv:2309.06180): the key of a full block is a hash of the previous block's key
 * and the block's token ids, chained from a root that holds the optional cache salt. Equal keys
 * therefore stand for equal prefixes (every earlier block included), and two salts never share a
 * chain, so one tenant's cached prefix never serves another (vLLM mixes `cache_salt` into block 0
 * only, for the same reason).
 *
 * The hash: two 32-bit lanes of MurmurHash3's x86_32 block mixing and finaliser (Austin Appleby,
 * public domain; constants from its specification) with different seeds, 64 bits as 16 hex
 * digits. It runs in browsers (no crypto module, no async). The pool stores each cached block's
 * parent key and token ids and compares them on every hit, so a false hit would need two different
 * prefixes whose 64-bit parent keys collide.
 */

/** Stands for a left-padding slot in a block's token ids (real ids are >= 0). */
export const PAD_TOKEN = -1;

/** The key that block 0 chains from: distinct for every salt, and for no salt. */
export function rootKey(salt: string | undefined): string {
  return salt === undefined ? 'root' : `salt:${salt}`;
}

function mix(h: number, word: number): number {
  let k = Math.imul(word | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let x = h ^ k;
  x = (x << 13) | (x >>> 19);
  return (Math.imul(x, 5) + 0xe6546b64) | 0;
}

function finish(h: number, words: number): number {
  let x = h ^ words;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The key of a full block: hash(parent key, token ids), 16 hex digits. */
export function blockKey(parent: string, tokens: ArrayLike<number>): string {
  let a = 0x9747b28c | 0;
  let b = 0x5bd1e995 | 0;
  let words = 0;
  const feed = (w: number) => {
    a = mix(a, w);
    b = mix(b, w);
    words++;
  };
  feed(parent.length);
  for (let i = 0; i < parent.length; i++) feed(parent.charCodeAt(i));
  feed(tokens.length);
  for (let i = 0; i < tokens.length; i++) feed(tokens[i]);
  const hex = (x: number) => x.toString(16).padStart(8, '0');
  return hex(finish(a, words)) + hex(finish(b ^ 0x27d4eb2f, words));
}
