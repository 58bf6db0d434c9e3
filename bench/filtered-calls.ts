/**
 * Filtered store calls on a cube kept by `memcube bench --keep`: `searchVector` and
 * `searchLexical` at limit 100 under filters that keep few rows (a speaker, a tag, a user, a
 * kind) or a role's, p50 over 10 stored turns' vectors and words, twice each, with a hash of the
 * hits so that two builds can be checked to return the same. It first gives every 5,000th row the
 * speaker `Rare` and the tag `rare`, another 5,000th the kind `fact`, and another the status `archived`, in SQL: it writes to the
 * file, so run it on a copy (one copy per build compared; an older build cannot open a file a
 * newer one migrated). With `--exact`, each filter's vector hits are also compared with SQL's
 * exact scan of the cube (recall@10; about 2 s a query at 1M).
 *
 *   node dist/cli/main.js bench --sizes 1000000 --keep --out /tmp/b
 *   cp /tmp/b/databases/memcube-1000000/memcube.db* /tmp/copy/
 *   npx tsx bench/filtered-calls.ts --db /tmp/copy/memcube.db
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { StoreItemFilter } from '../src/store/store.js';

const { values } = parseArgs({ options: { db: { type: 'string' }, exact: { type: 'boolean' } } });
if (!values.db) throw new Error('--db FILE: a copy of a database kept by `memcube bench --keep`');

const raw = new Database(values.db);
raw.prepare(`UPDATE items SET speaker = 'Rare', tags = '["rare"]' WHERE item_key % 5000 = 7`).run();
raw.prepare(`UPDATE items SET kind = 'fact' WHERE item_key % 5000 = 11`).run();
// Archived as the store archives: the status, and the vector out of the live set.
raw.prepare(`UPDATE items SET status = 'archived' WHERE item_key % 5000 = 13`).run();
raw.prepare(`UPDATE item_vectors SET live = 0 WHERE item_key % 5000 = 13`).run();
const picks = raw
  .prepare(
    `SELECT v.embedding AS embedding, i.content AS content FROM item_vectors v
     JOIN items i ON i.item_key = v.item_key WHERE v.item_key % 97001 = 5 LIMIT 10`,
  )
  .all() as Array<{ embedding: Buffer; content: string }>;
raw.close();
const queries = picks.map((p) => ({
  vector: new Float32Array(
    p.embedding.buffer.slice(p.embedding.byteOffset, p.embedding.byteOffset + p.embedding.byteLength),
  ),
  words: (p.content.toLowerCase().match(/[a-z]{4,}/g) ?? []).slice(0, 4),
}));

let started = performance.now();
const store = SqliteStore.open(values.db);
const openMs = performance.now() - started;
const scope = { tenant: 'default', cube: 'bench' };
started = performance.now();
await store.warm(scope);
console.log(
  `open (with any migration) ${openMs.toFixed(0)} ms, warm ${(performance.now() - started).toFixed(0)} ms\n`,
);

const filters: Record<string, StoreItemFilter> = {
  none: {},
  'a speaker no row has': { speakers: ['Nobody'] },
  'a speaker of the marked rows': { speakers: ['Rare'] },
  'a tag no row has': { tags: ['none'] },
  'a tag of the marked rows': { tags: ['rare'] },
  'a user no row has': { userId: 'nobody' },
  'the kind of the other marked rows': { kinds: ['fact'] },
  "the assistant's turns": { roles: ['assistant'] },
  "the user's turns": { roles: ['user'] },
  'the archived rows': { statuses: ['archived'] },
  'the active and archived rows': { statuses: ['active', 'archived'] },
};
// The same file with no in-process index: every vector search is SQL's exact scan.
const exact = values.exact ? SqliteStore.open(values.db, { indexMinItems: Number.POSITIVE_INFINITY }) : null;
const p50 = (xs: number[]) => ([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number).toFixed(1);
const weights = { text: 1, context: 0.5, keys: 0.5 };
console.log(
  `| filter | vector p50 ms | words p50 ms | hits hash |${exact ? ' vector recall@10 |' : ''}\n|---|---|---|---|${exact ? '---|' : ''}`,
);
for (const [name, filter] of Object.entries(filters)) {
  const vectorMs: number[] = [];
  const wordsMs: number[] = [];
  const hash = createHash('sha1');
  for (let round = 0; round < 2; round++) {
    for (const q of queries) {
      let t = performance.now();
      hash.update(JSON.stringify(await store.searchVector(scope, q.vector, filter, 100)));
      vectorMs.push(performance.now() - t);
      t = performance.now();
      hash.update(JSON.stringify(await store.searchLexical(scope, q.words, filter, 100, weights)));
      wordsMs.push(performance.now() - t);
    }
  }
  let recall = '';
  if (exact) {
    let found = 0;
    let wanted = 0;
    for (const q of queries) {
      const truth = (await exact.searchVector(scope, q.vector, filter, 10)).map((h) => h.id);
      const hits = new Set((await store.searchVector(scope, q.vector, filter, 10)).map((h) => h.id));
      found += truth.filter((id) => hits.has(id)).length;
      wanted += truth.length;
    }
    recall = ` ${wanted ? (found / wanted).toFixed(3) : '(none)'} |`;
  }
  console.log(
    `| ${name} | ${p50(vectorMs)} | ${p50(wordsMs)} | ${hash.digest('hex').slice(0, 10)} |${recall}`,
  );
}
await store.close();
await exact?.close();
