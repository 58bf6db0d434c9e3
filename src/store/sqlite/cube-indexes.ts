import type Database from 'better-sqlite3';
import { type IndexedDoc, LexicalIndex } from './lexical-index.js';
import { prepared } from './prepared.js';
import { blobToVector } from './rows.js';
import { BinaryVectorIndex, type VectorEntry } from './vector-index.js';

interface CubeState {
  /** The last `index_changes.seq` applied to this cube's indexes. */
  seq: number;
  vector?: BinaryVectorIndex;
  lexical?: LexicalIndex;
  /** Active items, counted while the cube has no index; unknown again after a write to it. */
  activeItems?: number;
}

/** Past this many changed items since the last search, rereading the whole cube is cheaper. */
const REBUILD_AFTER_CHANGES = 20_000;

/** Changes kept in the log; a connection further behind than this rebuilds its indexes. */
const KEEP_CHANGES = 100_000;
/** The log is trimmed once every this many changes. */
const PRUNE_EVERY = 1_000;

/**
 * Records that an item's searchable row changed (null: the whole cube's), in the writing
 * transaction, and now and then drops the changes more than `keep` behind.
 */
export function logIndexChange(
  db: Database.Database,
  cubeKey: number,
  itemKey: number | null,
  keep = KEEP_CHANGES,
): void {
  const insert = prepared(db, 'INSERT INTO index_changes (cube_key, item_key) VALUES (?, ?)');
  const seq = Number(insert.run(cubeKey, itemKey).lastInsertRowid);
  if (seq % PRUNE_EVERY === 0) db.prepare('DELETE FROM index_changes WHERE seq <= ?').run(seq - keep);
}

interface DocRow {
  item_key: number;
  id: string;
  status: string;
  index_text: string;
  index_context: string;
  index_keys: string;
  time: number;
}

const DOC_COLUMNS =
  'item_key, id, status, index_text, index_context, index_keys, coalesce(valid_from, created_at) AS time';
/** What the store's `from`/`to` filter compares, over `items` aliased `i`. */
const EVENT_TIME = 'coalesce(i.valid_from, i.created_at)';

interface VectorRow {
  id: string;
  live: number;
  embedding: Buffer;
  time: number;
}

function vectorEntry(row: Omit<VectorRow, 'live'>): VectorEntry {
  return { id: row.id, vector: blobToVector(row.embedding), time: row.time };
}

function toDoc(row: DocRow): IndexedDoc {
  return {
    id: row.id,
    text: row.index_text,
    context: row.index_context,
    keys: row.index_keys,
    active: row.status === 'active',
    time: row.time,
  };
}

/**
 * One connection's in-process search indexes (vector and full-text), per searched cube, built
 * lazily from SQLite. Every write to an item's searchable row, from this connection or another
 * process, appends to `index_changes`; before each search one indexed `max(seq)` read tells
 * whether anything changed, and only the changed items are reread.
 */
export class CubeIndexes {
  private readonly byCube = new Map<number, CubeState>();

  constructor(private readonly db: Database.Database) {}

  /** Prepared once per connection: the freshness check runs before every search. */
  private stmt(sql: string): Database.Statement {
    return prepared(this.db, sql);
  }

  /**
   * The cube's vector index, brought up to date with every committed write; null while the cube
   * has fewer than `minItems` active items (its searches stay in SQLite, and nothing is held).
   */
  vector(cubeKey: number, dimensions: number, minItems: number): BinaryVectorIndex | null {
    return this.db.transaction(() => {
      const state = this.fresh(cubeKey);
      if (state.vector?.dimensions === dimensions) return state.vector;
      if (!this.bigEnough(state, cubeKey, minItems)) return null;
      state.vector = this.buildVector(cubeKey, dimensions);
      return state.vector;
    })();
  }

  /** The cube's full-text index, as `vector` does for vectors. */
  lexical(cubeKey: number, minItems: number): LexicalIndex | null {
    return this.db.transaction(() => {
      const state = this.fresh(cubeKey);
      if (state.lexical && !state.lexical.wantsRebuild) return state.lexical;
      if (!this.bigEnough(state, cubeKey, minItems)) return null;
      state.lexical = this.buildLexical(cubeKey);
      return state.lexical;
    })();
  }

  /** A cube with an index was big; otherwise its active items are counted (again after writes to it). */
  private bigEnough(state: CubeState, cubeKey: number, minItems: number): boolean {
    if (state.vector || state.lexical || minItems <= 0) return true;
    state.activeItems ??= (
      this.stmt("SELECT count(*) AS n FROM items WHERE cube_key = ? AND status = 'active'").get(cubeKey) as {
        n: number;
      }
    ).n;
    return state.activeItems >= minItems;
  }

  drop(cubeKey: number): void {
    this.byCube.delete(cubeKey);
  }

  /**
   * The cube's state with every change up to now applied, inside the caller's read transaction so
   * the changes and the rows they point at come from one snapshot.
   */
  private fresh(cubeKey: number): CubeState {
    const head = (
      this.stmt('SELECT coalesce(max(seq), 0) AS seq FROM index_changes').get() as { seq: number }
    ).seq;
    const state = this.byCube.get(cubeKey);
    if (!state) {
      const created: CubeState = { seq: head };
      this.byCube.set(cubeKey, created);
      return created;
    }
    if (state.seq === head) return state;
    const oldest = (
      this.stmt('SELECT coalesce(min(seq), 0) AS seq FROM index_changes').get() as { seq: number }
    ).seq;
    // Changes pruned from the log since this connection last looked: only a rebuild is exact.
    const missedPruned = state.seq < oldest - 1;
    const changed = this.stmt('SELECT item_key AS key FROM index_changes WHERE seq > ? AND cube_key = ?').all(
      state.seq,
      cubeKey,
    ) as Array<{ key: number | null }>;
    state.seq = head;
    if (changed.length > 0 || missedPruned) state.activeItems = undefined;
    if (missedPruned || changed.length > REBUILD_AFTER_CHANGES || changed.some((c) => c.key === null)) {
      state.vector = undefined;
      state.lexical = undefined;
      return state;
    }
    const keys = [...new Set(changed.map((c) => c.key as number))];
    try {
      if (state.vector) {
        const lookup = this.stmt(
          `SELECT i.id, v.live, v.embedding, ${EVENT_TIME} AS time FROM item_vectors v
           CROSS JOIN items i ON i.item_key = v.item_key WHERE v.item_key = ?`,
        );
        for (const key of keys) {
          const row = lookup.get(key) as VectorRow | undefined;
          state.vector.set(key, row && row.live === 1 ? vectorEntry(row) : null);
        }
      }
      if (state.lexical) {
        const lookup = this.stmt(`SELECT ${DOC_COLUMNS} FROM items WHERE item_key = ? AND cube_key = ?`);
        for (const key of keys) {
          const row = lookup.get(key, cubeKey) as DocRow | undefined;
          state.lexical.set(key, row ? toDoc(row) : null);
        }
      }
    } catch (err) {
      // Half-applied changes would leave the indexes wrong for good: drop them; the next search rebuilds.
      this.byCube.delete(cubeKey);
      throw err;
    }
    return state;
  }

  private buildVector(cubeKey: number, dimensions: number): BinaryVectorIndex {
    const index = new BinaryVectorIndex(dimensions);
    // The cube's live vectors by their index; each row's event time comes from items.
    const rows = this.stmt(
      `SELECT v.item_key, i.id, v.embedding, ${EVENT_TIME} AS time FROM item_vectors v
         CROSS JOIN items i ON i.item_key = v.item_key WHERE v.cube_key = ? AND v.live = 1`,
    ).iterate(cubeKey) as IterableIterator<Omit<VectorRow, 'live'> & { item_key: number }>;
    for (const row of rows) index.set(row.item_key, vectorEntry(row));
    return index;
  }

  private buildLexical(cubeKey: number): LexicalIndex {
    const index = new LexicalIndex();
    const rows = this.stmt(`SELECT ${DOC_COLUMNS} FROM items WHERE cube_key = ?`).iterate(
      cubeKey,
    ) as IterableIterator<DocRow>;
    for (const row of rows) index.set(row.item_key, toDoc(row));
    index.trim();
    return index;
  }
}
