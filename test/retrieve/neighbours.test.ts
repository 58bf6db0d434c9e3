import { describe, expect, it } from 'vitest';
import { withNeighbours } from '../../src/retrieve/neighbours.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { rec } from '../store/conformance.js';

/** Turns t0..t5 of one session, Ann and Bob taking turns (Ann first), or all `oneSpeaker`'s. */
async function sessionOfSix(oneSpeaker?: string | null) {
  const store = SqliteStore.open(':memory:');
  const scope = { tenant: 'default', cube: 'c' };
  const ctx = { actor: 'test', now: Date.UTC(2024, 0, 1) };
  await store.createCube('default', 'c', { id: 'none', dimensions: 0 }, ctx);
  const outcomes = await store.insertItems(
    scope,
    ['t0', 't1', 't2', 't3', 't4', 't5'].map((t, i) =>
      rec(t, {
        sessionId: 's',
        speaker: oneSpeaker !== undefined ? oneSpeaker : i % 2 === 0 ? 'Ann' : 'Bob',
      }),
    ),
    ctx,
  );
  const items = await store.getItems(
    scope,
    outcomes.map((o) => o.id),
  );
  return { store, scope, ctx, items };
}

describe('withNeighbours', () => {
  it('offers the turns around each hit at share^distance of its score, skipping deleted turns', async () => {
    const { store, scope, ctx, items } = await sessionOfSix();
    await store.setStatus(scope, items[4]?.id as string, 'deleted', 'delete', ctx);
    const hit = { item: items[2] as (typeof items)[number], score: 1, channels: {} };
    const pool = await withNeighbours(store, scope, [hit], {}, { radius: 2, share: 0.5, maxHitChars: 200 });
    expect(Object.fromEntries(pool.map((c) => [c.item.content, c.score]))).toEqual({
      t2: 1,
      t1: 0.5,
      t3: 0.5,
      t0: 0.25,
    });
    await store.close();
  });

  it('keeps the better score when a neighbour is also a hit, and returns the hits alone at radius 0', async () => {
    const { store, scope, items } = await sessionOfSix();
    const hits = [
      { item: items[1] as (typeof items)[number], score: 1, channels: {} },
      { item: items[2] as (typeof items)[number], score: 0.2, channels: {} },
    ];
    const pool = await withNeighbours(store, scope, hits, {}, { radius: 1, share: 0.5, maxHitChars: 200 });
    expect(Object.fromEntries(pool.map((c) => [c.item.content, c.score]))).toEqual({
      t0: 0.5,
      t1: 1,
      t2: 0.5,
      t3: 0.1,
    });
    expect(
      (await withNeighbours(store, scope, hits, {}, { radius: 0, share: 0.5, maxHitChars: 200 })).map(
        (c) => c.item.content,
      ),
    ).toEqual(['t1', 't2']);
    await store.close();
  });

  it('brings no neighbours for a hit longer than maxHitChars, which stands on its own', async () => {
    const { store, scope, items } = await sessionOfSix();
    const long = { ...(items[2] as (typeof items)[number]), content: 'x'.repeat(201) };
    const short = items[2] as (typeof items)[number];
    const opts = { radius: 1, share: 0.5, maxHitChars: 200 };
    const ofLong = await withNeighbours(store, scope, [{ item: long, score: 1, channels: {} }], {}, opts);
    expect(ofLong.map((c) => c.item.id)).toEqual([long.id]);
    const ofShort = await withNeighbours(store, scope, [{ item: short, score: 1, channels: {} }], {}, opts);
    expect(ofShort.map((c) => c.item.content).sort()).toEqual(['t1', 't2', 't3']);
    await store.close();
  });

  it("offers only neighbours that pass the search's filter", async () => {
    const { store, scope, items } = await sessionOfSix();
    const hit = { item: items[2] as (typeof items)[number], score: 1, channels: {} };
    const options = { radius: 2, share: 0.5, maxHitChars: 200 };
    expect(
      (await withNeighbours(store, scope, [hit], { roles: ['user'] }, options))
        .map((c) => c.item.content)
        .sort(),
    ).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect((await withNeighbours(store, scope, [hit], { roles: ['assistant'] }, options)).length).toBe(1);
    // A filter that keeps Ann's turns only still sees Bob's answers between hers.
    const pool = await withNeighbours(store, scope, [hit], { speakers: ['Ann'] }, options);
    expect(pool.map((c) => c.item.content).sort()).toEqual(['t0', 't2', 't4']);
    await store.close();
  });

  it("offers no turn of the hit's own party unless another party's lies between: notes are no conversation", async () => {
    const options = { radius: 2, share: 0.5, maxHitChars: 200 };
    for (const oneSpeaker of [null, 'Ann']) {
      const { store, scope, items } = await sessionOfSix(oneSpeaker);
      const hit = { item: items[2] as (typeof items)[number], score: 1, channels: {} };
      expect((await withNeighbours(store, scope, [hit], {}, options)).map((c) => c.item.content)).toEqual([
        't2',
      ]);
      const filtered = await withNeighbours(store, scope, [hit], { roles: ['user'] }, options);
      expect(filtered.map((c) => c.item.content)).toEqual(['t2']);
      await store.close();
    }
  });
});
