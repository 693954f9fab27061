// `npm run bench -w @hasten/eval`: runs the package's benchmarks through the harness and writes
// bench-results/eval/<bench>.json at the repository root. Each module also runs on its own with
// `npx tsx packages/eval/src/cli.ts run packages/eval/bench/frechet.bench.ts`.
import { runAndWrite } from '../src/node.js';
import frechet from './frechet.bench.js';
import passAtK from './passAtK.bench.js';

for (const bench of [passAtK, frechet]) {
  await runAndWrite(bench);
}
