import { checkInteger } from '../util/check.js';

// Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code", arXiv 2107.03374):
//   pass@k = 1 - C(n-c, k) / C(n, k)
// for n samples of which c are correct. The binomials overflow, so we use the paper's numerically
// stable product form  1 - prod_{i=n-c+1}^{n} (1 - k/i), which is 1 when n - c < k.

export function passAtK(n: number, c: number, k: number): number {
  checkInteger('passAtK', 'n', n, 1);
  checkInteger('passAtK', 'c', c, 0, n);
  checkInteger('passAtK', 'k', k, 1, n);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}
