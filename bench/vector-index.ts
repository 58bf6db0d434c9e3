/**
 * The in-process vector index alone (no SQLite): build time, memory and search latency over N
 * random unit vectors: the 200 Hamming-nearest candidates per query, which `searchVector` then
 * rescores exactly from SQLite (not timed here).
 *
 *   npx tsx bench/vector-index.ts [--size 1000000] [--dims 512] [--queries 200]
 */
import { parseArgs } from 'node:util';
import { classBits } from '../src/store/sqlite/item-classes.js';
import { BinaryVectorIndex } from '../src/store/sqlite/vector-index.js';

const EPISODE = classBits(null, 'episode');

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1000000' },
    dims: { type: 'string', default: '512' },
    queries: { type: 'string', default: '200' },
  },
});
const size = Number(values.size);
const dims = Number(values.dims);

/** A deterministic pseudo-random unit vector, so runs are comparable. */
function unitVector(seed: number): Float32Array {
  let state = seed * 2654435761 + 1;
  const v = new Float32Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    v[i] = state / 2 ** 32 - 0.5;
    norm += (v[i] as number) ** 2;
  }
  for (let i = 0; i < dims; i++) v[i] = (v[i] as number) / Math.sqrt(norm);
  return v;
}

const rssBefore = process.memoryUsage().rss;
const index = new BinaryVectorIndex(dims);
const built = performance.now();
for (let key = 1; key <= size; key++)
  index.set(key, { id: `item-${key}`, vector: unitVector(key), time: 0, classes: EPISODE });
const buildMs = performance.now() - built;
const samples: number[] = [];
for (let q = 0; q < Number(values.queries); q++) {
  const query = unitVector(size + 1 + q);
  const started = performance.now();
  if (index.nearest(query, 200).length === 0) throw new Error('the index found nothing: check the entries');
  samples.push(performance.now() - started);
}
samples.sort((a, b) => a - b);
const pct = (p: number) => samples[Math.max(0, Math.ceil((p / 100) * samples.length) - 1)] ?? 0;
const round = (x: number) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify(
    {
      size,
      dims,
      build_s: round(buildMs / 1000),
      rss_mb_added: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
      search_ms: { p50: round(pct(50)), p95: round(pct(95)), p99: round(pct(99)) },
    },
    null,
    2,
  ),
);
