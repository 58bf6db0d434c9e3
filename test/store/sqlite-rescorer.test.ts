import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { afterAll, describe, expect, it } from 'vitest';
import { vectorToBlob } from '../../src/store/sqlite/rows.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { RESCORE_SQL, VectorRescorer } from '../../src/store/sqlite/vector-rescorer.js';
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

      // Another process's store warming the cube starts its thread before any search.
      const warmed = SqliteStore.open(file, options);
      try {
        expect(await warmed.warm(scope)).toBe(true);
        for (let waited = 0; !warmed.rescoresInBackground() && waited < 10_000; waited += 20) await sleep(20);
        expect(warmed.rescoresInBackground()).toBe(true);
      } finally {
        await warmed.close();
      }
    } finally {
      await Promise.all([store.close(), inline.close()]);
    }
  });

  it("the thread's own answer is RESCORE_SQL's on the main connection, row for row", async () => {
    const file = path.join(tmp, 'direct.db');
    const store = SqliteStore.open(file, { vectorRescoring: 'inline' });
    const rescorer = VectorRescorer.start(file);
    const db = new Database(file, { readonly: true });
    sqliteVec.load(db);
    try {
      await store.createCube('default', 'notes', { id: 'test', dimensions: DIMS }, ctx());
      const records = Array.from({ length: 30 }, (_, i) => rec(`item ${i}`, { embedding: vectorOf(i + 1) }));
      await store.insertItems(scope, records, ctx());
      await store.setStatus(scope, records[0]?.id as string, 'deleted', 'delete', ctx());
      for (let waited = 0; !rescorer.usable && waited < 10_000; waited += 20) await sleep(20);
      const query = vectorToBlob(vectorOf(7));
      const keys = JSON.stringify(Array.from({ length: 40 }, (_, k) => k + 1));
      const here = db.prepare(RESCORE_SQL).all(query, keys, 1, 10);
      const onThread = await rescorer.rescore(query, keys, 1, 10);
      expect(here).toHaveLength(10);
      expect(onThread).toEqual(here);
      // The deleted first item (key 1) is left out; item 7 (key 7) is its own nearest.
      expect(onThread.map((r) => r.key)).not.toContain(1);
      expect(onThread[0]).toMatchObject({ key: 7 });
      // A statement the thread cannot run is that request's error, not the thread's end.
      await expect(rescorer.rescore(Buffer.alloc(3), keys, 1, 10)).rejects.toThrow();
      expect(await rescorer.rescore(query, keys, 1, 10)).toEqual(here);
    } finally {
      db.close();
      await rescorer.stop();
      await store.close();
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

/**
 * Runs the built library in a child process: 150 messages with 8-d point vectors (indexes from 10
 * items, so the cube is searched as a big one), a vector search that starts the rescoring thread,
 * another once it has had time to come up, then `close()` or not; prints the top hit's content.
 */
function searchInChildProcess(name: string, closes: boolean) {
  const file = path.join(tmp, name);
  const library = pathToFileURL(path.resolve('dist/index.js')).href;
  const script = `
    import { setTimeout as sleep } from 'node:timers/promises';
    import { MemoryOS } from ${JSON.stringify(library)};
    const point = (i) => Float32Array.from({ length: 8 }, (_, d) => Math.sin(i * (d + 1)));
    const embedder = {
      id: 'points',
      dimensions: async () => 8,
      embed: async (texts) => texts.map((t) => point(Number(t.split(' ')[1]))),
    };
    const memory = await MemoryOS.open({ path: ${JSON.stringify(file)}, embedder });
    const cube = await memory.cube('notes');
    await cube.add(Array.from({ length: 150 }, (_, i) => ({ content: 'message ' + i })), { sessionId: 's' });
    await cube.search('message 7', { channels: ['vector'] });
    await sleep(500);
    const hits = await cube.search('message 7', { channels: ['vector'] });
    ${closes ? 'await memory.close();' : ''}
    process.stdout.write(hits[0].item.content);
  `;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, MEMCUBE_INDEX_MIN_ITEMS: '10' },
  });
}

describe('vector rescoring thread and process exit (the built library)', () => {
  it('a process that searched a big cube and awaits close() runs on to its end', () => {
    // The thread is unreferenced while idle; close() must still wait for it to stop.
    const run = searchInChildProcess('exit.db', true);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('message 7');
  });

  it('an idle thread does not hold open a process that never closes its memory', () => {
    const run = searchInChildProcess('unclosed.db', false);
    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('message 7');
  });
});
