import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemcubeError } from '../core/errors.js';
import { benchChartSvg } from './chart.js';
import { type Corpus, limitCorpus, loadCorpus } from './corpus.js';
import { deriveCorpusKeys } from './derived.js';
import { loadBenchVectors, measureEmbedding } from './embedding.js';
import type { BenchJob, IngestFigures, QueryFigures, WorkerMessage } from './job.js';
import type { BenchReport, BenchRow, MachineInfo } from './results.js';
import type { SystemName } from './systems.js';

export interface BenchOptions {
  sizes: number[];
  peer: SystemName | null;
  /** The peer runs only at sizes up to this one (it may take hours beyond). */
  peerMaxSize: number;
  out: string;
  datasets: string;
  cachePath: string;
  queries: number;
  warmup: number;
  addSamples: number;
  pathSamples: number;
  /** Distinct corpus turns at most; larger sizes cycle through them. */
  distinct: number;
  /** Keep each system's databases under `out/databases` instead of deleting them. */
  keep: boolean;
  /** The command line, recorded in bench.json. */
  command: string;
  onProgress: (label: string, done: number, total: number) => void;
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
const EMBEDDING_SAMPLE = 64;

function machineInfo(): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    load_average_at_start: +(os.loadavg()[0] ?? 0).toFixed(2),
  };
}

/** Runs one job in a child process and returns the figures it sends back. */
function runJob<T extends IngestFigures | QueryFigures>(
  job: BenchJob,
  onProgress: BenchOptions['onProgress'],
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [JSON.stringify(job)], {
      // mem0 would otherwise post usage telemetry, which cannot leave this machine anyway.
      env: { ...process.env, MEM0_TELEMETRY: 'false' },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    // A peer's console output must not mix with --json on stdout.
    child.stdout?.pipe(process.stderr);
    let figures: T | undefined;
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') onProgress(message.label, message.done, message.total);
      else figures = message.figures as T;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && figures) resolve(figures);
      else
        reject(
          new MemcubeError('storage', `bench ${job.system} ${job.size} ${job.phase} failed (exit ${code})`),
        );
    });
  });
}

function directoryMb(dir: string): number {
  const bytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  return +(bytes / 2 ** 20).toFixed(1);
}

async function benchOne(
  system: SystemName,
  size: number,
  options: BenchOptions,
  work: string,
  keysFile: string,
): Promise<BenchRow> {
  const dir = path.join(work, `${system}-${size}`);
  const job: BenchJob = {
    system,
    size,
    dir,
    phase: 'ingest',
    datasets: options.datasets,
    cachePath: options.cachePath,
    distinct: options.distinct,
    keysFile,
    queries: options.queries,
    warmup: options.warmup,
    addSamples: Math.min(options.addSamples, Math.floor(size / 10)),
    pathSamples: Math.min(options.pathSamples, Math.floor(size / 10)),
  };
  try {
    const ingest = await runJob<IngestFigures>(job, options.onProgress);
    const query = await runJob<QueryFigures>({ ...job, phase: 'query' }, options.onProgress);
    return {
      system,
      size,
      ingest_per_s: ingest.ingest_per_s,
      add_path_per_s: ingest.add_path_per_s,
      add_p50_ms: ingest.add_ms.p50,
      add_p95_ms: ingest.add_ms.p95,
      add_p99_ms: ingest.add_ms.p99,
      search_p50_ms: query.search_ms.p50,
      search_p95_ms: query.search_ms.p95,
      search_p99_ms: query.search_ms.p99,
      filtered_search_p50_ms: query.filtered_search_ms?.p50 ?? null,
      filtered_search_p95_ms: query.filtered_search_ms?.p95 ?? null,
      context_p50_ms: query.context_ms?.p50 ?? null,
      context_p99_ms: query.context_ms?.p99 ?? null,
      rss_mb: query.rss_mb,
      ingest_rss_mb: ingest.ingest_rss_mb,
      db_mb: directoryMb(dir),
      ann_recall_at_10: query.vector_index?.recall_at_10 ?? null,
      ann_build_ms: query.vector_index?.build_ms ?? null,
    };
  } finally {
    if (options.keep) {
      const kept = path.join(options.out, 'databases', `${system}-${size}`);
      fs.mkdirSync(path.dirname(kept), { recursive: true });
      fs.rmSync(kept, { recursive: true, force: true });
      moveDirectory(dir, kept);
    } else {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** A rename, or a copy where `to` is on another file system. */
function moveDirectory(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    fs.cpSync(from, to, { recursive: true });
    fs.rmSync(from, { recursive: true, force: true });
  }
}

/** Every system at every size, each in its own child processes; writes bench.json and bench.svg. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const machine = machineInfo();
  const maxSize = Math.max(...options.sizes);
  const corpus: Corpus = limitCorpus(loadCorpus(options.datasets, options.distinct), options.distinct);
  // Fill the shared embedding cache once here, so no child pays for the model.
  const warm = await loadBenchVectors(corpus, maxSize, options.cachePath, (done, total) =>
    options.onProgress('vectors', done, total),
  );
  await warm.close();
  const msPerText = await measureEmbedding(corpus, EMBEDDING_SAMPLE);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-bench-'));
  const results: BenchRow[] = [];
  try {
    const keysFile = path.join(work, 'keys.json');
    const keys = deriveCorpusKeys(limitCorpus(corpus, maxSize), (done, total) =>
      options.onProgress('derive keys', done, total),
    );
    fs.writeFileSync(keysFile, JSON.stringify(keys));
    for (const size of options.sizes) {
      results.push(await benchOne('memcube', size, options, work, keysFile));
      if (options.peer && size <= options.peerMaxSize)
        results.push(await benchOne(options.peer, size, options, work, keysFile));
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const distinct = Math.min(maxSize, corpus.turns.length);
  const report: BenchReport = {
    machine,
    command: options.command,
    corpus: corpus.source,
    queries: options.queries,
    embedding: {
      model: 'local:use-lite (USE lite, 512-d, WebAssembly)',
      ms_per_text: +msPerText.toFixed(2),
      vectors:
        `precomputed: real model vectors of the ${distinct} distinct corpus texts and of the queries ` +
        `(embedding cache ${options.cachePath}); items beyond them are cycled copies whose vectors are ` +
        'the original plus seeded Gaussian noise (cosine ≈ 0.95), renormalised',
    },
    results,
  };
  fs.mkdirSync(options.out, { recursive: true });
  fs.writeFileSync(path.join(options.out, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(options.out, 'bench.svg'), await benchChartSvg(results));
  return report;
}
