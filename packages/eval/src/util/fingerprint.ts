// FNV-1a 32-bit hash (Fowler–Noll–Vo) of strings: a cheap fingerprint of a task's source data, recorded
// beside results so two runs can tell whether they saw the same data. Not a cryptographic hash.

export function fnv1a(texts: readonly string[]): string {
  let h = 0x811c9dc5;
  for (const text of texts) {
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff; // separator, so ["ab","c"] and ["a","bc"] differ
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
