/**
 * Bulk insert through the store, 1,000 rows a transaction, the word index caught up at the end:
 * untagged rows (as the bench corpus) with schema 15's triggers recreated on a fresh file, the
 * same rows with the tag index kept by the store (schema 16), and every row tagged with the
 * store's upkeep. Runs each variant `--rounds` times in turn and prints rows a second.
 *
 *   npx tsx bench/tag-index-writes.ts [--rows 60000] [--rounds 2]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { contentHash, newItemId } from '../src/core/ids.js';
import { NO_DERIVED_KEYS } from '../src/core/types.js';
import { SCHEMA_15_TAG_TRIGGERS } from '../src/store/sqlite/migrations.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { ANY_TIME, type NewItemRecord } from '../src/store/store.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '60000' }, rounds: { type: 'string', default: '2' } },
});
const rows = Number(values.rows);
const BATCH = 1_000;
const scope = { tenant: 'default', cube: 'bench' };
const ctx = () => ({ actor: 'bench', now: Date.now() });

/** A deterministic unit-scale vector per row. */
function vectorOf(row: number): Float32Array {
  let state = row + 1;
  return Float32Array.from({ length: 512 }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

function record(row: number, tagged: boolean): NewItemRecord {
  const content = `turn ${row}: a walk by the river, the dog, a trip to Lisbon and book number ${row % 977}`;
  return {
    id: newItemId(),
    kind: 'episode',
    content,
    index: { text: content, context: '', keys: '' },
    derived: NO_DERIVED_KEYS,
    role: row % 2 ? 'user' : 'assistant',
    speaker: null,
    userId: null,
    agentId: null,
    sessionId: `s${Math.floor(row / 12)}`,
    runId: null,
    validFrom: null,
    validTo: null,
    dedupeWindow: ANY_TIME,
    sourceIds: [],
    tags: tagged ? [`topic-${row % 50}`] : [],
    metadata: {},
    contentHash: contentHash(content),
    embedding: vectorOf(row),
  };
}

async function rowsPerSecond(triggers: boolean, tagged: boolean): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-tag-writes-'));
  const file = path.join(dir, 'memcube.db');
  try {
    const setup = SqliteStore.open(file);
    await setup.createCube(scope.tenant, scope.cube, { id: 'bench', dimensions: 512 }, ctx());
    await setup.close();
    if (triggers) {
      const raw = new Database(file);
      raw.exec(SCHEMA_15_TAG_TRIGGERS);
      raw.close();
    }
    const store = SqliteStore.open(file);
    let ms = 0;
    for (let start = 0; start < rows; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, rows - start) }, (_, i) =>
        record(start + i, tagged),
      );
      const began = performance.now();
      await store.insertItems(scope, batch, ctx());
      ms += performance.now() - began;
    }
    const began = performance.now();
    await store.catchUpWordIndex();
    ms += performance.now() - began;
    await store.close();
    return rows / (ms / 1000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Tagged rows only with the store's upkeep: on a file with the triggers the store's own writes
// would add to theirs, which no released version did.
const variants = [
  { keeper: "schema 15's triggers", triggers: true, tagged: false },
  { keeper: 'the store (schema 16)', triggers: false, tagged: false },
  { keeper: 'the store (schema 16)', triggers: false, tagged: true },
];
console.log(`| tags kept by | rows | rows/s (${values.rounds} rounds) |\n|---|---|---|`);
for (const { keeper, triggers, tagged } of variants) {
  const rates: string[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    rates.push((await rowsPerSecond(triggers, tagged)).toFixed(0));
  }
  console.log(`| ${keeper} | ${tagged ? 'each tagged' : 'untagged'} | ${rates.join(', ')} |`);
}
