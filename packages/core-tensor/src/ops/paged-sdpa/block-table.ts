/**
 * @file Reading a paged-attention block table on the CPU: the entries a call uses, checked against
 * the pool, so a kernel never reads outside the pool (a bad entry is an error naming it).
 */
import { cpuStorage } from '../../backends/cpu';
import { TensorError } from '../../errors';
import type { Tensor } from '../../tensor';

/**
 * The first `used` entries of each row of `table` (i32 [B, M], any strides) as a row-major
 * Int32Array [B, used], each checked to lie in [0, numBlocks).
 */
export function readBlockTable(table: Tensor, used: number, numBlocks: number): Int32Array {
  const raw = cpuStorage(table) as Int32Array;
  const [B] = table.shape;
  const [sb, si] = table.strides;
  const out = new Int32Array(B * used);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < used; i++) {
      const id = raw[table.offset + b * sb + i * si];
      if (id < 0 || id >= numBlocks) {
        throw new TensorError(
          'pagedSdpa',
          `blockTable[${b}, ${i}] = ${id} is not a block of the pool [0, ${numBlocks})`,
        );
      }
      out[b * used + i] = id;
    }
  }
  return out;
}
