import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { NewItemRecord } from '../../src/store/store.js';

/** An in-memory store with one cube ('c', no vectors) holding these records; their ids in order. */
export async function storeWithItems(records: NewItemRecord[]) {
  const store = SqliteStore.open(':memory:');
  const scope = { tenant: 'default', cube: 'c' };
  const ctx = { actor: 'test', now: Date.UTC(2024, 0, 1) };
  await store.createCube('default', 'c', { id: 'none', dimensions: 0 }, ctx);
  const ids = (await store.insertItems(scope, records, ctx)).map((o) => o.id);
  return { store, scope, ids };
}

/** Records the ids each call of `read` asks for, in `asked`, and passes the call on. */
export function recordingReads<A, R>(
  read: (scope: A, ids: string[]) => Promise<R>,
  asked: string[][],
): (scope: A, ids: string[]) => Promise<R> {
  return (scope, ids) => {
    asked.push(ids);
    return read(scope, ids);
  };
}
