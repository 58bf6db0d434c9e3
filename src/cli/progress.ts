import cliProgress from 'cli-progress';
import type { ProgressCallback } from '../os/memory-os.js';

/** Below this many units the work is over before a bar could tell anyone anything. */
const MIN_UNITS_FOR_BAR = 200;

/** A progress bar on stderr (stdout stays clean for `--json` and pipes), drawn once work is large enough. */
function progressBar(label: string, quiet: boolean): { onProgress: ProgressCallback; stop: () => void } {
  let bar: cliProgress.SingleBar | undefined;
  return {
    onProgress: (done, total) => {
      if (quiet || total < MIN_UNITS_FOR_BAR) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: `${label} [{bar}] {value}/{total} {percentage}% | eta {eta_formatted}`,
            stream: process.stderr,
            hideCursor: true,
            // When stderr is a pipe (CI logs), still print a line every few seconds.
            noTTYOutput: true,
            notTTYSchedule: 2000,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
      }
      bar.update(done);
    },
    stop: () => bar?.stop(),
  };
}

/**
 * Progress of work made of several labelled steps (as reported by child processes): one bar per
 * label, the previous one closed when the label changes.
 */
export function labelledProgress(quiet: boolean): {
  onProgress: (label: string, done: number, total: number) => void;
  stop: () => void;
} {
  let current: { label: string; bar: ReturnType<typeof progressBar> } | undefined;
  return {
    onProgress: (label, done, total) => {
      if (current?.label !== label) {
        current?.bar.stop();
        current = { label, bar: progressBar(label, quiet) };
      }
      current.bar.onProgress(done, total);
    },
    stop: () => current?.bar.stop(),
  };
}

/** Runs `work` with a progress callback; the bar is stopped however the work ends. */
export async function withProgress<T>(
  label: string,
  quiet: boolean,
  work: (onProgress: ProgressCallback) => Promise<T>,
): Promise<T> {
  const bar = progressBar(label, quiet);
  try {
    return await work(bar.onProgress);
  } finally {
    bar.stop();
  }
}
