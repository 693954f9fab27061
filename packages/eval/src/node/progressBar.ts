import cliProgress from 'cli-progress';
import type { BenchProgress } from '../harness/runBenchmark.js';

// A cli-progress bar on stderr for long benchmark runs (it stays silent when stderr is not a TTY).

export interface ProgressBar {
  update(p: BenchProgress): void;
  stop(): void;
}

export function createProgressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{bench} [{bar}] {percentage}% | {value}/{total} runs | {caseName} ({phase})',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = { bench: p.bench, caseName: p.caseName, phase: p.phase };
      if (!started) {
        bar.start(p.total, p.done, payload);
        started = true;
      } else bar.update(p.done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
