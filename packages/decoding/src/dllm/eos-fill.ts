/**
 * @file End-of-text early stop for masked diffusion decoding (the "End-of-Text Prediction" of
 * Learn2PD, "Learning to Parallel"; LLaDA's SFT pads every answer with <eos>, so once an <eos>
 * is committed at position q every later position is <eos> too, and LLaDA issue 59/108 reports the
 * cost of decoding that padding): after a step commits, find the first committed <eos> of the
 * generated region and fill every still-masked position after it with <eos>; they are never decoded.
 */

/**
 * Fills masked positions of x[start, x.length) after the first committed `eos`; returns the filled
 * positions (absolute indices into x), in increasing order.
 */
export function eosFill(x: Int32Array, start: number, eos: number, mask: number): number[] {
  let q = -1;
  for (let i = start; i < x.length; i++) {
    if (x[i] === eos) {
      q = i;
      break;
    }
  }
  if (q < 0) return [];
  const filled: number[] = [];
  for (let i = q + 1; i < x.length; i++) {
    if (x[i] === mask) {
      x[i] = eos;
      filled.push(i);
    }
  }
  return filled;
}
