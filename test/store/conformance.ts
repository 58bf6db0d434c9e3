/**
 * The Store conformance suite: every Store implementation (SQLite today, PostgreSQL later) must
 * pass it. It is written only against the `Store` interface, with small hand-made 4-dimensional
 * unit vectors, so the expected ranking of every vector search is known exactly.
 *
 * Usage: `describeStoreConformance('sqlite (memory)', async () => SqliteStore.open(':memory:'))`.
 * `openStore` must return a fresh, empty store on each call; each test also uses its own tenant,
 * so an implementation whose stores share one database still passes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentHash, newItemId } from '../../src/core/ids.js';
import {
  type AuditRecord,
  type MemoryItem,
  type MemoryVersion,
  NO_DERIVED_KEYS,
} from '../../src/core/types.js';
import {
  ANY_TIME,
  type CubeScope,
  type IndexFields,
  type ItemBundle,
  type LexicalWeights,
  type NewItemRecord,
  type ScoredId,
  type Store,
  type StoreItemFilter,
  type VocabularyMark,
  type WriteContext,
} from '../../src/store/store.js';

const T0 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;
const EMB = { id: 'test-emb', dimensions: 4 } as const;
const iso = (ms: number): string => new Date(ms).toISOString();

function unit(...xs: number[]): Float32Array {
  const norm = Math.hypot(...xs);
  return Float32Array.from(xs.map((x) => x / norm));
}
const E1 = unit(1, 0, 0, 0);
const E2 = unit(0, 1, 0, 0);
const E3 = unit(0, 0, 1, 0);
const E4 = unit(0, 0, 0, 1);
const E12 = unit(1, 1, 0, 0);

/** Index columns with only the text column filled. */
export const ix = (text: string): IndexFields => ({ text, context: '', keys: '' });
/** Equal column weights. */
export const W: LexicalWeights = { text: 1, context: 1, keys: 1 };

/** A fully formed record; every field can be overridden. */
export function rec(content: string, over: Partial<NewItemRecord> = {}): NewItemRecord {
  return {
    id: newItemId(),
    kind: 'episode',
    content,
    index: ix(content),
    derived: NO_DERIVED_KEYS,
    role: 'user',
    speaker: null,
    userId: null,
    agentId: null,
    sessionId: 's1',
    runId: null,
    validFrom: null,
    validTo: null,
    dedupeWindow: ANY_TIME,
    sourceIds: [],
    tags: [],
    metadata: {},
    contentHash: contentHash(content),
    embedding: null,
    ...over,
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

const idsOf = (xs: Array<{ id: string }>): string[] => xs.map((x) => x.id);
const sorted = (xs: string[]): string[] => [...xs].sort();

const ASC = { limit: 100, order: 'asc' as const };

export function describeStoreConformance(name: string, openStore: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    let extra: Store[];
    let tenant: string;
    let clock: number;
    let seq = 0;

    /** A write context whose clock moves one second per write. */
    const ctx = (actor = 'tester'): WriteContext => {
      clock += 1000;
      return { actor, now: clock };
    };

    async function cube(
      cubeName = 'main',
      embedder: { id: string; dimensions: number } = EMB,
    ): Promise<CubeScope> {
      await store.createCube(tenant, cubeName, embedder, ctx());
      return { tenant, cube: cubeName };
    }

    async function insert(
      scope: CubeScope,
      records: NewItemRecord[],
      c: WriteContext = ctx(),
    ): Promise<string[]> {
      const outcomes = await store.insertItems(scope, records, c);
      return outcomes.map((o) => o.id);
    }

    async function listAll(scope: CubeScope, filter: StoreItemFilter = {}): Promise<string[]> {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listItems(scope, filter, {
          limit: 50,
          order: 'asc',
          ...(cursor ? { cursor } : {}),
        });
        ids.push(...idsOf(page.items));
        cursor = page.nextCursor;
      } while (cursor);
      return ids;
    }

    async function allAudit(s: Store, scope: CubeScope): Promise<AuditRecord[]> {
      return s.listAudit(scope, { limit: 10_000 });
    }

    beforeEach(async () => {
      store = await openStore();
      extra = [];
      seq += 1;
      tenant = `tenant-${seq}-${Math.random().toString(36).slice(2, 8)}`;
      clock = T0;
    });

    afterEach(async () => {
      for (const s of extra) await s.close();
      await store.close();
    });

    describe('cubes', () => {
      it('creates, gets and lists cubes', async () => {
        const created = await store.createCube(tenant, 'alpha', EMB, { actor: 'creator', now: T0 + 5000 });
        expect(created).toEqual({
          name: 'alpha',
          tenant,
          embedderId: 'test-emb',
          dimensions: 4,
          createdAt: iso(T0 + 5000),
        });
        expect(await store.getCube(tenant, 'alpha')).toEqual(created);
        expect(await store.getCube(tenant, 'missing')).toBeNull();

        await store.createCube(tenant, 'beta', { id: 'other-emb', dimensions: 0 }, ctx());
        const listed = await store.listCubes(tenant);
        expect(sorted(listed.map((c) => c.name))).toEqual(['alpha', 'beta']);
        expect(listed.find((c) => c.name === 'beta')).toMatchObject({
          embedderId: 'other-emb',
          dimensions: 0,
          tenant,
        });
        expect(await store.listCubes(`${tenant}-nobody`)).toEqual([]);
      });

      it('refuses to create a cube twice with a conflict, leaving the first intact', async () => {
        const first = await store.createCube(tenant, 'alpha', EMB, ctx());
        await expect(
          store.createCube(tenant, 'alpha', { id: 'x', dimensions: 8 }, ctx()),
        ).rejects.toMatchObject({
          code: 'conflict',
        });
        expect(await store.getCube(tenant, 'alpha')).toEqual(first);
        expect(await store.listCubes(tenant)).toHaveLength(1);
      });

      it('lets two tenants own cubes of the same name', async () => {
        const other = `${tenant}-b`;
        await store.createCube(tenant, 'notes', EMB, ctx());
        const theirs = await store.createCube(other, 'notes', { id: 'emb-b', dimensions: 4 }, ctx());
        expect(theirs.tenant).toBe(other);
        expect((await store.getCube(tenant, 'notes'))?.embedderId).toBe('test-emb');
        expect((await store.getCube(other, 'notes'))?.embedderId).toBe('emb-b');
      });
    });

    describe('tenant isolation', () => {
      it("hides tenant A's cube from tenant B: every operation on it is not_found", async () => {
        const a = await cube('notes');
        const [aId] = await insert(a, [rec('private walrus memo', { embedding: E1 })]);
        if (!aId) throw new Error('no id');
        const auditBefore = (await allAudit(store, a)).length;

        const b = `${tenant}-b`;
        const bScope: CubeScope = { tenant: b, cube: 'notes' };
        expect(await store.getCube(b, 'notes')).toBeNull();
        expect(await store.listCubes(b)).toEqual([]);
        expect((await store.listCubes(tenant)).map((c) => c.name)).toEqual(['notes']);

        const notFound = { code: 'not_found' };
        await expect(store.insertItems(bScope, [rec('intruder')], ctx())).rejects.toMatchObject(notFound);
        await expect(store.getItems(bScope, [aId])).rejects.toMatchObject(notFound);
        await expect(store.listItems(bScope, {}, ASC)).rejects.toMatchObject(notFound);
        await expect(store.updateItem(bScope, aId, { tags: ['x'] }, ctx())).rejects.toMatchObject(notFound);
        await expect(store.setStatus(bScope, aId, 'deleted', 'delete', ctx())).rejects.toMatchObject(
          notFound,
        );
        await expect(store.history(bScope, aId)).rejects.toMatchObject(notFound);
        await expect(store.searchLexical(bScope, ['walrus'], {}, 10, W)).rejects.toMatchObject(notFound);
        await expect(store.searchVector(bScope, E1, {}, 10)).rejects.toMatchObject(notFound);
        await expect(store.stats(bScope)).rejects.toMatchObject(notFound);
        await expect(store.listAudit(bScope, { limit: 10 })).rejects.toMatchObject(notFound);
        await expect(collect(store.exportItems(bScope))).rejects.toMatchObject(notFound);
        await expect(collect(store.indexTexts(bScope))).rejects.toMatchObject(notFound);
        await expect(store.replaceVectors(bScope, EMB, new Map(), ctx())).rejects.toMatchObject(notFound);
        await expect(store.importItems(bScope, [], [], ctx())).rejects.toMatchObject(notFound);

        // Nothing of A changed.
        const [item] = await store.getItems(a, [aId]);
        expect(item).toMatchObject({ version: 1, status: 'active', content: 'private walrus memo' });
        expect(await allAudit(store, a)).toHaveLength(auditBefore);
        expect(await store.getCube(b, 'notes')).toBeNull();
      });

      it("does not let tenant B reach A's items through B's own cube of the same name", async () => {
        const a = await cube('notes');
        const [aId] = await insert(a, [rec('private walrus memo', { embedding: E1 })]);
        if (!aId) throw new Error('no id');
        const b: CubeScope = { tenant: `${tenant}-b`, cube: 'notes' };
        await store.createCube(b.tenant, 'notes', EMB, ctx());

        expect(await store.getItems(b, [aId])).toEqual([]);
        expect(await listAll(b)).toEqual([]);
        await expect(store.updateItem(b, aId, { tags: ['x'] }, ctx())).rejects.toMatchObject({
          code: 'not_found',
        });
        await expect(store.setStatus(b, aId, 'deleted', 'delete', ctx())).rejects.toMatchObject({
          code: 'not_found',
        });
        await expect(store.history(b, aId)).rejects.toMatchObject({ code: 'not_found' });
        expect(await store.searchLexical(b, ['walrus', 'private'], {}, 10, W)).toEqual([]);
        expect(await store.searchVector(b, E1, {}, 10)).toEqual([]);
        expect(await store.searchVector(b, E1, { sessionIds: ['s1'] }, 10)).toEqual([]);
        expect(await store.listAudit(b, { itemId: aId, limit: 10 })).toEqual([]);

        // Dedupe is per cube: the same content in B's cube is a new item.
        const [outcome] = await store.insertItems(b, [rec('private walrus memo')], ctx());
        expect(outcome?.created).toBe(true);
        expect(outcome?.id).not.toBe(aId);
        expect((await store.stats(b)).items).toBe(1);
        expect((await store.stats(a)).items).toBe(1);
        expect((await store.getItems(a, [aId]))[0]?.version).toBe(1);
      });
    });

    describe('cube isolation', () => {
      it("keeps one cube's items out of another cube of the same tenant", async () => {
        const x = await cube('x');
        const y = await cube('y');
        const [xId] = await insert(x, [rec('zebra crossing in cube x', { embedding: E1 })]);
        const [yId] = await insert(y, [rec('giraffe in cube y', { embedding: E2 })]);
        if (!xId || !yId) throw new Error('no id');

        expect(await store.getItems(y, [xId, yId])).toEqual([
          expect.objectContaining({ id: yId, cube: 'y' }),
        ]);
        expect(await listAll(y)).toEqual([yId]);
        expect(await store.searchLexical(y, ['zebra'], {}, 10, W)).toEqual([]);
        expect(idsOf(await store.searchLexical(y, ['zebra', 'giraffe', 'cube'], {}, 10, W))).toEqual([yId]);
        expect(idsOf(await store.searchVector(y, E1, {}, 10))).toEqual([yId]);
        expect(idsOf(await store.searchVector(y, E1, { sessionIds: ['s1'] }, 10))).toEqual([yId]);
        await expect(store.updateItem(y, xId, { tags: ['t'] }, ctx())).rejects.toMatchObject({
          code: 'not_found',
        });
        await expect(store.setStatus(y, xId, 'deleted', 'delete', ctx())).rejects.toMatchObject({
          code: 'not_found',
        });
        await expect(store.history(y, xId)).rejects.toMatchObject({ code: 'not_found' });
        expect(await store.listAudit(y, { itemId: xId, limit: 10 })).toEqual([]);
        expect((await collect(store.exportItems(y))).map((bundle) => bundle.item.id)).toEqual([yId]);
        expect((await collect(store.indexTexts(y))).flat().map((t) => t.id)).toEqual([yId]);
        expect((await store.stats(y)).items).toBe(1);
        expect((await store.stats(y)).vectors).toBe(1);

        // Dedupe and turn numbering are per cube too.
        const [dup] = await store.insertItems(y, [rec('zebra crossing in cube x')], ctx());
        expect(dup?.created).toBe(true);
        const [dupItem] = await store.getItems(y, [dup?.id ?? '']);
        expect(dupItem?.turnIndex).toBe(1);
      });
    });

    describe('insertItems', () => {
      it('creates items and returns their ids with created: true', async () => {
        const scope = await cube();
        const records = [rec('one'), rec('two'), rec('three')];
        const outcomes = await store.insertItems(scope, records, ctx());
        expect(outcomes).toEqual(records.map((r) => ({ id: r.id, created: true })));
        expect(await listAll(scope)).toEqual(records.map((r) => r.id));
      });

      it("refuses a vector of another length than the cube's, naming the field, and writes nothing", async () => {
        const scope = await cube();
        const wrong = rec('three numbers', { embedding: Float32Array.from([1, 0, 0]) });
        await expect(
          store.insertItems(scope, [rec('fine', { embedding: E1 }), wrong], ctx()),
        ).rejects.toMatchObject({
          code: 'invalid_input',
          field: 'embedding',
        });
        expect(await listAll(scope)).toEqual([]);
        expect((await store.stats(scope)).vectors).toBe(0);
      });

      it('dedupes the same content in the same session, role, speaker and kind while active', async () => {
        const scope = await cube();
        const first = rec('hello world');
        expect(await store.insertItems(scope, [first], ctx())).toEqual([{ id: first.id, created: true }]);

        // Same hash (whitespace-insensitive), same session/role/speaker/kind: the first id comes back.
        expect(await store.insertItems(scope, [rec('  hello   world ')], ctx())).toEqual([
          { id: first.id, created: false },
        ]);

        // Any differing key makes a new item.
        const variants = [
          rec('hello world', { sessionId: 's2' }),
          rec('hello world', { role: 'assistant' }),
          rec('hello world', { speaker: 'alice' }),
          rec('hello world', { kind: 'fact' }),
          rec('hello world', { sessionId: null }),
        ];
        for (const v of variants) {
          expect(await store.insertItems(scope, [v], ctx())).toEqual([{ id: v.id, created: true }]);
        }
        // Null session matches null session.
        expect(await store.insertItems(scope, [rec('hello world', { sessionId: null })], ctx())).toEqual([
          { id: variants[4]?.id, created: false },
        ]);

        const stats = await store.stats(scope);
        expect(stats.items).toBe(6);
        expect(stats.versions).toBe(6);
        expect(await store.listAudit(scope, { limit: 100 })).toHaveLength(1 + 6);
      });

      it('dedupes within one batch and on a repeated batch', async () => {
        const scope = await cube();
        const a = rec('alpha');
        const aAgain = rec('alpha');
        const b = rec('beta');
        expect(await store.insertItems(scope, [a, aAgain, b], ctx())).toEqual([
          { id: a.id, created: true },
          { id: a.id, created: false },
          { id: b.id, created: true },
        ]);
        expect(await store.insertItems(scope, [rec('alpha'), rec('beta')], ctx())).toEqual([
          { id: a.id, created: false },
          { id: b.id, created: false },
        ]);
        expect(await store.getItems(scope, [aAgain.id])).toEqual([]);
        expect((await store.stats(scope)).items).toBe(2);
      });

      it('does not dedupe against a deleted item', async () => {
        const scope = await cube();
        const first = rec('ephemeral');
        await insert(scope, [first]);
        await store.setStatus(scope, first.id, 'deleted', 'delete', ctx());
        const second = rec('ephemeral');
        expect(await store.insertItems(scope, [second], ctx())).toEqual([{ id: second.id, created: true }]);
        expect(await store.insertItems(scope, [rec('ephemeral')], ctx())).toEqual([
          { id: second.id, created: false },
        ]);
      });

      it('does not dedupe against an item marked no longer true: saying it again is new evidence', async () => {
        const scope = await cube();
        const ended = rec('I live in Berlin.');
        await insert(scope, [ended]);
        // Ended before the writes' clock reads now.
        await store.updateItem(scope, ended.id, { validTo: T0 }, ctx());
        const again = rec('I live in Berlin.');
        expect(await store.insertItems(scope, [again], ctx())).toEqual([{ id: again.id, created: true }]);
        expect(await store.insertItems(scope, [rec('I live in Berlin.')], ctx())).toEqual([
          { id: again.id, created: false },
        ]);
        // An end still ahead leaves it true now: a restatement is the same memory.
        await store.updateItem(scope, again.id, { validTo: clock + 86_400_000 }, ctx());
        expect(await store.insertItems(scope, [rec('I live in Berlin.')], ctx())).toEqual([
          { id: again.id, created: false },
        ]);
      });

      it('dedupes only against an event time inside the record window, the latest of several', async () => {
        const scope = await cube();
        const at = (ms: number) => ({ validFrom: ms, dedupeWindow: { from: ms, to: ms } });
        const monday = rec('Went running.', at(T0));
        await insert(scope, [monday]);
        // Sent again with its time: the same memory.
        expect(await store.insertItems(scope, [rec('Went running.', at(T0))], ctx())).toEqual([
          { id: monday.id, created: false },
        ]);
        // Said again on another day: new evidence.
        const tuesday = rec('Went running.', at(T0 + DAY));
        expect(await store.insertItems(scope, [tuesday], ctx())).toEqual([{ id: tuesday.id, created: true }]);
        // A window holding both, or no window, finds the later one.
        const both = { validFrom: T0 + 2 * DAY, dedupeWindow: { from: T0, to: T0 + 2 * DAY } };
        expect(await store.insertItems(scope, [rec('Went running.', both)], ctx())).toEqual([
          { id: tuesday.id, created: false },
        ]);
        expect(await store.insertItems(scope, [rec('Went running.')], ctx())).toEqual([
          { id: tuesday.id, created: false },
        ]);
        expect((await store.stats(scope)).items).toBe(2);
      });

      it('numbers turns per session from 0, continuing across calls, not counting duplicates', async () => {
        const scope = await cube();
        const s1 = [rec('a'), rec('b'), rec('c')];
        await insert(scope, s1);
        const s2 = [rec('x', { sessionId: 's2' }), rec('y', { sessionId: 's2' })];
        await insert(scope, s2);
        const more = [rec('d'), rec('a'), rec('e')]; // 'a' is a duplicate
        const outcomes = await store.insertItems(scope, more, ctx());
        const noSession = rec('loose', { sessionId: null });
        await insert(scope, [noSession]);

        const turn = async (id: string) => (await store.getItems(scope, [id]))[0]?.turnIndex;
        expect(await Promise.all(s1.map((r) => turn(r.id)))).toEqual([0, 1, 2]);
        expect(await Promise.all(s2.map((r) => turn(r.id)))).toEqual([0, 1]);
        expect(outcomes.map((o) => o.created)).toEqual([true, false, true]);
        expect(await turn(more[0]?.id ?? '')).toBe(3);
        expect(await turn(more[2]?.id ?? '')).toBe(4);
        expect(await turn(noSession.id)).toBeNull();
      });
    });

    describe('getItems', () => {
      it('round-trips every field of a record', async () => {
        const scope = await cube();
        const source = newItemId();
        const r = rec('Alice prefers green tea', {
          kind: 'preference',
          index: ix('alice: Alice prefers green tea'),
          role: 'assistant',
          speaker: 'alice',
          userId: 'u1',
          agentId: 'agent-7',
          sessionId: 's9',
          runId: 'run-1',
          validFrom: T0 + 5 * DAY,
          validTo: T0 + 9 * DAY,
          sourceIds: [source],
          tags: ['drinks', 'taste'],
          metadata: { nested: { x: 1 }, list: [1, 'two'], flag: true, note: null },
          embedding: E1,
        });
        const c = ctx();
        await insert(scope, [r], c);
        const [item] = await store.getItems(scope, [r.id]);
        expect(item).toEqual({
          id: r.id,
          cube: 'main',
          kind: 'preference',
          content: 'Alice prefers green tea',
          role: 'assistant',
          speaker: 'alice',
          userId: 'u1',
          agentId: 'agent-7',
          sessionId: 's9',
          runId: 'run-1',
          turnIndex: 0,
          createdAt: iso(c.now),
          updatedAt: iso(c.now),
          validFrom: iso(T0 + 5 * DAY),
          validTo: iso(T0 + 9 * DAY),
          sourceIds: [source],
          tags: ['drinks', 'taste'],
          metadata: { nested: { x: 1 }, list: [1, 'two'], flag: true, note: null },
          contentHash: contentHash('Alice prefers green tea'),
          derived: NO_DERIVED_KEYS,
          status: 'active',
          version: 1,
        } satisfies MemoryItem);
      });

      it('returns items in the order asked, skipping unknown ids, whatever their status', async () => {
        const scope = await cube();
        const [a, b, c] = [rec('a'), rec('b'), rec('c')];
        if (!a || !b || !c) throw new Error('unreachable');
        await insert(scope, [a, b, c]);
        await store.setStatus(scope, b.id, 'deleted', 'delete', ctx());
        const got = await store.getItems(scope, [c.id, newItemId(), a.id, b.id]);
        expect(idsOf(got)).toEqual([c.id, a.id, b.id]);
        expect(got.map((i) => i.status)).toEqual(['active', 'active', 'deleted']);
        expect(await store.getItems(scope, [])).toEqual([]);
        expect(await store.getItems(scope, [newItemId()])).toEqual([]);
      });
    });

    describe('originsOf', () => {
      it("maps the cube's items to their sessions, speakers, roles and ends, any status, leaving out other cubes' ids", async () => {
        const scope = await cube();
        const other = await cube('other');
        const [a, b, loose] = [
          rec('a', { sessionId: 's1', speaker: 'Ann' }),
          rec('b', { sessionId: 's2', role: 'assistant' }),
          rec('c', { sessionId: null, speaker: 'Bo' }),
        ];
        if (!a || !b || !loose) throw new Error('unreachable');
        await insert(scope, [a, b, loose]);
        await store.setStatus(scope, b.id, 'deleted', 'delete', ctx());
        // An item with an end says when it stopped being true.
        await store.updateItem(scope, loose.id, { validTo: Date.parse('2024-06-01T00:00:00Z') }, ctx());
        const [elsewhere] = await insert(other, [rec('d', { sessionId: 's9', speaker: 'Ann' })]);
        const origins = await store.originsOf(scope, [
          a.id,
          b.id,
          loose.id,
          elsewhere as string,
          newItemId(),
        ]);
        expect(origins).toEqual(
          new Map([
            [a.id, { session: 's1', speaker: 'Ann', role: 'user' }],
            [b.id, { session: 's2', speaker: null, role: 'assistant' }],
            [
              loose.id,
              { session: null, speaker: 'Bo', role: 'user', endsAt: Date.parse('2024-06-01T00:00:00Z') },
            ],
          ]),
        );
        expect(await store.originsOf(scope, [])).toEqual(new Map());
      });
    });

    describe('eventSpan', () => {
      it("is the earliest and latest event time of the cube's items, any status, record time standing in for none", async () => {
        const scope = await cube();
        expect(await store.eventSpan(scope)).toBeNull();
        const other = await cube('other');
        await insert(other, [rec('elsewhere', { validFrom: Date.UTC(2020, 0, 1) })]);
        const [early, late, undated] = [
          rec('early', { validFrom: Date.UTC(2023, 4, 1) }),
          rec('late', { validFrom: Date.UTC(2023, 5, 30) }),
          rec('undated', { validFrom: null }),
        ];
        if (!early || !late || !undated) throw new Error('unreachable');
        await insert(scope, [early, late]);
        expect(await store.eventSpan(scope)).toEqual({
          first: Date.UTC(2023, 4, 1),
          last: Date.UTC(2023, 5, 30),
        });
        await store.setStatus(scope, early.id, 'deleted', 'delete', ctx());
        await insert(scope, [undated]);
        // The undated item stands at its record time, the test clock's later than June 2023.
        const recorded = (await store.getItems(scope, [undated.id]))[0]?.createdAt as string;
        expect(await store.eventSpan(scope)).toEqual({
          first: Date.UTC(2023, 4, 1),
          last: Date.parse(recorded),
        });
      });
    });

    describe('listItems', () => {
      /** Five items with distinct attributes; `d` has no event time and falls back to record time. */
      async function dataset(scope: CubeScope) {
        const a = rec('a', {
          sessionId: 's1',
          role: 'user',
          speaker: 'alice',
          userId: 'u1',
          agentId: 'ag1',
          runId: 'r1',
          tags: ['x', 'y'],
          validFrom: T0 + 1 * DAY,
        });
        const b = rec('b', {
          sessionId: 's1',
          role: 'assistant',
          speaker: 'bot',
          userId: 'u1',
          tags: ['x'],
          validFrom: T0 + 2 * DAY,
        });
        const c = rec('c', {
          kind: 'fact',
          sessionId: 's2',
          speaker: 'alice',
          userId: 'u2',
          tags: ['y'],
          validFrom: T0 + 3 * DAY,
        });
        const d = rec('d', { kind: 'preference', sessionId: 's2', speaker: 'bob' });
        const e = rec('e', {
          kind: 'summary',
          sessionId: null,
          role: 'system',
          tags: ['x', 'y', 'z'],
          validFrom: T0 + 5 * DAY,
        });
        await insert(scope, [a, b, c, d, e]);
        return { a: a.id, b: b.id, c: c.id, d: d.id, e: e.id };
      }

      it('applies every filter, each one narrowing', async () => {
        const scope = await cube();
        const { a, b, c, d, e } = await dataset(scope);
        const list = async (filter: StoreItemFilter) =>
          idsOf((await store.listItems(scope, filter, ASC)).items);

        expect(await list({})).toEqual([a, b, c, d, e]);
        expect(await list({ kinds: ['fact', 'preference'] })).toEqual([c, d]);
        expect(await list({ kinds: ['episode'] })).toEqual([a, b]);
        expect(await list({ sessionIds: ['s2'] })).toEqual([c, d]);
        expect(await list({ sessionIds: ['s1', 's2'] })).toEqual([a, b, c, d]);
        expect(await list({ sessionIds: ['nope'] })).toEqual([]);
        expect(await list({ speakers: ['alice'] })).toEqual([a, c]);
        expect(await list({ speakers: ['alice', 'bob'] })).toEqual([a, c, d]);
        expect(await list({ roles: ['assistant', 'system'] })).toEqual([b, e]);
        expect(await list({ userId: 'u1' })).toEqual([a, b]);
        expect(await list({ agentId: 'ag1' })).toEqual([a]);
        expect(await list({ runId: 'r1' })).toEqual([a]);
        expect(await list({ tags: ['x'] })).toEqual([a, b, e]);
        expect(await list({ tags: ['x', 'y'] })).toEqual([a, e]);
        expect(await list({ tags: ['z'] })).toEqual([e]);
        expect(await list({ tags: ['x', 'nope'] })).toEqual([]);
        // Event time, falling back to record time (d was recorded a few seconds after T0).
        expect(await list({ from: T0 + 2 * DAY })).toEqual([b, c, e]);
        expect(await list({ to: T0 + 3 * DAY })).toEqual([a, b, d]);
        expect(await list({ from: T0 + 1 * DAY, to: T0 + 3 * DAY })).toEqual([a, b]);
        expect(await list({ to: T0 + DAY / 2 })).toEqual([d]);
        expect(await list({ sessionIds: ['s1', 's2'], speakers: ['alice'], tags: ['y'] })).toEqual([a, c]);
        expect(await list({ sessionIds: ['s1'], kinds: ['fact'] })).toEqual([]);
      });

      it('lists only active items by default; statuses widen or change that', async () => {
        const scope = await cube();
        const { a, b, c, d, e } = await dataset(scope);
        await store.setStatus(scope, b, 'deleted', 'delete', ctx());
        await store.setStatus(scope, d, 'archived', 'update', ctx());
        const list = async (filter: StoreItemFilter) =>
          idsOf((await store.listItems(scope, filter, ASC)).items);
        expect(await list({})).toEqual([a, c, e]);
        expect(await list({ statuses: ['deleted'] })).toEqual([b]);
        expect(await list({ statuses: ['active', 'deleted', 'archived'] })).toEqual([a, b, c, d, e]);
        expect(await list({ statuses: ['deleted', 'archived'], sessionIds: ['s2'] })).toEqual([d]);
      });

      it('pages with a cursor in both orders without duplicates or gaps', async () => {
        const scope = await cube();
        const records = Array.from({ length: 25 }, (_, i) =>
          rec(`item ${i}`, { sessionId: i % 2 === 0 ? 's1' : 's2' }),
        );
        await insert(scope, records.slice(0, 12));
        await insert(scope, records.slice(12));
        const all = records.map((r) => r.id);

        for (const order of ['asc', 'desc'] as const) {
          const seen: string[] = [];
          const sizes: number[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.listItems(
              scope,
              {},
              { limit: 10, order, ...(cursor ? { cursor } : {}) },
            );
            seen.push(...idsOf(page.items));
            sizes.push(page.items.length);
            cursor = page.nextCursor;
            pages += 1;
          } while (cursor && pages < 10);
          expect(sizes).toEqual([10, 10, 5]);
          expect(seen).toEqual(order === 'asc' ? all : [...all].reverse());
          expect(new Set(seen).size).toBe(25);
        }

        // With a filter: 13 items in s1, pages of 5.
        const s1: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listItems(
            scope,
            { sessionIds: ['s1'] },
            { limit: 5, order: 'asc', ...(cursor ? { cursor } : {}) },
          );
          s1.push(...idsOf(page.items));
          cursor = page.nextCursor;
        } while (cursor);
        expect(s1).toEqual(records.filter((_, i) => i % 2 === 0).map((r) => r.id));
      });

      it('has no cursor on the last page, even when it is exactly full', async () => {
        const scope = await cube();
        await insert(
          scope,
          Array.from({ length: 10 }, (_, i) => rec(`n${i}`)),
        );
        const first = await store.listItems(scope, {}, { limit: 5, order: 'asc' });
        expect(first.items).toHaveLength(5);
        expect(first.nextCursor).toBeTypeOf('string');
        const second = await store.listItems(
          scope,
          {},
          { limit: 5, order: 'asc', cursor: first.nextCursor ?? '' },
        );
        expect(second.items).toHaveLength(5);
        expect(second.nextCursor).toBeUndefined();
        const whole = await store.listItems(scope, {}, { limit: 10, order: 'desc' });
        expect(whole.items).toHaveLength(10);
        expect(whole.nextCursor).toBeUndefined();
      });

      it('rejects a cursor it did not issue with invalid_input', async () => {
        const scope = await cube();
        await insert(scope, [rec('a')]);
        for (const cursor of ['not a cursor', 'garbage!!', Buffer.from('{"k":"x"}').toString('base64url')]) {
          await expect(store.listItems(scope, {}, { limit: 10, order: 'asc', cursor })).rejects.toMatchObject(
            {
              code: 'invalid_input',
            },
          );
        }
      });
    });

    describe('updateItem', () => {
      it('writes a new version, keeps the old one, and re-indexes text and vector', async () => {
        const scope = await cube();
        const original = rec('the old walrus sings', { embedding: E1, tags: ['t1'] });
        const other = rec('an unrelated note', { embedding: E12 });
        const addCtx = ctx();
        await insert(scope, [original, other], addCtx);

        const newContent = 'a new pelican dances';
        const updCtx = ctx('editor');
        const updated = await store.updateItem(
          scope,
          original.id,
          {
            content: {
              content: newContent,
              index: ix(newContent),
              derived: NO_DERIVED_KEYS,
              contentHash: contentHash(newContent),
              embedding: E3,
            },
          },
          updCtx,
        );
        expect(updated).toMatchObject({
          id: original.id,
          content: newContent,
          contentHash: contentHash(newContent),
          version: 2,
          status: 'active',
          tags: ['t1'],
          turnIndex: 0,
          createdAt: iso(addCtx.now),
          updatedAt: iso(updCtx.now),
        });
        expect(updated.contentHash).not.toBe(original.contentHash);
        expect(await store.getItems(scope, [original.id])).toEqual([updated]);

        const history = await store.history(scope, original.id);
        expect(history.map((v) => [v.version, v.operation, v.content, v.changedBy, v.changedAt])).toEqual([
          [1, 'add', 'the old walrus sings', 'tester', iso(addCtx.now)],
          [2, 'update', newContent, 'editor', iso(updCtx.now)],
        ]);

        expect(idsOf(await store.searchLexical(scope, ['pelican'], {}, 10, W))).toEqual([original.id]);
        expect(await store.searchLexical(scope, ['walrus'], {}, 10, W)).toEqual([]);
        expect(await store.searchLexical(scope, ['sings'], {}, 10, W)).toEqual([]);

        const byNew = await store.searchVector(scope, E3, {}, 10);
        expect(byNew[0]?.id).toBe(original.id);
        expect(byNew[0]?.score).toBeCloseTo(1, 4);
        const byOld = await store.searchVector(scope, E1, {}, 10);
        expect(byOld[0]?.id).toBe(other.id);
        const stale = byOld.find((h) => h.id === original.id);
        if (stale) expect(stale.score).toBeCloseTo(0, 4);
        // The narrowing (exact) path sees the new vector too.
        const narrowed = await store.searchVector(scope, E3, { sessionIds: ['s1'] }, 10);
        expect(narrowed[0]?.id).toBe(original.id);
        expect(narrowed[0]?.score).toBeCloseTo(1, 4);

        // Dedupe follows the new content hash.
        expect(await store.insertItems(scope, [rec(newContent)], ctx())).toEqual([
          { id: original.id, created: false },
        ]);
        const reAdded = rec('the old walrus sings');
        expect(await store.insertItems(scope, [reAdded], ctx())).toEqual([{ id: reAdded.id, created: true }]);
      });

      it('keeps an archived item out of vector search when its content changes', async () => {
        const scope = await cube();
        const archived = rec('an archived note', { embedding: E1 });
        const other = rec('a live note', { embedding: E2 });
        await insert(scope, [archived, other], ctx());
        await store.setStatus(scope, archived.id, 'archived', 'update', ctx());
        const text = 'the archived note, edited';
        await store.updateItem(
          scope,
          archived.id,
          {
            content: {
              content: text,
              index: ix(text),
              derived: NO_DERIVED_KEYS,
              contentHash: contentHash(text),
              embedding: E3,
            },
          },
          ctx(),
        );
        expect(idsOf(await store.searchVector(scope, E3, {}, 10))).toEqual([other.id]);
        const asked = await store.searchVector(scope, E3, { statuses: ['archived'] }, 10);
        expect(idsOf(asked)).toEqual([archived.id]);
        expect(asked[0]?.score).toBeCloseTo(1, 4);
      });

      it('changes tags, metadata and event time without touching content or vector', async () => {
        const scope = await cube();
        const r = rec('steady content here', {
          embedding: E2,
          tags: ['a'],
          metadata: { v: 1 },
          validFrom: T0,
        });
        await insert(scope, [r]);
        const updated = await store.updateItem(
          scope,
          r.id,
          { tags: ['b', 'c'], metadata: { v: 2, extra: 'yes' }, validFrom: T0 + DAY, validTo: T0 + 2 * DAY },
          ctx(),
        );
        expect(updated).toMatchObject({
          content: 'steady content here',
          contentHash: r.contentHash,
          tags: ['b', 'c'],
          metadata: { v: 2, extra: 'yes' },
          validFrom: iso(T0 + DAY),
          validTo: iso(T0 + 2 * DAY),
          version: 2,
        });
        const cleared = await store.updateItem(scope, r.id, { validTo: null }, ctx());
        expect(cleared).toMatchObject({
          validTo: null,
          validFrom: iso(T0 + DAY),
          tags: ['b', 'c'],
          version: 3,
        });

        const history = await store.history(scope, r.id);
        expect(history.map((v) => [v.version, v.tags, v.metadata, v.validFrom, v.validTo])).toEqual([
          [1, ['a'], { v: 1 }, iso(T0), null],
          [2, ['b', 'c'], { v: 2, extra: 'yes' }, iso(T0 + DAY), iso(T0 + 2 * DAY)],
          [3, ['b', 'c'], { v: 2, extra: 'yes' }, iso(T0 + DAY), null],
        ]);
        expect(history.every((v) => v.content === 'steady content here')).toBe(true);
        expect(idsOf(await store.searchLexical(scope, ['steady'], {}, 10, W))).toEqual([r.id]);
        const hit = await store.searchVector(scope, E2, {}, 1);
        expect(hit[0]?.id).toBe(r.id);
        expect(hit[0]?.score).toBeCloseTo(1, 4);
        expect(idsOf((await store.listItems(scope, { tags: ['c'] }, ASC)).items)).toEqual([r.id]);
        expect((await store.listItems(scope, { tags: ['a'] }, ASC)).items).toEqual([]);
      });

      it('is not_found for an unknown id', async () => {
        const scope = await cube();
        await expect(store.updateItem(scope, newItemId(), { tags: [] }, ctx())).rejects.toMatchObject({
          code: 'not_found',
        });
      });
    });

    describe('context keys', () => {
      it('are written with a status change or an update, searchable at once, with no version of their own', async () => {
        const scope = await cube();
        const keyed = (content: string, context: string) =>
          rec(content, {
            index: { ...ix(content), context },
            derived: { ...NO_DERIVED_KEYS, context },
          });
        const question = rec('my dog rex fears thunder');
        const reply = keyed('poor thing', 'my dog rex fears thunder');
        const later = keyed('try a thundershirt', 'my dog rex fears thunder\npoor thing');
        await insert(scope, [question, reply, later]);
        expect(idsOf(await store.searchLexical(scope, ['rex'], {}, 10, W)).sort()).toEqual(
          [question.id, reply.id, later.id].sort(),
        );

        const stamp = () => store.sessionStamp(scope, 's1', 0);
        const deleted = await store.setStatus(scope, question.id, 'deleted', 'delete', ctx(), {
          updates: [
            { id: reply.id, context: null },
            { id: later.id, context: 'poor thing' },
          ],
          derivedFrom: await stamp(),
        });
        expect(deleted.status).toBe('deleted');
        expect(await store.searchLexical(scope, ['rex'], {}, 10, W)).toEqual([]);
        expect(idsOf(await store.searchLexical(scope, ['poor'], {}, 10, W)).sort()).toEqual(
          [reply.id, later.id].sort(),
        );
        const [r, l] = await store.getItems(scope, [reply.id, later.id]);
        expect(r?.derived.context).toBeNull();
        expect(l?.derived.context).toBe('poor thing');
        // Derived keys are not content: no new version, no audit record, for the turns after it.
        expect(r?.version).toBe(1);
        expect((await store.history(scope, later.id)).map((v) => v.version)).toEqual([1]);
        expect((await allAudit(store, scope)).filter((a) => a.itemId === later.id)).toHaveLength(1);

        // The item's own key too, with a restore; and the keys after an edited turn.
        const restored = await store.setStatus(scope, question.id, 'active', 'restore', ctx(), {
          updates: [
            { id: question.id, context: null },
            { id: reply.id, context: 'my dog rex fears thunder' },
          ],
          derivedFrom: await stamp(),
        });
        expect(restored.status).toBe('active');
        const edit = 'my cat tom fears thunder';
        await store.updateItem(
          scope,
          question.id,
          {
            content: {
              content: edit,
              index: ix(edit),
              derived: NO_DERIVED_KEYS,
              contentHash: 'h',
              embedding: null,
            },
          },
          ctx(),
          { updates: [{ id: reply.id, context: edit }], derivedFrom: await stamp() },
        );
        expect(idsOf(await store.searchLexical(scope, ['rex'], {}, 10, W))).toEqual([]);
        expect(idsOf(await store.searchLexical(scope, ['tom'], {}, 10, W)).sort()).toEqual(
          [question.id, reply.id].sort(),
        );
        expect((await store.getItems(scope, [reply.id]))[0]?.derived.context).toBe(edit);
      });

      it('of an item of another cube are not_found, and the change is not made', async () => {
        const scope = await cube();
        const other = await cube('other');
        const mine = rec('mine');
        const theirs = rec('theirs');
        await insert(scope, [mine]);
        await insert(other, [theirs]);
        await expect(
          store.setStatus(scope, mine.id, 'deleted', 'delete', ctx(), {
            updates: [{ id: theirs.id, context: 'leak' }],
            derivedFrom: await store.sessionStamp(scope, 's1', 0),
          }),
        ).rejects.toMatchObject({ code: 'not_found' });
        expect((await store.getItems(scope, [mine.id]))[0]?.status).toBe('active');
        expect((await store.getItems(other, [theirs.id]))[0]?.derived.context).toBeNull();
      });

      it('are refused, with nothing changed, when the turns they were read from changed since', async () => {
        const scope = await cube();
        const [first, second, third] = [rec('first turn'), rec('second turn'), rec('third turn')];
        await insert(scope, [first, second, third]);
        const before = await store.sessionStamp(scope, 's1', 1);
        expect(before).toEqual({ sessionId: 's1', fromTurn: 1, rows: 2, versions: 2 });
        // Another process deletes the second turn after the keys were read.
        await store.setStatus(scope, second.id, 'deleted', 'delete', ctx());
        const moved = await store.sessionStamp(scope, 's1', 1);
        expect(moved).toEqual({ ...before, versions: 3 });
        // A change before `fromTurn` does not move it.
        await store.updateItem(scope, first.id, { tags: ['x'] }, ctx());
        expect(await store.sessionStamp(scope, 's1', 1)).toEqual(moved);

        const changed = { code: 'conflict', name: 'SessionChangedError' };
        const stale = { updates: [{ id: third.id, context: 'second turn' }], derivedFrom: before };
        const auditBefore = (await allAudit(store, scope)).length;
        await expect(
          store.setStatus(scope, first.id, 'deleted', 'delete', ctx(), stale),
        ).rejects.toMatchObject(changed);
        await expect(store.updateItem(scope, first.id, { tags: ['y'] }, ctx(), stale)).rejects.toMatchObject(
          changed,
        );
        const late = rec('fourth turn', {
          index: { ...ix('fourth turn'), context: 'second turn' },
          derived: { ...NO_DERIVED_KEYS, context: 'second turn' },
        });
        await expect(store.insertItems(scope, [late], ctx(), before)).rejects.toMatchObject(changed);
        await expect(store.repairContextKeys(scope, stale)).rejects.toMatchObject(changed);
        const [f, t] = await store.getItems(scope, [first.id, third.id]);
        expect(f).toMatchObject({ status: 'active', version: 2, tags: ['x'] });
        expect(t?.derived.context).toBeNull();
        expect(await store.getItems(scope, [late.id])).toEqual([]);
        expect(await allAudit(store, scope)).toHaveLength(auditBefore);

        // A new turn moves it too; with the stamp as it is now, the write goes through.
        await insert(scope, [rec('another turn')]);
        const now = await store.sessionStamp(scope, 's1', 1);
        expect(now).toEqual({ ...moved, rows: 3, versions: 4 });
        await store.insertItems(scope, [late], ctx(), now);
        expect((await store.getItems(scope, [late.id]))[0]?.derived.context).toBe('second turn');
      });
    });

    describe('setStatus', () => {
      it('delete hides an item from list and both searches; restore brings it back', async () => {
        const scope = await cube();
        const a = rec('zephyr breeze', { embedding: E1 });
        const b = rec('other text entirely', { embedding: E2 });
        await insert(scope, [a, b]);

        const delCtx = ctx('remover');
        const deleted = await store.setStatus(scope, a.id, 'deleted', 'delete', delCtx);
        expect(deleted).toMatchObject({
          id: a.id,
          status: 'deleted',
          version: 2,
          updatedAt: iso(delCtx.now),
        });

        expect(await listAll(scope)).toEqual([b.id]);
        expect(await store.searchLexical(scope, ['zephyr'], {}, 10, W)).toEqual([]);
        expect(idsOf(await store.searchVector(scope, E1, {}, 10))).not.toContain(a.id);
        expect(idsOf(await store.searchVector(scope, E1, { sessionIds: ['s1'] }, 10))).not.toContain(a.id);
        expect((await store.getItems(scope, [a.id]))[0]?.status).toBe('deleted');
        expect(await listAll(scope, { statuses: ['deleted'] })).toEqual([a.id]);
        expect(idsOf(await store.searchLexical(scope, ['zephyr'], { statuses: ['deleted'] }, 10, W))).toEqual(
          [a.id],
        );

        await expect(store.updateItem(scope, a.id, { tags: ['nope'] }, ctx())).rejects.toMatchObject({
          code: 'conflict',
        });
        await expect(store.setStatus(scope, a.id, 'deleted', 'delete', ctx())).rejects.toMatchObject({
          code: 'conflict',
        });

        const restored = await store.setStatus(scope, a.id, 'active', 'restore', ctx('restorer'));
        expect(restored).toMatchObject({ status: 'active', version: 3, content: 'zephyr breeze' });
        expect(await listAll(scope)).toEqual([a.id, b.id]);
        expect(idsOf(await store.searchLexical(scope, ['zephyr'], {}, 10, W))).toEqual([a.id]);
        const hits = await store.searchVector(scope, E1, {}, 10);
        expect(hits[0]?.id).toBe(a.id);
        expect(hits[0]?.score).toBeCloseTo(1, 4);
        expect(idsOf(await store.searchVector(scope, E1, { sessionIds: ['s1'] }, 10))[0]).toBe(a.id);

        // Once restored it can be updated again.
        expect((await store.updateItem(scope, a.id, { tags: ['back'] }, ctx())).version).toBe(4);
      });

      it('freezes an item: no update and no status change', async () => {
        const scope = await cube();
        const a = rec('compliance hold');
        await insert(scope, [a]);
        const frozen = await store.setStatus(scope, a.id, 'frozen', 'update', ctx());
        expect(frozen).toMatchObject({ status: 'frozen', version: 2 });
        await expect(store.updateItem(scope, a.id, { tags: ['x'] }, ctx())).rejects.toMatchObject({
          code: 'conflict',
        });
        await expect(store.setStatus(scope, a.id, 'deleted', 'delete', ctx())).rejects.toMatchObject({
          code: 'conflict',
        });
        expect((await store.getItems(scope, [a.id]))[0]).toMatchObject({ status: 'frozen', version: 2 });
      });

      it('is not_found for an unknown id', async () => {
        const scope = await cube();
        await expect(store.setStatus(scope, newItemId(), 'deleted', 'delete', ctx())).rejects.toMatchObject({
          code: 'not_found',
        });
      });
    });

    describe('history', () => {
      it('lists every version in order with operation, status and actor', async () => {
        const scope = await cube();
        const r = rec('first words', { tags: ['t'] });
        const c1 = ctx('adder');
        await insert(scope, [r], c1);
        const c2 = ctx('editor');
        await store.updateItem(
          scope,
          r.id,
          {
            content: {
              content: 'second words',
              index: ix('second words'),
              derived: NO_DERIVED_KEYS,
              contentHash: contentHash('second words'),
              embedding: null,
            },
          },
          c2,
        );
        const c3 = ctx('remover');
        await store.setStatus(scope, r.id, 'deleted', 'delete', c3);
        const c4 = ctx('restorer');
        await store.setStatus(scope, r.id, 'active', 'restore', c4);

        const history = await store.history(scope, r.id);
        expect(history).toEqual([
          {
            itemId: r.id,
            version: 1,
            operation: 'add',
            content: 'first words',
            status: 'active',
            tags: ['t'],
            metadata: {},
            validFrom: null,
            validTo: null,
            changedAt: iso(c1.now),
            changedBy: 'adder',
          },
          {
            itemId: r.id,
            version: 2,
            operation: 'update',
            content: 'second words',
            status: 'active',
            tags: ['t'],
            metadata: {},
            validFrom: null,
            validTo: null,
            changedAt: iso(c2.now),
            changedBy: 'editor',
          },
          {
            itemId: r.id,
            version: 3,
            operation: 'delete',
            content: 'second words',
            status: 'deleted',
            tags: ['t'],
            metadata: {},
            validFrom: null,
            validTo: null,
            changedAt: iso(c3.now),
            changedBy: 'remover',
          },
          {
            itemId: r.id,
            version: 4,
            operation: 'restore',
            content: 'second words',
            status: 'active',
            tags: ['t'],
            metadata: {},
            validFrom: null,
            validTo: null,
            changedAt: iso(c4.now),
            changedBy: 'restorer',
          },
        ] satisfies MemoryVersion[]);
        expect((await store.getItems(scope, [r.id]))[0]?.version).toBe(4);
      });

      it('is not_found for an unknown id', async () => {
        const scope = await cube();
        await expect(store.history(scope, newItemId())).rejects.toMatchObject({ code: 'not_found' });
      });
    });

    describe('searchLexical', () => {
      it('ranks the document with the rarer query terms first', async () => {
        const scope = await cube();
        const cat = rec('the cat sat on the mat');
        const dog = rec('the dog sat on the log');
        const quokka = rec('a quokka sat happily in the sun');
        const bird = rec('birds fly south in winter');
        await insert(scope, [cat, dog, quokka, bird]);

        const hits = await store.searchLexical(scope, ['quokka', 'sat'], {}, 10, W);
        expect(hits[0]?.id).toBe(quokka.id);
        expect(sorted(idsOf(hits))).toEqual(sorted([cat.id, dog.id, quokka.id]));
        expect(hits.every((h) => h.score > 0)).toBe(true);
        expect(isNonIncreasing(hits)).toBe(true);

        expect(idsOf(await store.searchLexical(scope, ['cat'], {}, 10, W))).toEqual([cat.id]);
        expect(idsOf(await store.searchLexical(scope, ['winter', 'cat'], {}, 10, W)).sort()).toEqual(
          sorted([bird.id, cat.id]),
        );
        expect(await store.searchLexical(scope, ['nothingmatches'], {}, 10, W)).toEqual([]);
        expect(await store.searchLexical(scope, ['quokka', 'sat'], {}, 1, W)).toHaveLength(1);
      });

      it('returns [] for no terms and tolerates operator-like words', async () => {
        const scope = await cube();
        await insert(scope, [rec('and or not near everything')]);
        expect(await store.searchLexical(scope, [], {}, 10, W)).toEqual([]);
        const odd = await store.searchLexical(scope, ['and', 'or', 'not', 'near', 'x"y'], {}, 10, W);
        expect(Array.isArray(odd)).toBe(true);
      });

      it('searches the index text, not only the content', async () => {
        const scope = await cube();
        const r = rec('I love green tea', { speaker: 'alice', index: ix('alice: I love green tea') });
        await insert(scope, [
          r,
          rec('bob likes coffee', { speaker: 'bob', index: ix('bob: bob likes coffee') }),
        ]);
        expect(idsOf(await store.searchLexical(scope, ['alice'], {}, 10, W))).toEqual([r.id]);
      });

      it('applies filters', async () => {
        const scope = await cube();
        const a = rec('shared keyword one', { sessionId: 's1', tags: ['keep'] });
        const b = rec('shared keyword two', { sessionId: 's2' });
        const c = rec('shared keyword three', { sessionId: 's2', kind: 'fact', validFrom: T0 + 10 * DAY });
        await insert(scope, [a, b, c]);
        expect(sorted(idsOf(await store.searchLexical(scope, ['keyword'], {}, 10, W)))).toEqual(
          sorted([a.id, b.id, c.id]),
        );
        expect(
          sorted(idsOf(await store.searchLexical(scope, ['keyword'], { sessionIds: ['s2'] }, 10, W))),
        ).toEqual(sorted([b.id, c.id]));
        expect(idsOf(await store.searchLexical(scope, ['keyword'], { tags: ['keep'] }, 10, W))).toEqual([
          a.id,
        ]);
        expect(idsOf(await store.searchLexical(scope, ['keyword'], { kinds: ['fact'] }, 10, W))).toEqual([
          c.id,
        ]);
        expect(idsOf(await store.searchLexical(scope, ['keyword'], { from: T0 + 5 * DAY }, 10, W))).toEqual([
          c.id,
        ]);
      });
    });

    describe('vocabulary', () => {
      const wordsOf = async (scope: CubeScope, since: VocabularyMark | null = null) => {
        const page = await store.vocabulary?.(scope, since);
        if (!page) throw new Error('expected a vocabulary page');
        return page;
      };

      it("lists a cube's own words once each, in the order first written, and from a mark only new ones", async () => {
        const a = await cube('a');
        const b = await cube('b');
        await insert(a, [rec('Guitar practice tonight'), rec('Practice the guitar at 7')]);
        await insert(b, [rec('Secret recipe')]);
        const first = await wordsOf(a);
        expect(first.words).toEqual(['guitar', 'practice', 'tonight', 'the']);
        expect((await wordsOf(b)).words).toEqual(['secret', 'recipe']);

        const [id] = await insert(a, [rec('Violin lessons')]);
        expect((await wordsOf(a, first)).words).toEqual(['violin', 'lessons']);
        const content = 'Cello lessons instead';
        await store.updateItem(
          a,
          id as string,
          {
            content: {
              content,
              index: ix(content),
              derived: NO_DERIVED_KEYS,
              contentHash: contentHash(content),
              embedding: E1,
            },
          },
          ctx(),
        );
        // An update adds its new words; the replaced content's stay listed.
        const all = await wordsOf(a);
        expect(all.words).toEqual([
          'guitar',
          'practice',
          'tonight',
          'the',
          'violin',
          'lessons',
          'cello',
          'instead',
        ]);
        expect((await wordsOf(a, all)).words).toEqual([]);
      });

      it('starts afresh for a cube deleted and made again under its name', async () => {
        const a = await cube('a');
        await insert(a, [rec('Kayak trip')]);
        await store.deleteCube(tenant, 'a', ctx());
        const again = await cube('a');
        expect((await wordsOf(again)).words).toEqual([]);
        await insert(again, [rec('Pottery class')]);
        expect((await wordsOf(again)).words).toEqual(['pottery', 'class']);
      });
    });

    describe('searchVector', () => {
      it('returns the nearest items by cosine similarity, highest first', async () => {
        const scope = await cube();
        const a = rec('a', { embedding: E1 });
        const ab = rec('ab', { embedding: E12 });
        const b = rec('b', { embedding: E2, sessionId: 's2' });
        const d = rec('d', { embedding: E4, sessionId: 's2' });
        const none = rec('no vector', { embedding: null });
        await insert(scope, [a, ab, b, d, none]);

        const hits = await store.searchVector(scope, E1, {}, 10);
        expect(sorted(idsOf(hits))).toEqual(sorted([a.id, ab.id, b.id, d.id]));
        expect(idsOf(hits).slice(0, 2)).toEqual([a.id, ab.id]);
        expect(hits[0]?.score).toBeCloseTo(1, 4);
        expect(hits[1]?.score).toBeCloseTo(Math.SQRT1_2, 4);
        expect(hits[2]?.score).toBeCloseTo(0, 4);
        expect(isNonIncreasing(hits)).toBe(true);

        expect(idsOf(await store.searchVector(scope, E1, {}, 2))).toEqual([a.id, ab.id]);
        // A very large limit gives the same ranking.
        const wide = await store.searchVector(scope, E1, {}, 5000);
        expect(idsOf(wide).slice(0, 2)).toEqual([a.id, ab.id]);
        expect(sorted(idsOf(wide))).toEqual(sorted(idsOf(hits)));
        const q = unit(0.1, 0.2, 0, 0.97);
        expect((await store.searchVector(scope, q, {}, 1))[0]?.id).toBe(d.id);
      });

      it('still finds matches under narrowing filters', async () => {
        const scope = await cube();
        const a = rec('a', { embedding: E1, sessionId: 's1' });
        const ab = rec('ab', { embedding: E12, sessionId: 's1', tags: ['t'] });
        const b = rec('b', { embedding: E2, sessionId: 's2' });
        const d = rec('d', { embedding: E4, sessionId: 's2', speaker: 'dan' });
        await insert(scope, [a, ab, b, d]);

        const s2 = await store.searchVector(scope, E2, { sessionIds: ['s2'] }, 10);
        expect(idsOf(s2)).toEqual([b.id, d.id]);
        expect(s2[0]?.score).toBeCloseTo(1, 4);

        const s1 = await store.searchVector(scope, E2, { sessionIds: ['s1'] }, 10);
        expect(idsOf(s1)).toEqual([ab.id, a.id]);
        expect(s1[0]?.score).toBeCloseTo(Math.SQRT1_2, 4);

        expect(idsOf(await store.searchVector(scope, E1, { tags: ['t'] }, 10))).toEqual([ab.id]);
        expect(idsOf(await store.searchVector(scope, E1, { speakers: ['dan'] }, 10))).toEqual([d.id]);
        expect(await store.searchVector(scope, E1, { sessionIds: ['none'] }, 10)).toEqual([]);
        expect(idsOf(await store.searchVector(scope, E2, { sessionIds: ['s1', 's2'] }, 1))).toEqual([b.id]);
      });

      it('returns [] on a cube without vectors', async () => {
        const scope = await cube();
        expect(await store.searchVector(scope, E1, {}, 10)).toEqual([]);
        await insert(scope, [rec('text only')]);
        expect(await store.searchVector(scope, E1, {}, 10)).toEqual([]);
      });
    });

    describe('lexical-only cube (dimensions 0)', () => {
      it('stores and searches text without vectors', async () => {
        const scope = await cube('plain', { id: 'none', dimensions: 0 });
        const r = rec('a lexical only memory');
        expect(await store.insertItems(scope, [r], ctx())).toEqual([{ id: r.id, created: true }]);
        expect(idsOf(await store.searchLexical(scope, ['lexical'], {}, 10, W))).toEqual([r.id]);
        expect((await store.stats(scope)).vectors).toBe(0);
        expect(await store.getCube(tenant, 'plain')).toMatchObject({ embedderId: 'none', dimensions: 0 });
      });
    });

    describe('audit', () => {
      it('records every mutation with operation, versions and actor, and pages by afterId', async () => {
        const scope = await cube('audited');
        const a = rec('first');
        const b = rec('second');
        const cAdd = ctx('adder');
        await insert(scope, [a, b], cAdd);
        const cUpd = ctx('editor');
        await store.updateItem(scope, a.id, { tags: ['x'] }, cUpd);
        const cDel = ctx('remover');
        await store.setStatus(scope, a.id, 'deleted', 'delete', cDel);
        const cRes = ctx('restorer');
        await store.setStatus(scope, a.id, 'active', 'restore', cRes);
        await store.insertItems(scope, [rec('first')], ctx('deduper')); // a duplicate writes nothing

        const records = await allAudit(store, scope);
        expect(records.map((r) => [r.operation, r.itemId, r.versionBefore, r.versionAfter, r.actor])).toEqual(
          [
            ['create_cube', null, null, null, 'tester'],
            ['add', a.id, null, 1, 'adder'],
            ['add', b.id, null, 1, 'adder'],
            ['update', a.id, 1, 2, 'editor'],
            ['delete', a.id, 2, 3, 'remover'],
            ['restore', a.id, 3, 4, 'restorer'],
          ],
        );
        expect(records.slice(1).map((r) => r.at)).toEqual(
          [cAdd, cAdd, cUpd, cDel, cRes].map((c) => iso(c.now)),
        );
        for (const r of records) expect(r).toMatchObject({ tenant, cube: 'audited' });
        const ids = records.map((r) => r.id);
        expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? Number.POSITIVE_INFINITY))).toBe(true);

        // Paging with afterId covers everything exactly once.
        const paged: number[] = [];
        let afterId: number | undefined;
        for (let guard = 0; guard < 10; guard++) {
          const page = await store.listAudit(scope, {
            limit: 2,
            ...(afterId === undefined ? {} : { afterId }),
          });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(2);
          paged.push(...page.map((r) => r.id));
          afterId = page.at(-1)?.id;
        }
        expect(paged).toEqual(ids);

        // Newest first, paged with beforeId, covers them all in reverse.
        const newest: number[] = [];
        let beforeId: number | undefined;
        for (let guard = 0; guard < 10; guard++) {
          const page = await store.listAudit(scope, {
            limit: 2,
            order: 'newest',
            ...(beforeId === undefined ? {} : { beforeId }),
          });
          if (page.length === 0) break;
          newest.push(...page.map((r) => r.id));
          beforeId = page.at(-1)?.id;
        }
        expect(newest).toEqual([...ids].reverse());
        const lastOfA = await store.listAudit(scope, { itemId: a.id, order: 'newest', limit: 1 });
        expect(lastOfA.map((r) => r.operation)).toEqual(['restore']);

        const forA = await store.listAudit(scope, { itemId: a.id, limit: 100 });
        expect(forA.map((r) => r.operation)).toEqual(['add', 'update', 'delete', 'restore']);
        const window = await store.listAudit(scope, { from: cUpd.now, to: cRes.now, limit: 100 });
        expect(window.map((r) => r.operation)).toEqual(['update', 'delete']);
        expect(await store.listAudit(scope, { limit: 1 })).toHaveLength(1);
        const byEditor = await store.listAudit(scope, { actor: 'editor', limit: 100 });
        expect(byEditor.map((r) => r.operation)).toEqual(['update']);
      });

      it('records the request id of a write in the details', async () => {
        const scope = await cube('requested');
        await insert(scope, [rec('with a request')], { ...ctx('keyholder'), requestId: 'req-42' });
        const [record] = await store.listAudit(scope, { actor: 'keyholder', limit: 10 });
        expect(record?.details).toMatchObject({ requestId: 'req-42' });
      });
    });

    describe('deleteCube', () => {
      it('removes the cube and everything in it, leaving other cubes and tenants untouched', async () => {
        const doomed = await cube('doomed');
        const kept = await cube('kept');
        const other = { tenant: `${tenant}-b`, cube: 'doomed' };
        await store.createCube(other.tenant, other.cube, EMB, ctx());
        await insert(doomed, [rec('goes away', { embedding: E1 })]);
        const [keptId] = await insert(kept, [rec('stays here', { embedding: E1 })]);
        const [otherId] = await insert(other, [rec('goes away too? no', { embedding: E1 })]);
        await store.deleteCube(tenant, 'doomed', ctx('deleter'));

        expect(await store.getCube(tenant, 'doomed')).toBeNull();
        await expect(store.listItems(doomed, {}, ASC)).rejects.toMatchObject({ code: 'not_found' });
        expect(idsOf((await store.listItems(kept, {}, ASC)).items)).toEqual([keptId]);
        expect(idsOf(await store.searchVector(kept, E1, {}, 10))).toEqual([keptId]);
        expect(idsOf(await store.searchVector(other, E1, {}, 10))).toEqual([otherId]);
        await expect(store.deleteCube(tenant, 'doomed', ctx())).rejects.toMatchObject({ code: 'not_found' });

        // The name can be used again, and the new cube starts empty.
        const again = await cube('doomed');
        expect((await store.listItems(again, {}, ASC)).items).toEqual([]);
        expect(await store.searchLexical(again, ['goes'], {}, 10, W)).toEqual([]);
        expect((await allAudit(store, again)).map((r) => r.operation)).toEqual(['create_cube']);
      });
    });

    describe('stats', () => {
      it('counts items, kinds, statuses, sessions, versions, audit records and vectors', async () => {
        const scope = await cube();
        const empty = await store.stats(scope);
        expect(empty).toEqual({
          items: 0,
          byKind: {},
          byStatus: {},
          sessions: 0,
          versions: 0,
          auditRecords: 1,
          vectors: 0,
          firstEventAt: null,
          lastEventAt: null,
        });

        const e1 = rec('e1', { embedding: E1, validFrom: T0 + 2 * DAY });
        const e2 = rec('e2', { embedding: E2, validFrom: T0 + 3 * DAY });
        const e3 = rec('e3', { embedding: E3, validFrom: T0 + 4 * DAY });
        const fact = rec('fact', { kind: 'fact', sessionId: 's2', embedding: null, validFrom: T0 + 1 * DAY });
        const summary = rec('summary', {
          kind: 'summary',
          sessionId: null,
          embedding: E4,
          validFrom: T0 + 9 * DAY,
        });
        await insert(scope, [e1, e2, e3, fact, summary]);
        await store.updateItem(scope, e1.id, { tags: ['x'] }, ctx());
        await store.setStatus(scope, e2.id, 'deleted', 'delete', ctx());

        expect(await store.stats(scope)).toEqual({
          items: 5,
          byKind: { episode: 3, fact: 1, summary: 1 },
          byStatus: { active: 4, deleted: 1 },
          sessions: 2,
          versions: 7,
          auditRecords: 1 + 5 + 2,
          vectors: 4,
          firstEventAt: iso(T0 + 1 * DAY),
          lastEventAt: iso(T0 + 9 * DAY),
        });
      });
    });

    describe('export and import', () => {
      /** A cube with updates, a deletion, two sessions and vectors; returns the vector of each id. */
      async function populated(scope: CubeScope) {
        const vectors = new Map<string, Float32Array>();
        const records = [
          rec('alpha walrus', { embedding: E1, tags: ['t1'], validFrom: T0 + DAY, metadata: { m: 1 } }),
          rec('beta pelican', { embedding: E2, speaker: 'bob', index: ix('bob: beta pelican') }),
          rec('gamma heron', { embedding: E3, sessionId: 's2', role: 'assistant' }),
        ];
        await insert(scope, records);
        const later = [
          rec('delta ibis', { embedding: E4 }),
          rec('epsilon crane', { embedding: E12, kind: 'fact' }),
        ];
        await insert(scope, later);
        const all = [...records, ...later];
        for (const r of all) if (r.embedding) vectors.set(r.id, r.embedding);
        const [r0, r1, , r3] = all;
        if (!r0 || !r1 || !r3) throw new Error('unreachable');
        const newText = 'alpha walrus moved to the aquarium';
        await store.updateItem(
          scope,
          r0.id,
          {
            content: {
              content: newText,
              index: ix(newText),
              derived: NO_DERIVED_KEYS,
              contentHash: contentHash(newText),
              embedding: E12,
            },
          },
          ctx('editor'),
        );
        vectors.set(r0.id, E12);
        await store.setStatus(scope, r3.id, 'deleted', 'delete', ctx('remover'));
        await store.updateItem(scope, r1.id, { metadata: { checked: true } }, ctx());
        return { ids: all.map((r) => r.id), indexTexts: all.map((r) => r.index.text), vectors, newText };
      }

      it('exports every item with its versions in insertion order', async () => {
        const scope = await cube();
        const { ids, newText } = await populated(scope);
        const bundles = await collect(store.exportItems(scope));
        expect(bundles.map((b) => b.item.id)).toEqual(ids);
        const items = await store.getItems(scope, ids);
        for (const [i, bundle] of bundles.entries()) {
          expect(bundle.item).toEqual(items[i]);
          expect(bundle.versions).toEqual(await store.history(scope, bundle.item.id));
        }
        expect(bundles[0]?.index.text).toBe(newText);
        expect(bundles[1]?.index.text).toBe('bob: beta pelican');
        expect(bundles.map((b) => b.versions.length)).toEqual([2, 2, 1, 2, 1]);
        expect(bundles[3]?.item.status).toBe('deleted');
      });

      it('round-trips items, versions and audit into a fresh store, creating the cube', async () => {
        const source = await cube('source');
        const { ids, vectors, newText } = await populated(source);
        const bundles = await collect(store.exportItems(source));
        const audit = await allAudit(store, source);

        const fresh = await openStore();
        extra.push(fresh);
        const dest: CubeScope = { tenant, cube: 'copy' };
        const importCtx = ctx('importer');
        await fresh.importItems(
          dest,
          bundles.map((b) => ({ ...b, embedding: vectors.get(b.item.id) ?? null })),
          audit,
          importCtx,
          EMB,
        );

        expect(await fresh.getCube(tenant, 'copy')).toMatchObject({ embedderId: 'test-emb', dimensions: 4 });
        const sourceItems = await store.getItems(source, ids);
        const copied = await fresh.getItems(dest, ids);
        expect(copied).toEqual(sourceItems.map((item) => ({ ...item, cube: 'copy' })));
        for (const id of ids) expect(await fresh.history(dest, id)).toEqual(await store.history(source, id));
        const reExported = await collect(fresh.exportItems(dest));
        expect(reExported).toEqual(bundles.map((b) => ({ ...b, item: { ...b.item, cube: 'copy' } })));

        // The audit history comes along, re-homed to the destination, followed by an import record.
        const copiedAudit = await allAudit(fresh, dest);
        const strip = (r: AuditRecord) => [
          r.at,
          r.itemId,
          r.operation,
          r.actor,
          r.versionBefore,
          r.versionAfter,
          r.details,
        ];
        expect(copiedAudit.filter((r) => r.at !== iso(importCtx.now)).map(strip)).toEqual(audit.map(strip));
        for (const r of copiedAudit) expect(r).toMatchObject({ tenant, cube: 'copy' });
        expect(copiedAudit.at(-1)).toMatchObject({ operation: 'import', actor: 'importer', itemId: null });

        // Indexes work on the copy: lexical on the current text, vectors for live items only.
        expect(idsOf(await fresh.searchLexical(dest, ['aquarium'], {}, 10, W))).toEqual([ids[0]]);
        expect(newText).toContain('aquarium');
        const byE4 = await fresh.searchVector(dest, E4, {}, 10);
        expect(idsOf(byE4)).not.toContain(ids[3]);
        const byE3 = await fresh.searchVector(dest, E3, {}, 1);
        expect(byE3[0]?.id).toBe(ids[2]);
        expect(byE3[0]?.score).toBeCloseTo(1, 4);
        const sourceStats = await store.stats(source);
        const copyStats = await fresh.stats(dest);
        expect(copyStats).toMatchObject({
          items: sourceStats.items,
          versions: sourceStats.versions,
          byKind: sourceStats.byKind,
          byStatus: sourceStats.byStatus,
          sessions: sourceStats.sessions,
        });

        // Restoring an imported deleted item brings its vector back.
        await fresh.setStatus(dest, ids[3] ?? '', 'active', 'restore', ctx());
        expect((await fresh.searchVector(dest, E4, {}, 1))[0]?.id).toBe(ids[3]);

        // New writes continue the imported session numbering and dedupe against imported items.
        const next = rec('zeta stork');
        await fresh.insertItems(dest, [next], ctx());
        expect((await fresh.getItems(dest, [next.id]))[0]?.turnIndex).toBe(4);
        expect(
          await fresh.insertItems(dest, [rec('gamma heron', { sessionId: 's2', role: 'assistant' })], ctx()),
        ).toEqual([{ id: ids[2], created: false }]);
      });

      it('rejects ids that already exist with a conflict and writes nothing', async () => {
        const source = await cube('source');
        const { ids, vectors } = await populated(source);
        const bundles = (await collect(store.exportItems(source))).map((b) => ({
          ...b,
          embedding: vectors.get(b.item.id) ?? null,
        }));
        const audit = await allAudit(store, source);

        const fresh = await openStore();
        extra.push(fresh);
        const dest: CubeScope = { tenant, cube: 'copy' };
        await fresh.importItems(dest, bundles, audit, ctx(), EMB);
        const before = await fresh.stats(dest);

        // The same bundles again, into the existing cube.
        await expect(fresh.importItems(dest, bundles, audit, ctx())).rejects.toMatchObject({
          code: 'conflict',
        });
        // A mix of new and existing ids: nothing of it is written.
        const newcomer = rec('brand new');
        const newBundle: ItemBundle & { embedding: Float32Array | null } = {
          item: { ...(bundles[0]?.item as MemoryItem), id: newcomer.id, content: 'brand new' },
          index: ix('brand new'),
          versions: [
            { ...(bundles[0]?.versions[0] as MemoryVersion), itemId: newcomer.id, content: 'brand new' },
          ],
          embedding: E1,
        };
        await expect(fresh.importItems(dest, [newBundle, ...bundles], [], ctx())).rejects.toMatchObject({
          code: 'conflict',
        });
        expect(await fresh.getItems(dest, [newcomer.id])).toEqual([]);
        expect(await fresh.stats(dest)).toEqual(before);
        expect(await fresh.searchLexical(dest, ['brand'], {}, 10, W)).toEqual([]);

        // With createWith, a conflicting import leaves no cube behind.
        const other: CubeScope = { tenant, cube: 'copy-two' };
        await expect(fresh.importItems(other, bundles, audit, ctx(), EMB)).rejects.toMatchObject({
          code: 'conflict',
        });
        expect(await fresh.getCube(tenant, 'copy-two')).toBeNull();
        expect((await fresh.listCubes(tenant)).map((c) => c.name)).toEqual(['copy']);

        // Importing into the source store itself conflicts too (ids are unique in a database).
        await expect(
          store.importItems({ tenant, cube: 'again' }, bundles, [], ctx(), EMB),
        ).rejects.toMatchObject({
          code: 'conflict',
        });
        expect(await store.getCube(tenant, 'again')).toBeNull();
        expect((await store.getItems(source, ids)).length).toBe(ids.length);
      });

      it('needs the cube to exist without createWith, and refuses createWith for an existing cube', async () => {
        const scope = await cube('present');
        const fresh = await openStore();
        extra.push(fresh);
        await expect(fresh.importItems({ tenant, cube: 'absent' }, [], [], ctx())).rejects.toMatchObject({
          code: 'not_found',
        });
        await expect(store.importItems(scope, [], [], ctx(), EMB)).rejects.toMatchObject({
          code: 'conflict',
        });
        expect((await store.stats(scope)).auditRecords).toBe(1);
      });

      it('pages through a large cube in export and indexTexts', async () => {
        const scope = await cube();
        const n = 520;
        const records = Array.from({ length: n }, (_, i) =>
          rec(`bulk item number ${i}`, { index: ix(`idx ${i}`), sessionId: `s${i % 7}` }),
        );
        await insert(scope, records);
        const exported = await collect(store.exportItems(scope));
        expect(exported.map((b) => b.item.id)).toEqual(records.map((r) => r.id));

        const reversed = records.map((r) => r.id).reverse();
        expect(idsOf(await store.getItems(scope, reversed))).toEqual(reversed);
        expect(
          (await store.listItems(scope, {}, { limit: n, order: 'desc' })).items.map((i) => i.id),
        ).toEqual(reversed);

        const pages = await collect(store.indexTexts(scope));
        expect(pages.every((p) => p.length > 0)).toBe(true);
        expect(pages.flat()).toEqual(records.map((r) => ({ id: r.id, text: r.index.text })));
      });
    });

    describe('indexTexts', () => {
      it('covers every item of the cube, any status, with the current index text', async () => {
        const scope = await cube();
        const a = rec('a text', { index: ix('speaker: a text') });
        const b = rec('b text');
        const c = rec('c text');
        await insert(scope, [a, b, c]);
        await store.setStatus(scope, c.id, 'deleted', 'delete', ctx());
        await store.updateItem(
          scope,
          b.id,
          {
            content: {
              content: 'b changed',
              index: ix('b changed'),
              derived: NO_DERIVED_KEYS,
              contentHash: contentHash('b changed'),
              embedding: null,
            },
          },
          ctx(),
        );
        const all = (await collect(store.indexTexts(scope))).flat();
        expect(all).toEqual([
          { id: a.id, text: 'speaker: a text' },
          { id: b.id, text: 'b changed' },
          { id: c.id, text: 'c text' },
        ]);
        const emptyScope = await cube('empty');
        expect((await collect(store.indexTexts(emptyScope))).flat()).toEqual([]);
      });
    });

    describe('replaceVectors', () => {
      it('switches the embedder identity and searches the new vectors only', async () => {
        const x = await cube('x');
        const y = await cube('y');
        const a = rec('apple', { embedding: E1 });
        const b = rec('banana', { embedding: E2 });
        const c = rec('cherry', { embedding: E3 });
        await insert(x, [a, b, c]);
        await store.setStatus(x, c.id, 'deleted', 'delete', ctx());
        const yItem = rec('y item', { embedding: E1 });
        await insert(y, [yItem]);

        const v3 = (...xs: number[]) => unit(...xs);
        const reCtx = ctx('reembedder');
        await store.replaceVectors(
          x,
          { id: 'emb-2', dimensions: 3 },
          new Map([
            [a.id, v3(0, 0, 1)],
            [b.id, v3(1, 0, 0)],
            [c.id, v3(0, 1, 0)],
          ]),
          reCtx,
        );

        expect(await store.getCube(tenant, 'x')).toMatchObject({ embedderId: 'emb-2', dimensions: 3 });
        expect((await store.listCubes(tenant)).find((cb) => cb.name === 'x')).toMatchObject({
          embedderId: 'emb-2',
          dimensions: 3,
        });
        const byB = await store.searchVector(x, v3(1, 0, 0), {}, 10);
        expect(byB[0]?.id).toBe(b.id);
        expect(byB[0]?.score).toBeCloseTo(1, 4);
        expect(sorted(idsOf(byB))).toEqual(sorted([a.id, b.id]));
        expect((await store.searchVector(x, v3(0, 0, 1), {}, 1))[0]?.id).toBe(a.id);
        expect((await store.searchVector(x, v3(0, 0, 1), { sessionIds: ['s1'] }, 1))[0]?.id).toBe(a.id);
        expect(idsOf(await store.searchVector(x, v3(0, 1, 0), { statuses: ['deleted'] }, 10))).toEqual([
          c.id,
        ]);
        expect((await store.stats(x)).vectors).toBe(3);
        expect((await allAudit(store, x)).at(-1)).toMatchObject({
          operation: 'reembed',
          actor: 'reembedder',
          itemId: null,
        });

        // Items, versions and the other cube are untouched.
        expect((await store.getItems(x, [a.id]))[0]?.version).toBe(1);
        expect(await store.getCube(tenant, 'y')).toMatchObject({ embedderId: 'test-emb', dimensions: 4 });
        const yHits = await store.searchVector(y, E1, {}, 10);
        expect(idsOf(yHits)).toEqual([yItem.id]);
        expect(yHits[0]?.score).toBeCloseTo(1, 4);

        // A restored item is searchable with its new vector.
        await store.setStatus(x, c.id, 'active', 'restore', ctx());
        expect((await store.searchVector(x, v3(0, 1, 0), {}, 1))[0]?.id).toBe(c.id);

        // Items missing from the map have no vector afterwards.
        await store.replaceVectors(x, { id: 'emb-3', dimensions: 4 }, new Map([[b.id, E4]]), ctx());
        expect(await store.getCube(tenant, 'x')).toMatchObject({ embedderId: 'emb-3', dimensions: 4 });
        expect(idsOf(await store.searchVector(x, E1, {}, 10))).toEqual([b.id]);
        expect((await store.stats(x)).vectors).toBe(1);
        expect(idsOf(await store.searchVector(y, E1, {}, 10))).toEqual([yItem.id]);

        // Down to lexical-only.
        await store.replaceVectors(x, { id: 'none', dimensions: 0 }, new Map(), ctx());
        expect(await store.getCube(tenant, 'x')).toMatchObject({ embedderId: 'none', dimensions: 0 });
        expect((await store.stats(x)).vectors).toBe(0);
        expect(sorted(idsOf(await store.searchLexical(x, ['apple', 'banana', 'cherry'], {}, 10, W)))).toEqual(
          sorted([a.id, b.id, c.id]),
        );
      });

      it('gives a lexical-only cube vectors', async () => {
        const scope = await cube('plain', { id: 'none', dimensions: 0 });
        const r = rec('now with vectors');
        await insert(scope, [r]);
        await store.replaceVectors(scope, EMB, new Map([[r.id, E2]]), ctx());
        expect(await store.getCube(tenant, 'plain')).toMatchObject({ embedderId: 'test-emb', dimensions: 4 });
        const hits = await store.searchVector(scope, E2, {}, 5);
        expect(idsOf(hits)).toEqual([r.id]);
        expect(hits[0]?.score).toBeCloseTo(1, 4);
      });
    });

    describe('embedding cache', () => {
      it('round-trips Float32Arrays exactly, keyed by embedder id', async () => {
        const small = new Float32Array([0.1, -2.5, 3e-8, 1234.5678]);
        const big = Float32Array.from({ length: 384 }, (_, i) => Math.sin(i * 1.3) / (i + 1));
        const h1 = contentHash('first text');
        const h2 = contentHash('second text');
        const h3 = contentHash('never cached');
        await store.putCachedEmbeddings('emb-a', [
          [h1, small],
          [h2, big],
        ]);

        const got = await store.getCachedEmbeddings('emb-a', [h1, h2, h3]);
        expect(sorted([...got.keys()])).toEqual(sorted([h1, h2]));
        expect(got.get(h1)).toBeInstanceOf(Float32Array);
        expect(Array.from(got.get(h1) ?? [])).toEqual(Array.from(small));
        expect(Array.from(got.get(h2) ?? [])).toEqual(Array.from(big));

        expect((await store.getCachedEmbeddings('emb-b', [h1, h2])).size).toBe(0);
        const other = new Float32Array([9, 8, 7]);
        await store.putCachedEmbeddings('emb-b', [[h1, other]]);
        expect(Array.from((await store.getCachedEmbeddings('emb-b', [h1])).get(h1) ?? [])).toEqual([9, 8, 7]);
        expect(Array.from((await store.getCachedEmbeddings('emb-a', [h1])).get(h1) ?? [])).toEqual(
          Array.from(small),
        );
        expect((await store.getCachedEmbeddings('emb-a', [])).size).toBe(0);
        await store.putCachedEmbeddings('emb-a', []);
      });
    });

    describe('index columns and session positions', () => {
      it('matches the context and keys columns, and weighs the columns as asked', async () => {
        const scope = await cube();
        const inText = rec('kayak trip planned', {
          index: { text: 'kayak trip planned', context: '', keys: '' },
        });
        const inContext = rec('yes, loved it', {
          index: { text: 'yes, loved it', context: 'how was the kayak trip', keys: '' },
        });
        const inKeys = rec('see photo', { index: { text: 'see photo', context: '', keys: 'Kayak Norway' } });
        await insert(scope, [inText, inContext, inKeys]);
        expect(sorted(idsOf(await store.searchLexical(scope, ['kayak'], {}, 10, W)))).toEqual(
          sorted([inText.id, inContext.id, inKeys.id]),
        );
        const contextFirst = await store.searchLexical(scope, ['kayak'], {}, 10, {
          text: 0.1,
          context: 10,
          keys: 0.1,
        });
        expect(contextFirst[0]?.id).toBe(inContext.id);
        const keysFirst = await store.searchLexical(scope, ['kayak'], {}, 10, {
          text: 0.1,
          context: 0.1,
          keys: 10,
        });
        expect(keysFirst[0]?.id).toBe(inKeys.id);
      });

      it('finds the last turns of a session and turns by position', async () => {
        const scope = await cube();
        const ids = await insert(scope, [rec('first'), rec('second'), rec('third')]);
        await insert(scope, [rec('elsewhere', { sessionId: 'other' })]);
        expect((await store.sessionTail(scope, 's1', 1)).map((t) => t.id)).toEqual([ids[2]]);
        expect((await store.sessionTail(scope, 's1', 2)).map((t) => t.id)).toEqual([ids[1], ids[2]]);
        expect((await store.sessionTail(scope, 's1', 5)).map((t) => t.content)).toEqual([
          'first',
          'second',
          'third',
        ]);
        expect(await store.sessionTail(scope, 'no-such-session', 3)).toEqual([]);
        await store.setStatus(scope, ids[2] as string, 'deleted', 'delete', ctx());
        expect((await store.sessionTail(scope, 's1', 2)).map((t) => t.content)).toEqual(['first', 'second']);
        await store.setStatus(scope, ids[2] as string, 'active', 'restore', ctx());
        const turns = await store.getTurns(
          scope,
          [
            { sessionId: 's1', turnIndex: 1 },
            { sessionId: 's1', turnIndex: 7 },
            { sessionId: 'other', turnIndex: 0 },
          ],
          {},
        );
        expect(turns.map((t) => t.content)).toEqual(['second', 'elsewhere']);
        await store.setStatus(scope, ids[1] as string, 'deleted', 'delete', ctx());
        expect(await store.getTurns(scope, [{ sessionId: 's1', turnIndex: 1 }], {})).toEqual([]);
        expect(
          (await store.getTurns(scope, [{ sessionId: 's1', turnIndex: 1 }], { statuses: ['deleted'] })).map(
            (t) => t.content,
          ),
        ).toEqual(['second']);
      });

      it('returns only the turns at the positions that pass the filter', async () => {
        const scope = await cube();
        await insert(scope, [
          rec('ann early', { speaker: 'Ann', tags: ['trip'], validFrom: Date.UTC(2024, 0, 1) }),
          rec('bob early', { speaker: 'Bob', tags: ['trip'], validFrom: Date.UTC(2024, 0, 1) }),
          rec('ann late', { speaker: 'Ann', validFrom: Date.UTC(2024, 5, 1) }),
        ]);
        const all = [0, 1, 2].map((turnIndex) => ({ sessionId: 's1', turnIndex }));
        const contents = async (filter: StoreItemFilter) =>
          (await store.getTurns(scope, all, filter)).map((t) => t.content);
        expect(await contents({ speakers: ['Ann'] })).toEqual(['ann early', 'ann late']);
        expect(await contents({ tags: ['trip'] })).toEqual(['ann early', 'bob early']);
        expect(await contents({ from: Date.UTC(2024, 2, 1) })).toEqual(['ann late']);
        expect(await contents({ speakers: ['Ann'], to: Date.UTC(2024, 2, 1) })).toEqual(['ann early']);
        expect(await contents({ sessionIds: ['other'] })).toEqual([]);
      });

      it('resolves a short id (the last 12 hex digits) within the cube only', async () => {
        const scope = await cube();
        const other = await cube('other');
        const [id] = await insert(scope, [rec('short id target')]);
        const suffix = (id as string).slice(-12);
        expect(await store.findIdsBySuffix(scope, suffix, 2)).toEqual([id]);
        expect(await store.findIdsBySuffix(other, suffix, 2)).toEqual([]);
        expect(await store.findIdsBySuffix(scope, '000000000000', 2)).toEqual([]);
      });
    });
  });
}

function isNonIncreasing(hits: ScoredId[]): boolean {
  return hits.every((h, i) => i === 0 || h.score <= (hits[i - 1]?.score ?? Number.POSITIVE_INFINITY) + 1e-9);
}
