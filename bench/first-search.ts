/**
 * A big cube's first searches after the process opens it: the first search's latency, the
 * searches answered (from SQLite) while the in-process indexes build in the background, how long
 * until `cube.warm()` resolves, and a search once they are ready.
 *
 *   node dist/cli/main.js bench --sizes 100000 --keep --out /tmp/b
 *   npx tsx bench/first-search.ts --db /tmp/b/databases/memcube-100000/memcube.db
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { benchQueries, limitCorpus, loadCorpus } from '../src/bench/corpus.js';
import { loadBenchVectors } from '../src/bench/embedding.js';
import { defaultEmbeddingCachePath } from '../src/eval/embedder.js';
import { MemoryOS } from '../src/os/memory-os.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    datasets: { type: 'string', default: '../shared/datasets' },
  },
});
if (!values.db) throw new Error('--db FILE: a database kept by `memcube bench --keep`');
const corpus = limitCorpus(loadCorpus(values.datasets, 20_000), 20_000);
const queries = benchQueries(corpus, 400);
const vectors = await loadBenchVectors(corpus, 0, defaultEmbeddingCachePath());
await vectors.embedder.remember([...new Set(queries)]);

const memory = await MemoryOS.open({ path: values.db, embedder: vectors.embedder });
const cube = await memory.cube('bench');
const timed = async (q: string) => {
  const started = performance.now();
  await cube.search(q, { limit: 10 });
  return performance.now() - started;
};

const opened = performance.now();
const first = await timed(queries[0] as string);
console.log(`first search: ${first.toFixed(1)} ms`);
let ready = false;
const warmed = cube.warm().then(() => {
  ready = true;
});
const during: number[] = [];
const median = () => {
  const sorted = [...during].sort((a, b) => a - b);
  return sorted.length > 0 ? (sorted[Math.floor(sorted.length / 2)] as number).toFixed(1) : '-';
};
for (const q of queries.slice(1)) {
  if (ready) break;
  during.push(await timed(q));
  // Long builds (a million items) report as they go.
  if (during.length % 20 === 0) {
    const seconds = ((performance.now() - opened) / 1000).toFixed(0);
    console.log(`  ${seconds} s: ${during.length} searches while building, median ${median()} ms`);
  }
  // As between a server's requests: the event loop turns, and the build takes its slice. Without
  // it these searches resolve as microtasks and the build never runs.
  await nextTurn();
}
await warmed;
const warmMs = performance.now() - opened;
const after = await timed(queries.at(-1) as string);
await memory.close();
await vectors.close();

console.log(`searches while the indexes built: ${during.length}, median ${median()} ms`);
console.log(`indexes ready ${(warmMs / 1000).toFixed(1)} s after the first search began`);
console.log(`a search once they were ready: ${after.toFixed(1)} ms`);
