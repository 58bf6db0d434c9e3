import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { VectorRescorer } from '../../src/store/sqlite/vector-rescorer.js';
import { rec } from './conformance.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-rescorer-'));
const ctx = () => ({ actor: 'test', now: Date.now() });
const scope = { tenant: 'default', cube: 'notes' };
const DIMS = 8;

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A seeded unit vector: the test's items and queries are points, not the meaning of any text. */
function vectorOf(seed: number): Float32Array {
  const v = new Float32Array(DIMS);
  let x = seed * 2654435761;
  for (let i = 0; i < DIMS; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    v[i] = x / 2147483648 - 0.5;
  }
  const norm = Math.hypot(...v);
  return v.map((c) => c / norm);
}

describe('vector rescoring on a worker thread', () => {
  it('rescores a big cube on the thread once it is up, with the same hits as on the main connection', async () => {
    const file = path.join(tmp, 'rescore.db');
    // Indexes from 10 items, built inline: this 60-item cube is searched as a big one is.
    const options = { indexMinItems: 10, backgroundBuildMinItems: 1_000_000 };
    const store = SqliteStore.open(file, options);
    const inline = SqliteStore.open(file, { ...options, vectorRescoring: 'inline' });
    try {
      await store.createCube('default', 'notes', { id: 'test', dimensions: DIMS }, ctx());
      const records = Array.from({ length: 60 }, (_, i) => rec(`item ${i}`, { embedding: vectorOf(i + 1) }));
      await store.insertItems(scope, records, ctx());
      const deleted = records[3]?.id as string;
      await store.setStatus(scope, deleted, 'deleted', 'delete', ctx());

      // Item 4's own vector, the deleted item 3's, and two points of no item.
      const queries = [vectorOf(5), vectorOf(4), vectorOf(1000), vectorOf(2000)];
      // The first search starts the thread and rescores here meanwhile.
      const first = await store.searchVector(scope, queries[0] as Float32Array, {}, 5);
      for (let waited = 0; !store.rescoresInBackground() && waited < 10_000; waited += 20) await sleep(20);
      expect(store.rescoresInBackground()).toBe(true);
      expect(inline.rescoresInBackground()).toBe(false);

      for (const query of queries) {
        const onThread = await store.searchVector(scope, query, {}, 5);
        const here = await inline.searchVector(scope, query, {}, 5);
        expect(onThread).toHaveLength(5);
        expect(onThread).toEqual(here);
        expect(onThread.map((h) => h.id)).not.toContain(deleted);
      }
      expect(await store.searchVector(scope, queries[0] as Float32Array, {}, 5)).toEqual(first);
      expect(first[0]?.id).toBe(records[4]?.id);
      expect(first[0]?.score).toBeCloseTo(1, 5);
    } finally {
      await Promise.all([store.close(), inline.close()]);
    }
  });

  it('a thread that cannot open its file fails its requests, and stopping it after it has ended returns', async () => {
    const rescorer = VectorRescorer.start(path.join(tmp, 'missing', 'none.db'));
    const request = rescorer.rescore(Buffer.alloc(4 * DIMS), '[1]', 1, 5);
    await expect(request).rejects.toThrow();
    expect(rescorer.usable).toBe(false);
    await rescorer.stop();
  });
});
