export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
}

/** Nearest rank: the smallest sample with at least p% of the samples at or below it. */
const percentile = (sorted: number[], p: number): number =>
  sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

/** Nearest-rank percentiles in milliseconds, rounded to 0.01 ms. */
export function summarize(samples: number[]): LatencySummary {
  const s = [...samples].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return { p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), p99: round(percentile(s, 99)) };
}

/** Milliseconds each call of `fn` takes, one sample per input. */
export async function timeEach<T>(inputs: T[], fn: (input: T) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (const input of inputs) {
    const started = performance.now();
    await fn(input);
    samples.push(performance.now() - started);
  }
  return samples;
}

export const rssMb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);
