/**
 * Where a search's time goes on a kept cube: `search` top 10 through the public API, its latency
 * percentiles, the time of each Store call it makes (per question, and calls per question), and the
 * same for the slowest 5% of questions, where the tail goes.
 * Run it on two checkouts against the same file to compare builds.
 *
 *   node dist/cli/main.js bench --sizes 100000 --keep --out /tmp/b
 *   npx tsx bench/store-calls.ts --db /tmp/b/databases/memcube-100000/memcube.db [--queries 200] [--config FILE]
 *
 * `--config FILE` searches with that retrieval config (as `memcube --config`), to compare settings.
 */
import { parseArgs } from 'node:util';
import { benchQueries, limitCorpus, loadCorpus } from '../src/bench/corpus.js';
import { loadBenchVectors } from '../src/bench/embedding.js';
import { readConfigFile } from '../src/core/config.js';
import { defaultEmbeddingCachePath } from '../src/eval/embedder.js';
import { MemoryOS } from '../src/os/memory-os.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    queries: { type: 'string', default: '200' },
    datasets: { type: 'string', default: '../shared/datasets' },
    config: { type: 'string' },
  },
});
if (!values.db) throw new Error('--db FILE: a database kept by `memcube bench --keep`');
const corpus = limitCorpus(loadCorpus(values.datasets, 20_000), 20_000);
const queries = benchQueries(corpus, Number(values.queries));
const vectors = await loadBenchVectors(corpus, 0, defaultEmbeddingCachePath());
await vectors.embedder.remember([...new Set(queries)]);

// Every SqliteStore method, private ones too, is timed while `timing` is on (nested calls count in both).
const spent = new Map<string, { ms: number; calls: number }>();
/** The same, for the question being timed: the slowest questions' calls show where the tail goes. */
let spentNow = new Map<string, number>();
let timing = false;
const proto = SqliteStore.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const name of Object.getOwnPropertyNames(SqliteStore.prototype)) {
  const method = proto[name];
  if (name === 'constructor' || typeof method !== 'function') continue;
  proto[name] = function (this: unknown, ...args: unknown[]) {
    if (!timing) return method.apply(this, args);
    const started = performance.now();
    const done = () => {
      const entry = spent.get(name) ?? { ms: 0, calls: 0 };
      entry.ms += performance.now() - started;
      entry.calls++;
      spent.set(name, entry);
      spentNow.set(name, (spentNow.get(name) ?? 0) + performance.now() - started);
    };
    const result = method.apply(this, args);
    if (result instanceof Promise) return result.finally(done);
    done();
    return result;
  };
}

const memory = await MemoryOS.open({
  ...(values.config ? readConfigFile(values.config) : {}),
  path: values.db,
  embedder: vectors.embedder,
});
const cube = await memory.cube('bench');
await cube.warm();
const warmup = Math.min(20, Math.floor(queries.length / 10));
for (const q of queries.slice(0, warmup)) await cube.search(q, { limit: 10 });
timing = true;
const timed = queries.slice(warmup);
const ms: number[] = [];
const perQuestion: Array<{ ms: number; calls: Map<string, number> }> = [];
for (const q of timed) {
  spentNow = new Map();
  const started = performance.now();
  await cube.search(q, { limit: 10 });
  ms.push(performance.now() - started);
  perQuestion.push({ ms: ms.at(-1) as number, calls: spentNow });
}
timing = false;
await memory.close();
await vectors.close();

ms.sort((a, b) => a - b);
const at = (p: number) => (ms[Math.min(ms.length - 1, Math.floor(ms.length * p))] as number).toFixed(2);
const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
console.log(
  `search, ${timed.length} questions: p50 ${at(0.5)} / p95 ${at(0.95)} / p99 ${at(0.99)} ms, mean ${mean.toFixed(2)} ms\n`,
);
console.log('| store call | ms per question | calls per question |\n|---|---|---|');
for (const [name, { ms: total, calls }] of [...spent].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`| ${name} | ${(total / timed.length).toFixed(3)} | ${(calls / timed.length).toFixed(1)} |`);
}

const slowest = perQuestion
  .sort((a, b) => b.ms - a.ms)
  .slice(0, Math.max(1, Math.ceil(perQuestion.length / 20)));
const slowMean = slowest.reduce((a, q) => a + q.ms, 0) / slowest.length;
console.log(`\nThe slowest ${slowest.length} questions (mean ${slowMean.toFixed(2)} ms):\n`);
console.log('| store call | ms per question |\n|---|---|');
const slowCalls = new Map<string, number>();
for (const q of slowest) for (const [name, t] of q.calls) slowCalls.set(name, (slowCalls.get(name) ?? 0) + t);
for (const [name, total] of [...slowCalls].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${name} | ${(total / slowest.length).toFixed(3)} |`);
}
