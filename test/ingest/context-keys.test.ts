import { describe, expect, it } from 'vitest';
import { DEFAULT_INGEST_CONFIG } from '../../src/core/config.js';
import {
  contextKeysAround,
  readsEnough,
  type SessionTurn,
  sessionContextKeys,
} from '../../src/ingest/derive/context-keys.js';
import { contextOf } from '../../src/ingest/derive/derive-keys.js';

const config = { ...DEFAULT_INGEST_CONFIG, contextTurns: 2 };

/** Turns 0..n-1 of one session, Ann's and Bo's by turns, each keyed as `add` keys it with every turn active. */
function session(n: number): SessionTurn[] {
  const turns: SessionTurn[] = [];
  for (let i = 0; i < n; i++) {
    const turn = {
      id: `t${i}`,
      status: 'active',
      turnIndex: i,
      speaker: i % 2 === 0 ? 'Ann' : 'Bo',
      role: 'user',
      content: `line ${i}`,
    };
    turns.push({ ...turn, derived: { context: contextOf(turn, turns, config) } });
  }
  return turns;
}

describe('contextKeysAround', () => {
  it('rekeys the turns after a deleted one up to the contextTurns-th active turn, and no other', () => {
    const turns = session(6);
    const deleted = { ...(turns[1] as SessionTurn), status: 'deleted' };
    // Without Bo's turn, Ann's second turn answers no one: it has no key.
    expect(contextKeysAround(deleted, turns, config, false)).toEqual([
      { id: 't2', context: null },
      { id: 't3', context: 'Ann: line 0\nAnn: line 2' },
    ]);
    // Nothing changed: nothing to write.
    expect(contextKeysAround(turns[1] as SessionTurn, turns, config, true)).toEqual([]);
  });

  it('counts only active turns toward the reach, and keys a restored turn by the turns now before it', () => {
    const turns = session(6).map((t) => (t.turnIndex === 2 ? { ...t, status: 'deleted' } : t));
    const deleted = { ...(turns[1] as SessionTurn), status: 'deleted' };
    // t2 is deleted, so the reach runs to t4, the second active turn after t1.
    expect(contextKeysAround(deleted, turns, config, false).map((u) => u.id)).toEqual(['t2', 't3', 't4']);
    const restored = { ...(turns[2] as SessionTurn), status: 'active', derived: { context: null } };
    expect(contextKeysAround(restored, turns, config, true)[0]).toEqual({
      id: 't2',
      context: 'Ann: line 0\nBo: line 1',
    });
  });
});

describe('readsEnough', () => {
  const changed = { turnIndex: 10 };
  it('needs MAX_CONTEXT_TURNS active turns after, contextTurns before, or a read reaching past the ends', () => {
    const all = session(40);
    const window = { from: 8, to: 20 };
    const around = all.slice(8, 21);
    expect(readsEnough(changed, around, window, config)).toBe(true);
    // One deleted turn after it: ten active turns after it are no longer read.
    const deletedAfter = around.map((t) => (t.turnIndex === 15 ? { ...t, status: 'deleted' } : t));
    expect(readsEnough(changed, deletedAfter, window, config)).toBe(false);
    // Nothing at turn 20: the session ends inside the read.
    expect(readsEnough(changed, deletedAfter.slice(0, -1), window, config)).toBe(true);
    const deletedBefore = around.map((t) => (t.turnIndex < 10 ? { ...t, status: 'deleted' } : t));
    expect(readsEnough(changed, deletedBefore, window, config)).toBe(false);
    expect(readsEnough(changed, deletedBefore, { ...window, from: 0 }, config)).toBe(true);
  });
});

describe('sessionContextKeys', () => {
  it('keys every turn, deleted ones too, by the active turns before it, and returns only the changed keys', () => {
    const turns = session(5);
    expect(sessionContextKeys(turns, config)).toEqual([]);
    // Deleted with its followers' keys left as they were, as an older memcube deleted.
    const stale = turns.map((t) => (t.id === 't1' ? { ...t, status: 'deleted' } : t));
    expect(sessionContextKeys([...stale].reverse(), config)).toEqual([
      { id: 't2', context: null },
      { id: 't3', context: 'Ann: line 0\nAnn: line 2' },
    ]);
    // Under a shorter contextTurns every key after the first two shrinks.
    expect(sessionContextKeys(turns, { ...config, contextTurns: 1 }).map((u) => u.context)).toEqual([
      'Bo: line 1',
      'Ann: line 2',
      'Bo: line 3',
    ]);
  });

  it("clears the keys of a session whose turns are all one party's, as an older memcube keyed them", () => {
    // A user's notes added one by one to a session: the keys older builds gave them.
    const notes = session(3).map((t) => ({
      ...t,
      speaker: null,
      derived: { context: t.turnIndex === 0 ? null : `line ${t.turnIndex - 1}` },
    }));
    expect(sessionContextKeys(notes, config)).toEqual([
      { id: 't1', context: null },
      { id: 't2', context: null },
    ]);
  });
});
