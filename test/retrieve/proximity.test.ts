import { describe, expect, it } from 'vitest';
import type { FusedHit } from '../../src/retrieve/fusion.js';
import { ItemLoader } from '../../src/retrieve/item-loader.js';
import { liftNeighbours } from '../../src/retrieve/proximity.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { rec } from '../store/conformance.js';

const OPTIONS = { seeds: 10, radius: 2, share: 0.5, maxSeedChars: 200 };

/**
 * One session of turns t0..t5 (t5 of `longLast` characters when given), Ann and Bob taking turns
 * unless `speakerOf` says otherwise, and a second session s2.
 */
async function conversation(
  longLast?: number,
  speakerOf = (i: number): string | null => (i % 2 === 0 ? 'Ann' : 'Bob'),
) {
  const store = SqliteStore.open(':memory:');
  const scope = { tenant: 'default', cube: 'c' };
  const ctx = { actor: 'test', now: Date.UTC(2024, 0, 1) };
  await store.createCube('default', 'c', { id: 'none', dimensions: 0 }, ctx);
  const texts = ['t0', 't1', 't2', 't3', 't4', longLast ? `t5 ${'x'.repeat(longLast)}` : 't5'];
  const outcomes = await store.insertItems(
    scope,
    [
      ...texts.map((t, i) => rec(t, { sessionId: 's', speaker: speakerOf(i) })),
      rec('other', { sessionId: 's2' }),
    ],
    ctx,
  );
  const ids = outcomes.map((o) => o.id);
  const content = new Map((await store.getItems(scope, ids)).map((i) => [i.id, i.content.slice(0, 5)]));
  return { store, scope, ctx, ids, content };
}

const hit = (id: string, score: number): FusedHit => ({
  id,
  score,
  channels: { lexical: { rank: 1, score: 9 } },
});

describe('liftNeighbours', () => {
  it('lends share^distance of a seed score to the turns around it, adding up, and ranks new turns in', async () => {
    const { store, scope, ids, content } = await conversation();
    const [t0, t1, t2, , t4] = ids as string[];
    const ranked = await liftNeighbours(
      store,
      scope,
      new ItemLoader(store, scope),
      [hit(t2 as string, 1), hit(t4 as string, 0.5)],
      {},
      OPTIONS,
    );
    const scores = Object.fromEntries(ranked.map((h) => [content.get(h.id), h.score]));
    // t3 lies one turn from both seeds: 0.5 × 1 + 0.5 × 0.5. t2 would get 0.125 from t4, but a
    // turn is lifted to just below its lender at most, and t2 is above t4 already.
    expect(scores).toEqual({ t2: 1, t3: 0.75, t4: 0.5 + 0.25, t1: 0.5, t5: 0.25, t0: 0.25 });
    expect(ranked[0]?.channels.proximity).toBeUndefined();
    // Ties keep their order: t4, a fused hit, before t3, new; t0 and t5 in order of id.
    expect(ranked.map((h) => content.get(h.id))).toEqual(['t2', 't4', 't3', 't1', 't0', 't5']);
    const t3Hit = ranked.find((h) => content.get(h.id) === 't3');
    expect(t3Hit?.channels).toEqual({ proximity: { rank: 1, score: 0.75 } });
    // A seed that is also lifted keeps its channel scores and reports the lift beside them.
    expect(ranked.find((h) => h.id === t2)?.channels.lexical).toEqual({ rank: 1, score: 9 });
    expect(ranked.find((h) => h.id === t0)?.channels.proximity?.score).toBe(0.25);
    expect(ranked.some((h) => h.id === t1)).toBe(true);
    await store.close();
  });

  it('lends nothing from a long seed, gives a long turn less, and skips deleted turns', async () => {
    const { store, scope, ctx, ids, content } = await conversation(390);
    const [, , , t3, t4, t5] = ids as string[];
    await store.setStatus(scope, t3 as string, 'deleted', 'delete', ctx);
    const ranked = await liftNeighbours(
      store,
      scope,
      new ItemLoader(store, scope),
      [hit(t4 as string, 1), hit(t5 as string, 0.3)],
      {},
      OPTIONS,
    );
    const scores = Object.fromEntries(ranked.map((h) => [content.get(h.id), h.score]));
    // t5 (393 characters) lends nothing and receives 0.5 × 200/393 of t4's score. With Bob's t3
    // deleted, Ann's t2 is no longer an exchange away from her t4: it gets nothing.
    expect(scores).toEqual({ t4: 1, 't5 xx': 0.3 + 0.5 * (200 / 393) });
    await store.close();
  });

  it('lifts only turns that pass the search filter', async () => {
    const { store, scope, ids, content } = await conversation();
    const [, , t2] = ids as string[];
    const ranked = await liftNeighbours(
      store,
      scope,
      new ItemLoader(store, scope),
      [hit(t2 as string, 1)],
      { roles: ['user'] },
      OPTIONS,
    );
    expect(ranked.map((h) => content.get(h.id)).sort()).toEqual(['t0', 't1', 't2', 't3', 't4']);
    // The filter keeps Ann's turns only; Bob's answers between them still link them.
    const annOnly = await liftNeighbours(
      store,
      scope,
      new ItemLoader(store, scope),
      [hit(t2 as string, 1)],
      { speakers: ['Ann'] },
      OPTIONS,
    );
    expect(annOnly.map((h) => content.get(h.id)).sort()).toEqual(['t0', 't2', 't4']);
    await store.close();
  });

  it("lends to a turn of the seed's own party only past another party's turn", async () => {
    // Ann's t0..t2, Bob's t3, Ann's t4 and t5.
    const mixed = await conversation(undefined, (i) => (i === 3 ? 'Bob' : 'Ann'));
    const [, , t2] = mixed.ids as string[];
    const ranked = await liftNeighbours(
      mixed.store,
      mixed.scope,
      new ItemLoader(mixed.store, mixed.scope),
      [hit(t2 as string, 1)],
      {},
      OPTIONS,
    );
    expect(Object.fromEntries(ranked.map((h) => [mixed.content.get(h.id), h.score]))).toEqual({
      t2: 1,
      t3: 0.5,
      t4: 0.25,
    });
    await mixed.store.close();
    // A user's notes, no speaker: nothing is lifted.
    const notes = await conversation(undefined, () => null);
    const fused = [hit(notes.ids[2] as string, 1), hit(notes.ids[3] as string, 0.5)];
    const lifted = await liftNeighbours(
      notes.store,
      notes.scope,
      new ItemLoader(notes.store, notes.scope),
      fused,
      {},
      OPTIONS,
    );
    expect(lifted).toBe(fused);
    await notes.store.close();
  });

  it('lifts a turn to just below its best lender, never past it', async () => {
    const { store, scope, ids, content } = await conversation();
    const [, t1, t2, t3] = ids as string[];
    const share = { ...OPTIONS, radius: 1, share: 1 };
    const ranked = await liftNeighbours(
      store,
      scope,
      new ItemLoader(store, scope),
      [hit(t2 as string, 1), hit(t3 as string, 0.9)],
      {},
      share,
    );
    expect(ranked.map((h) => content.get(h.id))).toEqual(['t2', 't3', 't1', 't4']);
    // t3 is offered 1 by t2 and t1 is offered 1: each stays a hair below t2.
    expect(ranked[1]?.score).toBeLessThan(1);
    expect(ranked[1]?.score).toBeCloseTo(1, 6);
    expect(ranked.find((h) => h.id === t1)?.score).toBeCloseTo(1, 6);
    expect(ranked.find((h) => h.id === t1)?.score).toBeLessThan(1);
    await store.close();
  });

  it('changes nothing with no seeds, radius 0 or share 0', async () => {
    const { store, scope, ids } = await conversation();
    const fused = [hit(ids[2] as string, 1)];
    for (const change of [{ seeds: 0 }, { radius: 0 }, { share: 0 }]) {
      expect(
        await liftNeighbours(
          store,
          scope,
          new ItemLoader(store, scope),
          fused,
          {},
          { ...OPTIONS, ...change },
        ),
      ).toBe(fused);
    }
    await store.close();
  });
});
