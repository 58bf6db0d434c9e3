import type Database from 'better-sqlite3';
import { blobToVector } from './rows.js';
import { BinaryVectorIndex } from './vector-index.js';

interface CachedIndex {
  table: string;
  index: BinaryVectorIndex;
  /** The last `vector_changes.seq` applied. */
  seq: number;
}

/** Past this many changed items since the last search, rereading the whole cube is cheaper. */
const REBUILD_AFTER_CHANGES = 20_000;

/** Records that an item's vector or liveness changed (null: the whole cube's), in the writing transaction. */
export function logVectorChange(db: Database.Database, cubeKey: number, itemKey: number | null): void {
  db.prepare('INSERT INTO vector_changes (cube_key, item_key) VALUES (?, ?)').run(cubeKey, itemKey);
}

/**
 * One connection's in-process vector indexes, one per searched cube, built lazily from SQLite.
 * Every vector write, from this connection or another process, appends to `vector_changes`;
 * before each search one indexed `max(seq)` read tells whether anything changed, and only the
 * changed items are reread.
 */
export class VectorIndexes {
  private readonly byCube = new Map<number, CachedIndex>();

  constructor(private readonly db: Database.Database) {}

  /** The cube's index, brought up to date with every committed write. */
  fresh(cubeKey: number, table: string, dimensions: number): BinaryVectorIndex {
    const cached = this.byCube.get(cubeKey);
    if (cached && cached.table === table && cached.seq === this.head()) return cached.index;
    // One read transaction: the changes and the vectors they point at come from one snapshot.
    return this.db.transaction(() => {
      const head = this.head();
      if (!cached || cached.table !== table) return this.build(cubeKey, table, dimensions, head);
      const changed = this.db
        .prepare('SELECT item_key AS key FROM vector_changes WHERE seq > ? AND cube_key = ?')
        .all(cached.seq, cubeKey) as Array<{ key: number | null }>;
      if (changed.length > REBUILD_AFTER_CHANGES || changed.some((c) => c.key === null)) {
        return this.build(cubeKey, table, dimensions, head);
      }
      const lookup = this.db.prepare(`SELECT live, embedding FROM ${table} WHERE item_key = ?`);
      for (const key of new Set(changed.map((c) => c.key as number))) {
        const row = lookup.get(BigInt(key)) as { live: number; embedding: Buffer } | undefined;
        cached.index.set(key, row && row.live === 1 ? blobToVector(row.embedding) : null);
      }
      cached.seq = head;
      return cached.index;
    })();
  }

  drop(cubeKey: number): void {
    this.byCube.delete(cubeKey);
  }

  private head(): number {
    return (
      this.db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM vector_changes').get() as { seq: number }
    ).seq;
  }

  private build(cubeKey: number, table: string, dimensions: number, head: number): BinaryVectorIndex {
    const index = new BinaryVectorIndex(dimensions);
    const rows = this.db
      .prepare(`SELECT item_key, live, embedding FROM ${table} WHERE cube_key = ?`)
      .iterate(BigInt(cubeKey)) as IterableIterator<{ item_key: number; live: number; embedding: Buffer }>;
    for (const row of rows) if (row.live === 1) index.set(row.item_key, blobToVector(row.embedding));
    this.byCube.set(cubeKey, { table, index, seq: head });
    return index;
  }
}
