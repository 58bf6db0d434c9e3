import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { classBits, classMasks } from '../../src/store/sqlite/item-classes.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { BinaryVectorIndex } from '../../src/store/sqlite/vector-index.js';
import type { NewItemRecord } from '../../src/store/store.js';
import { rec } from './conformance.js';

const DIMENSIONS = 64;
const EPISODE = classBits(null, 'episode');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-vindex-'));
let files = 0;
const freshFile = (): string => path.join(tmp, `vindex-${++files}.db`);
const ctx = () => ({ actor: 'test', now: Date.now() });
const scope = { tenant: 'default', cube: 'main' };
const embedder = { id: 'test-emb', dimensions: DIMENSIONS };

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Deterministic vectors: a few hundred cluster centres, each item a noisy copy of one (like real near-duplicates). */
function generator(seed: number): (center: number) => Float32Array {
  let state = seed;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const gaussian = () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  const centres = Array.from({ length: 300 }, () => Float32Array.from({ length: DIMENSIONS }, gaussian));
  return (center) => {
    const base = centres[center % centres.length] as Float32Array;
    const v = base.map((x) => x + 0.6 * gaussian());
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
}

async function filledStore(
  file: string,
  vectors: Float32Array[],
  indexMinItems: number,
): Promise<SqliteStore> {
  const store = SqliteStore.open(file, { indexMinItems });
  await store.createCube(scope.tenant, scope.cube, embedder, ctx());
  await store.insertItems(
    scope,
    vectors.map((embedding, i) => rec(`item ${i}`, { embedding, sessionId: `s${i % 7}` })),
    ctx(),
  );
  return store;
}

/** The records in a fresh cube, read through the index (`indexed`) and by the exact scan (`exact`). */
async function indexedAndExact(
  records: NewItemRecord[],
): Promise<{ indexed: SqliteStore; exact: SqliteStore }> {
  const file = freshFile();
  const indexed = SqliteStore.open(file, { indexMinItems: 0 });
  await indexed.createCube(scope.tenant, scope.cube, embedder, ctx());
  await indexed.insertItems(scope, records, ctx());
  const exact = SqliteStore.open(file, { indexMinItems: Number.POSITIVE_INFINITY, smallLexicalBytes: 0 });
  return { indexed, exact };
}

/**
 * Two connections to an indexed 300-item cube: the first has searched (its index is built), then
 * the second adds an exact twin of the query.
 */
async function twinAddedElsewhere(seed: number) {
  const vector = generator(seed);
  const file = freshFile();
  const first = await filledStore(
    file,
    Array.from({ length: 300 }, (_, i) => vector(i)),
    0,
  );
  const second = SqliteStore.open(file, { indexMinItems: 0 });
  const query = vector(1);
  await first.searchVector(scope, query, {}, 10);
  const [twin] = await second.insertItems(scope, [rec('exact twin', { embedding: query })], ctx());
  return { file, first, second, query, vector, added: twin?.id as string };
}

describe('BinaryVectorIndex', () => {
  it('shortlists the Hamming-nearest live keys, within a time window, and forgets removed ones', () => {
    const index = new BinaryVectorIndex(DIMENSIONS);
    const vector = generator(1);
    const target = vector(0);
    for (let key = 1; key <= 3000; key++)
      index.set(key, { id: `item-${key}`, vector: vector(key), time: key, classes: EPISODE });
    index.set(5000, { id: 'item-5000', vector: target, time: 5000, classes: EPISODE });
    expect(index.size).toBe(3001);
    expect(index.nearest(target, 1)).toEqual([5000]);
    expect(index.idOf(5000)).toBe('item-5000');
    expect(index.nearest(target, 200)).toHaveLength(200);
    const inWindow = index.nearest(target, 50, { from: 1000, to: 2000 });
    expect(inWindow).toHaveLength(50);
    expect(inWindow.every((key) => key >= 1000 && key < 2000)).toBe(true);
    // Keeping fewer than the shortlist: a subset of it, best match first, so the exact twin leads.
    const kept = index.nearest(target, 25, {}, 200);
    expect(index.nearest(target, 200, {}, 25)).toHaveLength(25);
    expect(index.nearest(target, 200, {}, 25)[0]).toBe(5000);
    expect(index.nearest(target, 200, {}, 25).every((key) => index.nearest(target, 200).includes(key))).toBe(
      true,
    );
    expect(kept).toEqual(index.nearest(target, 25));
    index.set(5000, null);
    expect(index.size).toBe(3000);
    expect(index.nearest(target, 200)).not.toContain(5000);
    expect(index.nearest(target, 10_000)).toHaveLength(3000);
  });

  it('keeps only the roles and kinds a filter asks for, however far their rows lie', () => {
    const index = new BinaryVectorIndex(DIMENSIONS);
    const vector = generator(3);
    const target = vector(0);
    // Users' episodes near the query; every 500th row an assistant's; one fact, the query's twin.
    for (let key = 1; key <= 3000; key++) {
      const role = key % 500 === 0 ? 'assistant' : 'user';
      index.set(key, {
        id: `item-${key}`,
        vector: vector(key % 2 ? 0 : key),
        time: key,
        classes: classBits(role, 'episode'),
      });
    }
    index.set(9000, { id: 'fact', vector: target, time: 1, classes: classBits(null, 'fact') });
    expect(index.nearest(target, 10)).toContain(9000);
    const assistants = index.nearest(target, 100, {}, 100, classMasks(['assistant'], undefined));
    expect(assistants.sort((a, b) => a - b)).toEqual([500, 1000, 1500, 2000, 2500, 3000]);
    expect(index.nearest(target, 10, {}, 10, classMasks(undefined, ['fact']))).toEqual([9000]);
    expect(index.nearest(target, 10, {}, 10, classMasks(['user'], ['fact']))).toEqual([]);
    expect(index.nearest(target, 10, {}, 10, classMasks(['user', 'assistant'], ['episode']))).not.toContain(
      9000,
    );
    expect(
      index.nearest(target, 10, { from: 1000, to: 2000 }, 10, classMasks(['assistant'], undefined)),
    ).toEqual([1000, 1500]);
    index.set(1000, null);
    expect(index.nearest(target, 10, {}, 10, classMasks(['assistant'], undefined))).not.toContain(1000);
  });

  it('finds every key past its key lookup merging, and retires each one removed', () => {
    const index = new BinaryVectorIndex(DIMENSIONS);
    const vector = generator(2);
    // Keys in no order, as edits and a rebuild give them; 4,097 sets merge the lookup once.
    const keys = Array.from({ length: 9_000 }, (_, i) => ((i * 7_919) % 9_000) + 1);
    for (const key of keys)
      index.set(key, { id: `item-${key}`, vector: vector(key), time: key, classes: EPISODE });
    expect(keys.every((key) => index.idOf(key) === `item-${key}`)).toBe(true);
    for (const key of keys.slice(4_000, 4_200)) index.set(key, null);
    // The same key set again reuses its slot: no second live copy.
    index.set(keys[4_096] as number, { id: 'item-again', vector: vector(1), time: 1, classes: EPISODE });
    expect(index.size).toBe(9_000 - 200 + 1);
    expect(index.nearest(vector(1), 10_000)).toHaveLength(8_801);
  });
});

describe('SqliteStore vector search through the in-process index', () => {
  it('finds at least 98% of the exact top 10', async () => {
    const vector = generator(2);
    const file = freshFile();
    const approximate = await filledStore(
      file,
      Array.from({ length: 3000 }, (_, i) => vector(i)),
      0,
    );
    const exact = SqliteStore.open(file, { indexMinItems: Number.POSITIVE_INFINITY, smallLexicalBytes: 0 });
    try {
      let found = 0;
      for (let q = 0; q < 50; q++) {
        const query = vector(q * 7);
        const truth = new Set((await exact.searchVector(scope, query, {}, 10)).map((h) => h.id));
        const hits = await approximate.searchVector(scope, query, {}, 10);
        found += hits.filter((h) => truth.has(h.id)).length;
      }
      expect(found / 500).toBeGreaterThanOrEqual(0.98);
    } finally {
      await approximate.close();
      await exact.close();
    }
  });

  it('orders near-duplicates exactly: the same top 10, with the same scores, as the exact scan', async () => {
    // 150 centres with 10 close copies each (cosine ~0.997 to one another): a query's nearest
    // copies differ in cosine by ~1e-3, the precision an int8 rescoring would have, so only the
    // exact rescoring from the stored floats orders them as the exact scan does.
    const noisy = generator(8);
    const centres = Array.from({ length: 150 }, (_, c) => noisy(c));
    const jitter = generator(9);
    const copies = (i: number) => {
      const noise = jitter(i);
      const v = (centres[i % 150] as Float32Array).map((x, d) => x + 0.05 * (noise[d] as number));
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    const file = freshFile();
    const indexed = await filledStore(
      file,
      Array.from({ length: 1500 }, (_, i) => copies(i)),
      0,
    );
    const exact = SqliteStore.open(file, { indexMinItems: Number.POSITIVE_INFINITY, smallLexicalBytes: 0 });
    try {
      for (let q = 0; q < 20; q++) {
        const query = copies(1500 + q * 7);
        const truth = await exact.searchVector(scope, query, {}, 10);
        expect(await indexed.searchVector(scope, query, {}, 10)).toEqual(truth);
      }
    } finally {
      await indexed.close();
      await exact.close();
    }
  });

  it('searches within a time window like the exact scan, and follows event-time changes', async () => {
    const vector = generator(5);
    const day = 86_400_000;
    const start = Date.UTC(2024, 0, 1);
    const { indexed, exact } = await indexedAndExact(
      Array.from({ length: 2000 }, (_, i) =>
        rec(`item ${i}`, { embedding: vector(i), validFrom: start + (i % 100) * day }),
      ),
    );
    const window = { from: start + 10 * day, to: start + 20 * day };
    try {
      let found = 0;
      for (let q = 0; q < 20; q++) {
        const query = vector(q * 13);
        const truth = new Set((await exact.searchVector(scope, query, window, 10)).map((h) => h.id));
        const hits = await indexed.searchVector(scope, query, window, 10);
        const items = await indexed.getItems(
          scope,
          hits.map((h) => h.id),
        );
        expect(items.every((i) => Date.parse(i.validFrom as string) >= window.from)).toBe(true);
        expect(items.every((i) => Date.parse(i.validFrom as string) < window.to)).toBe(true);
        found += hits.filter((h) => truth.has(h.id)).length;
      }
      expect(found / 200).toBeGreaterThanOrEqual(0.98);

      const query = vector(7);
      const [outside] = await indexed.searchVector(scope, query, { from: start + 50 * day }, 1);
      const ids = async () => (await indexed.searchVector(scope, query, window, 10)).map((h) => h.id);
      expect(await ids()).not.toContain(outside?.id);
      // Another connection moves the item into the window: the index follows at the next search.
      await exact.updateItem(scope, outside?.id as string, { validFrom: start + 15 * day }, ctx());
      expect(await ids()).toContain(outside?.id);
    } finally {
      await indexed.close();
      await exact.close();
    }
  });

  it('never returns deleted items and keeps narrowing filters exact', async () => {
    const vector = generator(3);
    const store = await filledStore(
      freshFile(),
      Array.from({ length: 500 }, (_, i) => vector(i)),
      0,
    );
    try {
      const query = vector(11);
      const before = await store.searchVector(scope, query, {}, 20);
      for (const hit of before.slice(0, 5)) await store.setStatus(scope, hit.id, 'deleted', 'delete', ctx());
      const after = await store.searchVector(scope, query, {}, 20);
      const deleted = new Set(before.slice(0, 5).map((h) => h.id));
      expect(after.some((h) => deleted.has(h.id))).toBe(false);
      expect(after.map((h) => h.id).slice(0, 15)).toEqual(before.map((h) => h.id).slice(5, 20));

      const inSession = await store.searchVector(scope, query, { sessionIds: ['s3'] }, 10);
      const items = await store.getItems(
        scope,
        inSession.map((h) => h.id),
      );
      expect(items.every((i) => i.sessionId === 's3')).toBe(true);
      const deletedOnly = await store.searchVector(scope, query, { statuses: ['deleted'] }, 10);
      expect(new Set(deletedOnly.map((h) => h.id))).toEqual(deleted);
    } finally {
      await store.close();
    }
  });

  it('searches active and other statuses together: the index for the active rows, SQL for the others', async () => {
    const vector = generator(12);
    const DAY = 86_400_000;
    const start = Date.UTC(2024, 0, 1);
    const { indexed, exact } = await indexedAndExact(
      Array.from({ length: 3000 }, (_, i) =>
        rec(`item ${i}`, {
          embedding: vector(i),
          role: i % 3 ? 'user' : 'assistant',
          userId: i % 40 ? null : 'ann',
          validFrom: start + (i % 30) * DAY,
        }),
      ),
    );
    const nearest = vi.spyOn(BinaryVectorIndex.prototype, 'nearest');
    try {
      const query = vector(17);
      // Archive three of the query's ten nearest rows, and rows far from it.
      const top = await exact.searchVector(scope, query, {}, 10);
      const archived = [2, 5, 9].map((r) => top[r]?.id as string);
      const far = (await exact.searchVector(scope, query, {}, 3000)).slice(-20).map((h) => h.id);
      for (const id of [...archived, ...far]) await indexed.setStatus(scope, id, 'archived', 'update', ctx());
      const both = { statuses: ['active' as const, 'archived' as const] };

      nearest.mockClear();
      const hits = await indexed.searchVector(scope, query, both, 10);
      expect(nearest).toHaveBeenCalled();
      expect(hits.map((h) => h.id)).toEqual(top.map((h) => h.id));
      expect(hits).toEqual(await exact.searchVector(scope, query, both, 10));
      // Under a role too; and the archived rows alone are still the archived rows.
      const assistant = { ...both, roles: ['assistant' as const] };
      expect(await indexed.searchVector(scope, query, assistant, 10)).toEqual(
        await exact.searchVector(scope, query, assistant, 10),
      );
      const archivedOnly = await indexed.searchVector(scope, query, { statuses: ['archived'] }, 30);
      expect(new Set(archivedOnly.map((h) => h.id))).toEqual(new Set([...archived, ...far]));
      // Restored, a row is found once, as an active row.
      await indexed.setStatus(scope, archived[0] as string, 'active', 'update', ctx());
      const again = await indexed.searchVector(scope, query, both, 10);
      expect(again.map((h) => h.id)).toEqual(top.map((h) => h.id));
      // Within a time window that leaves out the query's own cluster (day 17), with one of the
      // window's nearest rows archived: every hit in it, and the exact scan's, but for the
      // index's usual approximation.
      const inWindow = { ...both, from: start, to: start + 10 * DAY };
      const nearInWindow = await exact.searchVector(scope, query, inWindow, 10);
      await indexed.setStatus(scope, nearInWindow[1]?.id as string, 'archived', 'update', ctx());
      const windowed = await indexed.searchVector(scope, query, inWindow, 10);
      const truth = new Set(nearInWindow.map((h) => h.id));
      expect(windowed.filter((h) => truth.has(h.id)).length).toBeGreaterThanOrEqual(9);
      expect(windowed.map((h) => h.id)).toContain(nearInWindow[1]?.id);
      const { items } = await exact.listItems(
        scope,
        { statuses: ['active', 'archived'] },
        { limit: 3100, order: 'asc' },
      );
      const dayOf = new Map(items.map((i) => [i.id, (Date.parse(i.validFrom as string) - start) / DAY]));
      expect(windowed.every((h) => (dayOf.get(h.id) as number) < 10)).toBe(true);
      const owned = { ...both, userId: 'ann' };
      expect(await indexed.searchVector(scope, query, owned, 10)).toEqual(
        await exact.searchVector(scope, query, owned, 10),
      );
      // An archived row and a later active twin score the same: the earlier first, as SQL ranks them.
      const [twin] = await indexed.insertItems(scope, [rec('twin', { embedding: query })], ctx());
      const [original] = await indexed.insertItems(scope, [rec('original', { embedding: query })], ctx());
      await indexed.setStatus(scope, twin?.id as string, 'archived', 'update', ctx());
      const tied = await indexed.searchVector(scope, query, both, 2);
      expect(tied.map((h) => h.id)).toEqual([twin?.id, original?.id]);
      expect(tied).toEqual(await exact.searchVector(scope, query, both, 2));
    } finally {
      nearest.mockRestore();
      await indexed.close();
      await exact.close();
    }
  });

  it('searches under a role, kind or user filter from the index, like the exact scan', async () => {
    const vector = generator(10);
    const day = 86_400_000;
    const start = Date.UTC(2024, 0, 1);
    const { indexed, exact } = await indexedAndExact(
      Array.from({ length: 3000 }, (_, i) =>
        rec(`item ${i}`, {
          embedding: vector(i),
          role: i % 3 ? 'user' : 'assistant',
          userId: i === 1 ? 'rare-user' : null,
          sessionId: `s${i % 50}`,
          validFrom: start + (i % 100) * day,
        }),
      ),
    );
    const nearest = vi.spyOn(BinaryVectorIndex.prototype, 'nearest');
    try {
      const { items } = await exact.listItems(scope, {}, { limit: 3000, order: 'asc' });
      const roleOf = new Map(items.map((i) => [i.id, i.role]));
      let found = 0;
      for (let q = 0; q < 20; q++) {
        const query = vector(q * 11);
        const filter = { roles: ['assistant' as const] };
        const truth = new Set((await exact.searchVector(scope, query, filter, 10)).map((h) => h.id));
        const hits = await indexed.searchVector(scope, query, filter, 10);
        expect(hits).toHaveLength(10);
        expect(hits.every((h) => roleOf.get(h.id) === 'assistant')).toBe(true);
        found += hits.filter((h) => truth.has(h.id)).length;
      }
      // A third of the rows kept: the true ten reach past the query's cluster, where 64-bit codes
      // shortlist less surely than the 512 bits of real vectors (the 200K bench cube: 1.0).
      expect(found / 200).toBeGreaterThanOrEqual(0.95);
      expect(nearest).toHaveBeenCalled();
      // A filter every row passes ranks as the unfiltered search does.
      const query = vector(5);
      expect(await indexed.searchVector(scope, query, { kinds: ['episode'] }, 10)).toEqual(
        await indexed.searchVector(scope, query, {}, 10),
      );
      // A role within a time window: from the index, every hit in both.
      const window = { roles: ['assistant' as const], from: start + 10 * day, to: start + 40 * day };
      const inWindow = await indexed.searchVector(scope, query, window, 10);
      const truth = new Set((await exact.searchVector(scope, query, window, 10)).map((h) => h.id));
      expect(inWindow.filter((h) => truth.has(h.id)).length).toBeGreaterThanOrEqual(9);
      const windowed = new Map(items.map((i) => [i.id, Date.parse(i.validFrom as string)]));
      for (const hit of inWindow) {
        expect(roleOf.get(hit.id)).toBe('assistant');
        expect(windowed.get(hit.id)).toBeGreaterThanOrEqual(window.from);
        expect(windowed.get(hit.id)).toBeLessThan(window.to);
      }
      // One row of 3,000, sessions: SQL scores the filter's rows, exactly.
      for (const filter of [{ userId: 'rare-user' }, { roles: ['assistant' as const], sessionIds: ['s3'] }]) {
        expect(await indexed.searchVector(scope, query, filter, 20)).toEqual(
          await exact.searchVector(scope, query, filter, 20),
        );
      }
    } finally {
      nearest.mockRestore();
      await indexed.close();
      await exact.close();
    }
  });

  it("finds a rare kind's or role's rows in one read of the index, as the exact scan does", async () => {
    const vector = generator(12);
    // Five facts among 3,000 episodes, and no tool turns at all.
    const { indexed, exact } = await indexedAndExact(
      Array.from({ length: 3000 }, (_, i) =>
        rec(`item ${i}`, { embedding: vector(i), kind: i % 600 === 5 ? 'fact' : 'episode' }),
      ),
    );
    const nearest = vi.spyOn(BinaryVectorIndex.prototype, 'nearest');
    try {
      const query = vector(1);
      const facts = await indexed.searchVector(scope, query, { kinds: ['fact'] }, 3);
      expect(facts.map((h) => h.id)).toEqual(
        (await exact.searchVector(scope, query, { kinds: ['fact'] }, 3)).map((h) => h.id),
      );
      expect(facts).toHaveLength(3);
      // The index shortlisted the five facts and nothing else, in one read.
      expect(nearest).toHaveBeenCalledTimes(1);
      expect(nearest.mock.results[0]?.value).toHaveLength(5);
      expect(await indexed.searchVector(scope, query, { roles: ['tool'] }, 3)).toEqual([]);
      expect(nearest.mock.results[1]?.value).toEqual([]);
    } finally {
      nearest.mockRestore();
      await indexed.close();
      await exact.close();
    }
  });

  it('rebuilds after a refresh that failed half-way instead of serving a stale index', async () => {
    const { first, second, query, added } = await twinAddedElsewhere(6);
    try {
      const failing = vi.spyOn(BinaryVectorIndex.prototype, 'set').mockImplementationOnce(() => {
        throw new Error('refresh failed');
      });
      await expect(first.searchVector(scope, query, {}, 10)).rejects.toThrow('refresh failed');
      failing.mockRestore();
      expect((await first.searchVector(scope, query, {}, 10))[0]?.id).toBe(added);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("sees another connection's writes at once, and rebuilds after reopening", async () => {
    const { file, first, second, query, added, vector } = await twinAddedElsewhere(4);
    try {
      const withTwin = await first.searchVector(scope, query, {}, 10);
      expect(withTwin[0]?.id).toBe(added);

      await second.setStatus(scope, added, 'archived', 'update', ctx());
      expect((await first.searchVector(scope, query, {}, 10)).map((h) => h.id)).not.toContain(added);

      await second.deleteCube(scope.tenant, scope.cube, ctx());
      await second.createCube(scope.tenant, scope.cube, embedder, ctx());
      await second.insertItems(scope, [rec('alone', { embedding: vector(2) })], ctx());
      const fresh = await first.searchVector(scope, query, {}, 10);
      expect(fresh).toHaveLength(1);

      await first.close();
      const reopened = SqliteStore.open(file, { indexMinItems: 0 });
      expect(await reopened.searchVector(scope, query, {}, 10)).toEqual(fresh);
      await reopened.close();
    } finally {
      await first.close();
      await second.close();
    }
  });
});
