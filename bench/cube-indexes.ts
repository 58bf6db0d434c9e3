/**
 * The in-process indexes on a big cube kept by `memcube bench --keep`: search latency by channel,
 * the full-text index against FTS5 (same top 10?), and the vector index's recall@10 against
 * the exact scan for several candidate counts. Item and query vectors come from the
 * bench's embedding cache, as in `memcube bench`.
 *
 *   node dist/cli/main.js bench --sizes 100000 --keep --out /tmp/b
 *   NODE_OPTIONS=--expose-gc npx tsx bench/cube-indexes.ts --db /tmp/b/databases/memcube-100000/memcube.db [--queries 80]
 *
 * (`--expose-gc` lets it collect garbage before each memory reading; without it they are rough.)
 */
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { benchQueries, limitCorpus, loadCorpus } from '../src/bench/corpus.js';
import { loadBenchVectors } from '../src/bench/embedding.js';
import type { ChannelName } from '../src/core/types.js';
import { defaultEmbeddingCachePath } from '../src/eval/embedder.js';
import { MemoryOS } from '../src/os/memory-os.js';
import { lexicalTerms } from '../src/retrieve/query-terms.js';
import { CubeIndexes } from '../src/store/sqlite/cube-indexes.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    queries: { type: 'string', default: '80' },
    datasets: { type: 'string', default: '../shared/datasets' },
  },
});
if (!values.db) throw new Error('--db FILE: a database kept by `memcube bench --keep`');
const file = values.db;
const scope = { tenant: 'default', cube: 'bench' };
const corpus = limitCorpus(loadCorpus(values.datasets, 20_000), 20_000);
const queries = benchQueries(corpus, Number(values.queries));
const vectors = await loadBenchVectors(corpus, 0, defaultEmbeddingCachePath());
await vectors.embedder.remember([...new Set(queries)]);

const percentiles = (ms: number[]): string => {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) =>
    (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number).toFixed(1);
  return `${at(0.5)} / ${at(0.95)} / ${at(0.99)}`;
};

// Each index is built inline on its channel's first search after the process opens the cube.
const weights = { text: 1, context: 0.5, keys: 0.5 };
const inline = { indexMinItems: 0, backgroundBuildMinItems: Number.POSITIVE_INFINITY };
const builder = SqliteStore.open(file, inline);
const [firstVector] = (await vectors.embedder.embed([queries[0] as string])) as Float32Array[];
// Heap and array buffers after a collection: what the indexes hold, less noisy than RSS.
const collectGarbage = (globalThis as { gc?: () => void }).gc;
const held = () => {
  collectGarbage?.();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
};
const heldBefore = held();
let started = performance.now();
await builder.searchLexical(scope, lexicalTerms(queries[0] as string), {}, 10, weights);
const lexicalBuild = performance.now() - started;
const heldLexical = held();
started = performance.now();
await builder.searchVector(scope, firstVector as Float32Array, {}, 10);
const vectorBuild = performance.now() - started;
const heldBoth = held();
await builder.close();
const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
console.log(
  `full-text index: built in ${(lexicalBuild / 1000).toFixed(1)} s, holds ~${mb(heldLexical - heldBefore)} MB; ` +
    `vector index: ${(vectorBuild / 1000).toFixed(1)} s, ~${mb(heldBoth - heldLexical)} MB\n`,
);

console.log('| channels | p50 / p95 / p99 ms |\n|---|---|');
const memory = await MemoryOS.open({ path: file, embedder: vectors.embedder });
const cube = await memory.cube(scope.cube);
await cube.warm();
const warmup = Math.min(10, Math.floor(queries.length / 4));
const runs: Array<[string, ChannelName[] | undefined]> = [
  ['default (all)', undefined],
  ['lexical', ['lexical']],
  ['vector', ['vector']],
  ['lexical + expansion', ['lexical', 'expansion']],
  ['temporal', ['temporal']],
];
for (const [name, channels] of runs) {
  const options = channels ? { limit: 10, channels } : { limit: 10 };
  for (const q of queries.slice(0, warmup)) await cube.search(q, options);
  const ms: number[] = [];
  for (const q of queries.slice(warmup)) {
    const started = performance.now();
    await cube.search(q, options);
    ms.push(performance.now() - started);
  }
  console.log(`| ${name} | ${percentiles(ms)} |`);
}
await memory.close();

// Full-text index against FTS5 on the same rows.
const indexed = SqliteStore.open(file, inline);
const fts = SqliteStore.open(file, { indexMinItems: Number.POSITIVE_INFINITY, smallLexicalBytes: 0 });
let sameTop = 0;
let largestScoreGap = 0;
for (const q of queries) {
  const a = await indexed.searchLexical(scope, lexicalTerms(q), {}, 10, weights);
  const b = await fts.searchLexical(scope, lexicalTerms(q), {}, 10, weights);
  const ftsScores = new Map(b.map((h) => [h.id, h.score]));
  if (a.every((h) => ftsScores.has(h.id)) && a.length === b.length) sameTop++;
  for (const h of a)
    largestScoreGap = Math.max(largestScoreGap, Math.abs((ftsScores.get(h.id) ?? h.score) - h.score));
}
console.log(
  `\nfull-text index vs FTS5: same top-10 ids for ${sameTop} of ${queries.length} questions; largest score gap ${largestScoreGap.toExponential(2)}`,
);

// Vector index recall against the exact scan, by candidate count.
const queryVectors = (await vectors.embedder.embed(queries)).filter(
  (v): v is Float32Array => v !== undefined,
);
const truth: Array<Set<string>> = [];
for (const v of queryVectors)
  truth.push(new Set((await fts.searchVector(scope, v, {}, 10)).map((h) => h.id)));
const db = new Database(file, { readonly: true });
const cubeKey = (db.prepare("SELECT cube_key FROM cubes WHERE name = 'bench'").get() as { cube_key: number })
  .cube_key;
const index = new CubeIndexes(db).vector(cubeKey, 512, 0);
if (!index) throw new Error('no vector index');
const idOf = db.prepare('SELECT id FROM items WHERE item_key = ?');
// The store rescores every candidate exactly, so its recall@10 is the share of the exact top 10
// among the candidates; the timing is the Hamming shortlist alone.
console.log('\n| candidates | recall@10 | shortlist p50 / p95 / p99 ms |\n|---|---|---|');
for (const candidates of [200, 500, 1000, 2000]) {
  let found = 0;
  const ms: number[] = [];
  for (const [i, v] of queryVectors.entries()) {
    const started = performance.now();
    const keys = index.nearest(v, candidates);
    ms.push(performance.now() - started);
    for (const key of keys) if (truth[i]?.has((idOf.get(key) as { id: string }).id)) found++;
  }
  console.log(`| ${candidates} | ${(found / (10 * queryVectors.length)).toFixed(4)} | ${percentiles(ms)} |`);
}
db.close();
await indexed.close();
await fts.close();
await vectors.close();
