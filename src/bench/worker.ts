/**
 * One benchmark child process: one system, one size, one phase (ingest, or reopen and query), so
 * each figure, RSS above all, belongs to that system and size alone. Talks to the parent over IPC.
 */
import fs from 'node:fs';
import { foldLatinAccents } from '../core/accents.js';
import { lexicalTerms } from '../retrieve/query-terms.js';
import { vocabularyOf } from '../retrieve/related-words.js';
import { type BenchItem, benchItem, benchQueries, limitCorpus, loadCorpus } from './corpus.js';
import { copyKeys, type TurnKeys } from './derived.js';
import { loadBenchVectors } from './embedding.js';
import type { BenchJob, IngestFigures, QueryFigures, WorkerMessage } from './job.js';
import { openMem0 } from './mem0-system.js';
import { openMemcube } from './memcube-system.js';
import { rssMb, summarize, timeEach } from './stats.js';
import type { BenchSystem } from './systems.js';

/**
 * A bulk load writes this many consecutive turns (several sessions) in one transaction, as an
 * import does; a public `add` carries one session's turns, at most this many.
 */
const MAX_CHUNK = 1000;
const PROGRESS_EVERY = 2000;

const send = (message: WorkerMessage): void => {
  process.send?.(message);
};

/** Least time between two progress messages: each wakes the parent, which shares the cores being timed. */
const PROGRESS_INTERVAL_MS = 250;

function progress(label: string): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (done < total && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    send({ type: 'progress', label, done, total });
  };
}

/** Chunks of consecutive items (at most MAX_CHUNK, one session each when `bySession`) covering [from, end). */
function* chunks(
  item: (i: number) => BenchItem,
  from: number,
  end: number,
  bySession: boolean,
): Generator<BenchItem[]> {
  for (let i = from; i < end; ) {
    const first = item(i);
    const chunk = [first];
    for (i++; i < end && chunk.length < MAX_CHUNK; i++) {
      const next = item(i);
      if (bySession && next.session !== first.session) break;
      chunk.push(next);
    }
    yield chunk;
  }
}

async function ingest(
  job: BenchJob,
  system: BenchSystem,
  item: (i: number) => BenchItem,
): Promise<IngestFigures> {
  const pathStart = job.size - job.addSamples - job.pathSamples;
  const singlesStart = job.size - job.addSamples;
  const report = progress(`${job.system} ${job.size}: ingest`);
  let bulkMs = 0;
  let done = 0;
  let reported = 0;
  for (const chunk of chunks(item, 0, pathStart, false)) {
    bulkMs += await system.bulk(chunk);
    done += chunk.length;
    if (done - reported >= PROGRESS_EVERY) {
      report(done, job.size);
      reported = done;
    }
  }
  bulkMs += await system.settle();
  const pathStarted = performance.now();
  for (const chunk of chunks(item, pathStart, singlesStart, true)) await system.add(chunk);
  const pathSeconds = (performance.now() - pathStarted) / 1000;
  const singles = Array.from({ length: job.addSamples }, (_, k) => item(singlesStart + k));
  const addMs = await timeEach(singles, (t) => system.add([t]));
  report(job.size, job.size);
  return {
    ingest_per_s: Math.round(pathStart / (bulkMs / 1000)),
    add_path_per_s: Math.round(job.pathSamples / pathSeconds),
    add_ms: summarize(addMs),
    ingest_rss_mb: rssMb(),
    embedded_during_run: 0,
  };
}

async function query(job: BenchJob, system: BenchSystem, queries: string[]): Promise<QueryFigures> {
  // Warm-up queries are not timed again: their pages and plans would be hot.
  await system.warm();
  for (const q of queries.slice(0, job.warmup)) await system.search(q);
  const timed = queries.length > job.warmup ? queries.slice(job.warmup) : queries;
  const report = progress(`${job.system} ${job.size}: queries`);
  const searchMs: number[] = [];
  for (const [n, q] of timed.entries()) {
    searchMs.push(...(await timeEach([q], system.search)));
    report(n + 1, timed.length);
  }
  const filtered = system.filteredSearch;
  const filteredMs = filtered ? await timeEach(timed, filtered) : null;
  const context = system.context;
  const contextMs = context ? await timeEach(timed, context) : null;
  // RSS first: the recall check opens two more stores.
  const rss = rssMb();
  return {
    search_ms: summarize(searchMs),
    filtered_search_ms: filteredMs ? summarize(filteredMs) : null,
    context_ms: contextMs ? summarize(contextMs) : null,
    rss_mb: rss,
    vector_index: system.vectorIndex ? await system.vectorIndex(queries) : null,
  };
}

async function openSystem(
  job: BenchJob,
  vectors: Awaited<ReturnType<typeof loadBenchVectors>>,
): Promise<BenchSystem> {
  if (job.system === 'mem0') return openMem0(job.dir, vectors.embedder);
  const keys =
    job.phase === 'ingest' ? (JSON.parse(fs.readFileSync(job.keysFile, 'utf8')) as TurnKeys[]) : [];
  return openMemcube(job.dir, vectors.embedder, (item) => {
    const own = keys[item.base] as TurnKeys;
    return item.copy === 0 ? own : copyKeys(own, item.content);
  });
}

async function run(job: BenchJob): Promise<void> {
  const corpus = limitCorpus(loadCorpus(job.datasets, job.distinct), job.distinct);
  const queries = benchQueries(corpus, job.queries);
  const vectors = await loadBenchVectors(
    corpus,
    job.phase === 'ingest' ? job.size : 0,
    job.cachePath,
    progress(`${job.system} ${job.size}: vectors`),
  );
  // Query vectors are looked up before timing starts: the figures exclude query embedding. So
  // are the vectors of the queries' words, which the related-words channel embeds when the cube
  // lacks them.
  const queryWords = queries.flatMap((q) => lexicalTerms(q).map(foldLatinAccents));
  await vectors.embedder.remember([...new Set([...queries, ...queryWords])]);
  if (job.phase === 'ingest') {
    // So are the words `add` embeds for the related-words channel.
    const firstAdded = job.size - job.addSamples - job.pathSamples;
    const added = Array.from({ length: job.size - firstAdded }, (_, k) => benchItem(corpus, firstAdded + k));
    await vectors.embedder.remember(vocabularyOf(added.map((t) => ({ text: t.content, keys: '' }))));
  }
  fs.mkdirSync(job.dir, { recursive: true });
  const system = await openSystem(job, vectors);
  try {
    if (job.phase === 'ingest') {
      const figures = await ingest(job, system, (i) => benchItem(corpus, i));
      send({ type: 'ingest', figures: { ...figures, embedded_during_run: vectors.embedder.fallbackTexts } });
    } else {
      send({ type: 'query', figures: await query(job, system, queries) });
    }
  } finally {
    await system.close();
    await vectors.close();
  }
}

const job = JSON.parse(process.argv[2] ?? '{}') as BenchJob;
run(job).then(
  () => process.disconnect?.(),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
