/**
 * @file The `Philox` generator: a 64-bit key and a 128-bit counter over the Philox4x32-10 bijection
 * (philox.ts), with f64 distributions. Counter-based generation as in Salmon et al. 2011
 * (doi:10.1145/2063384.2063405). Values differ from PyTorch's and JAX's Philox streams (other
 * seeding and layout); only the bijection itself is shared (Random123 known answers).
 *
 * The stream, exactly (so a WebGPU or CUDA kernel reproduces it from (key, counter) alone):
 * - Every draw starts at a fresh block. A draw that needs W 32-bit words uses blocks
 *   base, base+1, ..., base+ceil(W/4)-1 (base = the generator's counter when the draw starts), and
 *   word j of the draw is word j % 4 of philox4x32(base + floor(j / 4), key). Afterwards the counter
 *   is base + ceil(W/4): leftover words of the last block are dropped, never reused.
 * - `words(n)`: element i is word i (W = n).
 * - `uniform(n)`, f64 in [0, 1): element i uses words 2i (a) and 2i+1 (b):
 *   ((a >>> 5) * 2^26 + (b >>> 6)) * 2^-53, a multiple of 2^-53 (W = 2n).
 * - `uniformF32(n)`, in [0, 1) and exact in float32: element i is (word i >>> 8) * 2^-24 (W = n).
 * - open uniforms in (0, 1), used by `gumbel` and `normal`: from words a, b:
 *   ((a >>> 6) * 2^26 + (b >>> 6) + 0.5) * 2^-52, in [2^-53, 1 - 2^-53] and exact in f64.
 * - `gumbel(n)`: element i = -log(-log(open uniform from words 2i, 2i+1)) in f64 (W = 2n).
 * - `normal(n)`: Box–Muller; pair p uses block base + p: u1 = open uniform from words 0, 1,
 *   u2 = uniform from words 2, 3; element 2p = r cos(2 pi u2), element 2p+1 = r sin(2 pi u2),
 *   r = sqrt(-2 log u1). For odd n the last sine is dropped (W = 4 ceil(n/2)).
 * - `randint(n, low, high)`: element i = low + floor(uniform_i * (high - low)) (W = 2n).
 * - `categorical`: see categorical.ts (inverse CDF: uniform element s for sample s).
 * Words and uniforms are bit-identical on every backend; values that pass through log/cos/sin agree
 * to the accuracy of each backend's math library.
 *
 * Splitting: `fold(i)` is a pure function of the key and i (not of the counter):
 * child key = the first two words of philox4x32([k0, k1, i mod 2^32, floor(i / 2^32)], FOLD_KEY),
 * child counter = 0. `split(n)` = [fold(0), ..., fold(n - 1)].
 */
import { TensorError } from '../errors';
import { type CategoricalOptions, sampleCategorical } from './categorical';
import { addToCounter, type PhiloxCounter, type PhiloxKey, philox4x32, philoxBlocks } from './philox';

/** Domain-separation key for `fold` ("fold" hashes must not collide with ordinary draws). */
const FOLD_KEY: PhiloxKey = [0x666f6c64, 0x6b657973]; // "fold", "keys"

const TWO_POW_26 = 67108864;
const TWO_POW_M52 = 2 ** -52;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_M24 = 2 ** -24;

/** f64 uniform in [0, 1) with 53 random bits from two words. */
export function uniformFromWords(a: number, b: number): number {
  return ((a >>> 5) * TWO_POW_26 + (b >>> 6)) * TWO_POW_M53;
}

/** f64 uniform in (0, 1) strictly, from 52 random bits: the grid midpoints (k + 1/2) * 2^-52. */
export function openUniformFromWords(a: number, b: number): number {
  return ((a >>> 6) * TWO_POW_26 + (b >>> 6) + 0.5) * TWO_POW_M52;
}

/** The 64-bit key of a seed: an integer in [0, 2^53) or a bigint in [0, 2^64); word 0 = low bits. */
export function keyFromSeed(seed: number | bigint): PhiloxKey {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`rng: seed ${seed} is outside [0, 2^64)`);
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`rng: seed must be an integer in [0, 2^53) or a bigint in [0, 2^64), got ${seed}`);
  }
  return [seed % 0x100000000, Math.floor(seed / 0x100000000)];
}

function assertCount(op: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new TensorError(op, `count must be a non-negative integer, got ${n}`);
}

const isWord = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffffffff;

export class Philox {
  private readonly k: [number, number];
  private c: [number, number, number, number];

  constructor(key: PhiloxKey, counter: PhiloxCounter = [0, 0, 0, 0]) {
    const ok = key?.length === 2 && counter?.length === 4 && [...key, ...counter].every(isWord);
    if (!ok) {
      throw new RangeError(
        `Philox: key must be 2 and counter 4 unsigned 32-bit integers, got key ${JSON.stringify(key)}, counter ${JSON.stringify(counter)}`,
      );
    }
    this.k = [key[0], key[1]];
    this.c = [counter[0], counter[1], counter[2], counter[3]];
  }

  get key(): PhiloxKey {
    return [this.k[0], this.k[1]];
  }

  /** The counter the next draw starts at. */
  get counter(): PhiloxCounter {
    return [this.c[0], this.c[1], this.c[2], this.c[3]];
  }

  /** An independent copy at the same position. */
  clone(): Philox {
    return new Philox(this.k, this.c);
  }

  /**
   * Reserve the blocks for a draw of `words` words and advance past them. Returns the key and the
   * base counter: what a backend kernel needs to produce the draw itself (see the file comment).
   */
  reserve(words: number): { key: PhiloxKey; counter: PhiloxCounter } {
    assertCount('rng.reserve', words);
    const counter = this.counter;
    this.c = addToCounter(this.c, Math.ceil(words / 4));
    return { key: this.key, counter };
  }

  /** `n` raw 32-bit words. */
  words(n: number): Uint32Array {
    assertCount('rng.words', n);
    const blocks = Math.ceil(n / 4);
    const out = new Uint32Array(blocks * 4);
    const { key, counter } = this.reserve(n);
    philoxBlocks(key, counter, blocks, out);
    return n === out.length ? out : out.subarray(0, n);
  }

  /** `n` f64 uniforms in [0, 1), 53 bits each. */
  uniform(n: number): Float64Array {
    assertCount('rng.uniform', n);
    const w = this.words(2 * n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = uniformFromWords(w[2 * i], w[2 * i + 1]);
    return out;
  }

  /** `n` float32 uniforms in [0, 1), 24 bits each (exactly representable, never 1). */
  uniformF32(n: number): Float32Array {
    assertCount('rng.uniformF32', n);
    const w = this.words(n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (w[i] >>> 8) * TWO_POW_M24;
    return out;
  }

  /** `n` standard Gumbel variates -log(-log(u)), u in (0, 1), in f64 (range about [-3.6, 36.7]). */
  gumbel(n: number): Float64Array {
    assertCount('rng.gumbel', n);
    const w = this.words(2 * n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = -Math.log(-Math.log(openUniformFromWords(w[2 * i], w[2 * i + 1])));
    return out;
  }

  /** `n` standard normal variates (Box–Muller in f64, both outputs of each pair used). */
  normal(n: number): Float64Array {
    assertCount('rng.normal', n);
    const pairs = Math.ceil(n / 2);
    const w = this.words(4 * pairs);
    const out = new Float64Array(n);
    for (let p = 0; p < pairs; p++) {
      const r = Math.sqrt(-2 * Math.log(openUniformFromWords(w[4 * p], w[4 * p + 1])));
      const theta = 2 * Math.PI * uniformFromWords(w[4 * p + 2], w[4 * p + 3]);
      out[2 * p] = r * Math.cos(theta);
      if (2 * p + 1 < n) out[2 * p + 1] = r * Math.sin(theta);
    }
    return out;
  }

  /**
   * `n` integers uniform in [low, high) as floor(u * (high - low)) with a 53-bit u: the bias is at
   * most (high - low) * 2^-53 relative, below 2^-20 for any range that fits in int32.
   */
  randint(n: number, low: number, high: number): Int32Array {
    assertCount('rng.randint', n);
    const ok =
      Number.isInteger(low) && Number.isInteger(high) && low < high && low >= -(2 ** 31) && high <= 2 ** 31;
    if (!ok)
      throw new TensorError(
        'rng.randint',
        `need integers -2^31 <= low < high <= 2^31, got low ${low}, high ${high}`,
      );
    const u = this.uniform(n);
    const out = new Int32Array(n);
    const range = high - low;
    for (let i = 0; i < n; i++) out[i] = low + Math.floor(u[i] * range);
    return out;
  }

  /** `n` category indices from logits (or probabilities), sampled in f64; see categorical.ts. */
  categorical(values: ArrayLike<number>, options?: CategoricalOptions): Int32Array {
    return sampleCategorical(this, values, options);
  }

  /** An independent generator derived from this key and `i` (see the file comment); counter 0. */
  fold(i: number): Philox {
    assertCount('rng.fold', i);
    const h = philox4x32([this.k[0], this.k[1], i % 0x100000000, Math.floor(i / 0x100000000)], FOLD_KEY);
    return new Philox([h[0], h[1]]);
  }

  /** `n` independent generators: fold(0) ... fold(n - 1). The parent stream is unaffected. */
  split(n: number): Philox[] {
    assertCount('rng.split', n);
    return Array.from({ length: n }, (_, i) => this.fold(i));
  }
}

/** A generator seeded with an integer in [0, 2^53) or a bigint in [0, 2^64) (the 64-bit key). */
export function rng(seed: number | bigint): Philox {
  return new Philox(keyFromSeed(seed));
}
