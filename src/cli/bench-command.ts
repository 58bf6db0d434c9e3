import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { defaultEmbeddingCachePath } from '../eval/embedder.js';
import { labelledProgress } from './progress.js';

interface BenchFlags {
  sizes: number[];
  peer?: 'mem0';
  peerMaxSize: number;
  out: string;
  queries: number;
  warmup: number;
  addSamples: number;
  pathSamples: number;
  distinct: number;
  datasets: string;
  cache: string;
  keep: boolean;
  json: boolean;
}

function sizeList(value: string): number[] {
  const sizes = value.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 100)) {
    throw new InvalidArgumentError('expected sizes as whole numbers of at least 100, comma-separated');
  }
  return sizes;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

const cell = (v: number | null): string => (v === null ? '—' : String(v));

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(
      'performance: ingest rate, add/search/context latency, RSS and size on disk against cube size',
    )
    .option('--sizes <list>', 'cube sizes, comma-separated', sizeList, [1000, 10000])
    .addOption(
      new Option('--peer <system>', 'also run this system on the same corpus, queries and vectors').choices([
        'mem0',
      ]),
    )
    .option('--peer-max-size <n>', 'run the peer only up to this size', wholeNumber, 100_000)
    .option('-o, --out <dir>', 'output directory', '.bench-out')
    .option('--queries <n>', 'queries per size, the warm-up ones included', wholeNumber, 220)
    .option('--warmup <n>', 'the first N queries run untimed, and are not timed again', wholeNumber, 20)
    .option('--add-samples <n>', 'single-item adds timed per size', wholeNumber, 100)
    .option(
      '--path-samples <n>',
      'items added through the public add call per size, in session chunks',
      wholeNumber,
      500,
    )
    .option(
      '--distinct <n>',
      'distinct corpus turns at most; larger sizes cycle them with perturbed vectors',
      wholeNumber,
      20_000,
    )
    .option(
      '--datasets <dir>',
      'datasets folder (LongMemEval, LoCoMo); generated text when absent',
      '../shared/datasets',
    )
    .option('--cache <path>', 'embedding cache database', defaultEmbeddingCachePath())
    .option('--keep', "keep each size's databases (under DIR/databases) for inspection afterwards", false)
    .addHelpText(
      'after',
      '\nEach system and size runs in its own child processes (ingest, then reopen and query), after a\n' +
        'warm-up. Item and query vectors are real offline-model vectors computed beforehand (and cached),\n' +
        'so ingest and latency figures exclude embedding; the model speed is reported on its own.\n' +
        'Writes DIR/bench.json and DIR/bench.svg.\n' +
        'Example:\n  memcube bench --sizes 1000,10000,100000,1000000 --peer mem0 --peer-max-size 10000 --out bench-out',
    )
    .action(async (_opts, cmd: Command) => {
      const flags = cmd.optsWithGlobals() as BenchFlags;
      const progress = labelledProgress(flags.json);
      const { runBench } = await import('../bench/run-bench.js');
      const { ratios } = await import('../bench/results.js');
      let report: Awaited<ReturnType<typeof runBench>>;
      try {
        report = await runBench({
          sizes: flags.sizes,
          peer: flags.peer ?? null,
          peerMaxSize: flags.peerMaxSize,
          out: flags.out,
          datasets: path.resolve(flags.datasets),
          cachePath: path.resolve(flags.cache),
          queries: flags.queries,
          warmup: flags.warmup,
          addSamples: flags.addSamples,
          pathSamples: flags.pathSamples,
          distinct: flags.distinct,
          keep: flags.keep,
          command: `memcube ${process.argv.slice(2).join(' ')}`,
          onProgress: progress.onProgress,
        });
      } finally {
        progress.stop();
      }
      const peerRatios = flags.peer ? ratios(report.results, flags.peer) : [];
      if (flags.json) {
        print(JSON.stringify({ ...report, ratios: peerRatios }, null, 2));
        return;
      }
      print(`embedding (not in the figures below): ${report.embedding.ms_per_text} ms per text`);
      print(
        'system   size      ingest/s  add-path/s  add p50  search p50/p95/p99 ms  user-only p50/p95  context p50  rss MB  db MB',
      );
      for (const r of report.results) {
        print(
          [
            r.system.padEnd(8),
            String(r.size).padEnd(9),
            String(r.ingest_per_s).padStart(8),
            String(r.add_path_per_s).padStart(11),
            String(r.add_p50_ms).padStart(8),
            `${r.search_p50_ms}/${r.search_p95_ms}/${r.search_p99_ms}`.padStart(22),
            (r.filtered_search_p50_ms === null
              ? cell(null)
              : `${r.filtered_search_p50_ms}/${r.filtered_search_p95_ms}`
            ).padStart(18),
            cell(r.context_p50_ms).padStart(12),
            String(r.rss_mb).padStart(7),
            String(r.db_mb).padStart(6),
          ].join(' '),
        );
      }
      for (const r of peerRatios) print(`memcube/${flags.peer} at ${r.size}: ${r.figure} × ${r.ratio}`);
      print(`wrote ${path.join(flags.out, 'bench.json')} and bench.svg`);
    });
}
