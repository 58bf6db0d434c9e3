import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { contentHash } from '../../src/core/ids.js';
import { CubeIndexes, logIndexChange } from '../../src/store/sqlite/cube-indexes.js';
import { LexicalIndex } from '../../src/store/sqlite/lexical-index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { BinaryVectorIndex } from '../../src/store/sqlite/vector-index.js';
import { ix, rec } from './conformance.js';
import { fts5Ranking } from './fts5-reference.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-background-'));
let files = 0;
const ctx = () => ({ actor: 'test', now: Date.now() });
const scope = { tenant: 'default', cube: 'main' };
const weights = { text: 1, context: 0.5, keys: 0.5 };
const WORDS = ['garden', 'marathon', 'ramen', 'bicycle', 'sunset', 'lake', 'fence', 'portrait', 'market'];
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A seeded unit vector, so every run ranks the same. */
function vector(seed: number): Float32Array {
  const v = Float32Array.from({ length: 4 }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** A cube of `n` turns with repeated words and vectors, in a new file. */
async function filledFile(n: number): Promise<string> {
  const file = path.join(tmp, `background-${++files}.db`);
  const store = SqliteStore.open(file);
  await store.createCube(scope.tenant, scope.cube, { id: 'emb-4', dimensions: 4 }, ctx());
  await store.insertItems(
    scope,
    Array.from({ length: n }, (_, i) =>
      rec(`turn code${i}: the ${WORDS[i % 9]} and the ${WORDS[(i * 4) % 9]} by the ${WORDS[(i * 7) % 9]}`, {
        embedding: vector(i),
      }),
    ),
    ctx(),
  );
  await store.close();
  return file;
}

describe('background index builds', () => {
  it('answers from SQLite while a big cube builds its indexes, then from them, with the same results', async () => {
    const file = await filledFile(300);
    const store = SqliteStore.open(file, { indexMinItems: 0, backgroundBuildMinItems: 100 });
    const exact = SqliteStore.open(file, { indexMinItems: Number.POSITIVE_INFINITY, smallLexicalBytes: 0 });
    const lexicalSearch = vi.spyOn(LexicalIndex.prototype, 'search');
    const nearest = vi.spyOn(BinaryVectorIndex.prototype, 'nearest');
    try {
      const terms = ['garden', 'ramen'];
      const query = vector(1000);
      const wantedWords = await fts5Ranking(exact, file, scope.cube, terms, weights, 10);
      const wantedNearest = await exact.searchVector(scope, query, {}, 10);
      expect(wantedWords).toHaveLength(10);

      // The first searches start the builds and are answered by SQLite.
      expect(await store.searchLexical(scope, terms, {}, 10, weights)).toEqual(wantedWords);
      expect(await store.searchVector(scope, query, {}, 10)).toEqual(wantedNearest);
      expect(lexicalSearch).not.toHaveBeenCalled();
      expect(nearest).not.toHaveBeenCalled();

      expect(await store.warm(scope)).toBe(true);
      expect(await store.searchLexical(scope, terms, {}, 10, weights)).toEqual(wantedWords);
      expect(await store.searchVector(scope, query, {}, 10)).toEqual(wantedNearest);
      expect(lexicalSearch).toHaveBeenCalledTimes(1);
      expect(nearest).toHaveBeenCalledTimes(1);
    } finally {
      lexicalSearch.mockRestore();
      nearest.mockRestore();
      await store.close();
      await exact.close();
    }
  });

  it('takes in the adds, edits and deletions made while it was building', async () => {
    const file = await filledFile(200);
    const writer = SqliteStore.open(file);
    const db = new Database(file);
    // Turns of 0 ms (and no share of the time spent elsewhere): one row per turn of the event loop,
    // so the writes below land mid-build.
    const indexes = new CubeIndexes(db, 100, 0, 0);
    try {
      const [first, second] = await writer
        .listItems(scope, {}, { limit: 2, order: 'asc' })
        .then((p) => p.items);
      const cubeKey = (
        db.prepare('SELECT cube_key FROM cubes WHERE name = ?').get(scope.cube) as { cube_key: number }
      ).cube_key;
      expect(indexes.lexical(cubeKey, 0)).toBeNull();
      expect(indexes.vector(cubeKey, 4, 0)).toBeNull();
      for (let i = 0; i < 20; i++) await nextTurn();
      // Still building: the writes below land mid-build.
      expect(indexes.lexical(cubeKey, 0)).toBeNull();

      const [added] = await writer.insertItems(
        scope,
        [rec('We rode a zeppelin over Lisbon', { embedding: vector(5000) })],
        ctx(),
      );
      await writer.setStatus(scope, first?.id as string, 'deleted', 'delete', ctx());
      await writer.updateItem(
        scope,
        second?.id as string,
        {
          content: {
            content: 'a hot-air balloon',
            index: ix('a hot-air balloon'),
            derived: { dates: [], entities: [], context: null },
            contentHash: contentHash('a hot-air balloon'),
            embedding: vector(6000),
          },
        },
        ctx(),
      );
      expect(await indexes.warm(cubeKey, 4, 0)).toBe(true);

      const words = indexes.lexical(cubeKey, 0) as LexicalIndex;
      const vectors = indexes.vector(cubeKey, 4, 0) as BinaryVectorIndex;
      expect(words).toBeInstanceOf(LexicalIndex);
      expect(vectors).toBeInstanceOf(BinaryVectorIndex);
      expect(words.size).toBe(200);
      expect(vectors.size).toBe(200);
      const ids = (terms: string[]) => (words.search(terms, weights, 5) ?? []).map((h) => h.id);
      expect(ids(['zeppelin'])).toEqual([added?.id]);
      expect(ids(['balloon'])).toEqual([second?.id]);
      expect(ids(['code1'])).toEqual([]);
      expect(ids(['code0'])).toEqual([]);
      expect(ids(['code2'])).toHaveLength(1);
      // Every live slot: the added item is in, the deleted one out.
      const live = new Set(vectors.nearest(vector(1), 1_000).map((key) => vectors.idOf(key)));
      expect(live.size).toBe(200);
      expect(live.has(added?.id)).toBe(true);
      expect(live.has(first?.id)).toBe(false);
      expect(live.has(second?.id)).toBe(true);
    } finally {
      db.close();
      await writer.close();
    }
  });

  it('catches up with thousands of writes made during the build, and installs', async () => {
    const file = await filledFile(200);
    const writer = SqliteStore.open(file);
    const db = new Database(file);
    const indexes = new CubeIndexes(db, 100, 0, 0);
    try {
      expect(indexes.lexical(1, 0)).toBeNull();
      for (let i = 0; i < 20; i++) await nextTurn();
      // More changes than one catch-up batch (2,000): replayed over several turns, then installed.
      const added = await writer.insertItems(
        scope,
        Array.from({ length: 2_500 }, (_, i) => rec(`later turn late${i} about the harbour`)),
        ctx(),
      );
      expect(await indexes.warm(1, 4, 0)).toBe(true);
      const words = indexes.lexical(1, 0) as LexicalIndex;
      expect(words).toBeInstanceOf(LexicalIndex);
      expect(words.size).toBe(2_700);
      expect((words.search(['late2499'], weights, 5) ?? []).map((h) => h.id)).toEqual([added[2_499]?.id]);
      expect((words.search(['late7'], weights, 5) ?? []).map((h) => h.id)).toEqual([added[7]?.id]);
    } finally {
      db.close();
      await writer.close();
    }
  });

  it('starts over for a cube dropped mid-build, and installs what the cube holds now', async () => {
    const file = await filledFile(150);
    const db = new Database(file);
    const indexes = new CubeIndexes(db, 100, 0, 0);
    try {
      expect(indexes.lexical(1, 0)).toBeNull();
      for (let i = 0; i < 10; i++) await nextTurn();
      indexes.drop(1);
      expect(await indexes.warm(1, 4, 0)).toBe(true);
      const words = indexes.lexical(1, 0) as LexicalIndex;
      expect(words.size).toBe(150);
      expect(words.search(['code149'], weights, 5)).toHaveLength(1);
    } finally {
      db.close();
    }
  });

  it('warm says false when writes keep outrunning the build', async () => {
    const file = await filledFile(150);
    const db = new Database(file);
    const writer = new Database(file);
    const indexes = new CubeIndexes(db, 100, 0, 0);
    try {
      let settled: boolean | undefined;
      const warmed = indexes.warm(1, 4, 0).then((ready) => {
        settled = ready;
      });
      // A whole-cube change (a re-embedding, say) every turn: each build's replay gives it up.
      while (settled === undefined) {
        logIndexChange(writer, 1, null);
        await nextTurn();
      }
      await warmed;
      expect(settled).toBe(false);
      expect(indexes.lexical(1, 0)).toBeNull();
    } finally {
      db.close();
      writer.close();
    }
  });

  it('gives up quietly when the connection closes mid-build', async () => {
    const file = await filledFile(150);
    const db = new Database(file);
    const indexes = new CubeIndexes(db, 100, 0, 0);
    expect(indexes.lexical(1, 0)).toBeNull();
    for (let i = 0; i < 10; i++) await nextTurn();
    db.close();
    // The build's next slice finds the connection closed. Vitest fails the run on an unhandled
    // rejection, so this test fails if the build's failure escapes.
    for (let i = 0; i < 10; i++) await nextTurn();
  });
});
