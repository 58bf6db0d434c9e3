import { describe, expect, it } from 'vitest';
import { type MemoryItem, NO_DERIVED_KEYS } from '../../src/core/types.js';
import { packContext, renderContextLine, renderGroupHeading } from '../../src/retrieve/context.js';
import { countTokens, TOKENIZER } from '../../src/retrieve/tokens.js';

let counter = 0;
function item(overrides: Partial<MemoryItem> & { content: string; validFrom: string | null }): MemoryItem {
  counter++;
  const id = `0190f000-0000-7000-8000-${String(counter).padStart(12, '0')}`;
  return {
    id,
    cube: 'test',
    kind: 'episode',
    role: 'user',
    speaker: null,
    userId: null,
    agentId: null,
    sessionId: null,
    runId: null,
    turnIndex: null,
    createdAt: '2024-06-01T00:00:00.000Z',
    updatedAt: '2024-06-01T00:00:00.000Z',
    validTo: null,
    sourceIds: [],
    tags: [],
    metadata: {},
    contentHash: '0'.repeat(64),
    derived: NO_DERIVED_KEYS,
    status: 'active',
    version: 1,
    ...overrides,
  };
}

const cand = (i: MemoryItem, score: number) => ({ item: i, score });

describe('renderContextLine and renderGroupHeading', () => {
  it('prints time to the minute, the speaker, the text with newlines folded, and the short id', () => {
    const i = item({
      content: 'I joined a support group.\n\nIt meets on Tuesdays.',
      validFrom: '2023-05-08T13:56:42.123Z',
      speaker: 'Caroline',
      sessionId: 's1',
    });
    expect(renderContextLine(i)).toBe(
      `[13:56] Caroline: I joined a support group. It meets on Tuesdays. #${i.id.slice(-12)}`,
    );
    expect(renderGroupHeading(i)).toBe('## 2023-05-08 (Mon) · session s1');
  });

  it('falls back to the role without a speaker, and to record time without an event time', () => {
    const i = item({
      content: 'Noted.',
      validFrom: null,
      role: 'assistant',
      createdAt: '2024-01-02T03:04:05.000Z',
    });
    expect(renderContextLine(i)).toBe(`[03:04] assistant: Noted. #${i.id.slice(-12)}`);
    expect(renderGroupHeading(i)).toBe('## 2024-01-02 (Tue)');
  });

  it('says when a memory is not active, so a prompt can tell a deleted one', () => {
    const i = item({
      content: 'I live in Rome.',
      validFrom: '2024-01-02T03:04:00.000Z',
      speaker: 'Ann',
      status: 'deleted',
    });
    expect(renderContextLine(i)).toBe(`[03:04] Ann: I live in Rome. (deleted) #${i.id.slice(-12)}`);
  });

  it('says from which day a memory is no longer true, so a prompt can tell a replaced fact', () => {
    const i = item({
      content: 'I live in Rome.',
      validFrom: '2024-01-02T03:04:00.000Z',
      validTo: '2024-06-10T12:00:00.000Z',
      speaker: 'Ann',
    });
    expect(renderContextLine(i)).toBe(`[03:04] Ann: I live in Rome. (until 2024-06-10) #${i.id.slice(-12)}`);
  });
});

describe('packContext', () => {
  it('prints the chosen items oldest first under one heading per day and session, whatever their rank', () => {
    const oldest = item({ content: 'oldest', validFrom: '2024-01-01T10:00:00.000Z', sessionId: 'a' });
    const middle = item({ content: 'middle', validFrom: '2024-01-01T11:00:00.000Z', sessionId: 'a' });
    const newest = item({ content: 'newest', validFrom: '2024-02-01T09:00:00.000Z', sessionId: 'b' });
    const pack = packContext([cand(newest, 0.9), cand(oldest, 0.5), cand(middle, 0.3)], 2000);
    const lines = pack.text.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[1]).toBe(renderGroupHeading(oldest));
    expect(lines[2]).toBe(renderContextLine(oldest));
    expect(lines[3]).toBe(renderContextLine(middle));
    expect(lines[4]).toBe(renderGroupHeading(newest));
    expect(lines[5]).toBe(renderContextLine(newest));
    expect(pack.items.map((p) => p.id)).toEqual([oldest.id, middle.id, newest.id]);
    expect(pack.tokens).toBe(countTokens(pack.text));
    expect(pack.tokenizer).toBe(TOKENIZER);
  });

  it('orders equal event times by session, then turn', () => {
    const t = '2024-03-03T03:03:00.000Z';
    const b1 = item({ content: 'b1', validFrom: t, sessionId: 'b', turnIndex: 1 });
    const a0 = item({ content: 'a0', validFrom: t, sessionId: 'a', turnIndex: 0 });
    const b0 = item({ content: 'b0', validFrom: t, sessionId: 'b', turnIndex: 0 });
    const pack = packContext([cand(b1, 3), cand(a0, 2), cand(b0, 1)], 2000);
    expect(pack.items.map((p) => p.id)).toEqual([a0.id, b0.id, b1.id]);
  });

  it('never exceeds the budget, skipping a long item but packing a later shorter one', () => {
    const t = '2024-01-01T00:00:00.000Z';
    const short1 = item({ content: 'short one', validFrom: t });
    const long = item({ content: 'word '.repeat(400), validFrom: t });
    const short2 = item({ content: 'short two', validFrom: t });
    const pack = packContext([cand(short1, 3), cand(long, 2), cand(short2, 1)], 120);
    expect(pack.tokens).toBeLessThanOrEqual(120);
    expect(pack.items.map((p) => p.id).sort()).toEqual([short1.id, short2.id].sort());
    expect(pack.omitted).toBe(1);
  });

  it('packs by priority: when only one fits, the higher score wins', () => {
    const t = '2024-01-01T00:00:00.000Z';
    const low = item({ content: 'low priority memory', validFrom: t });
    const high = item({ content: 'high priority memory', validFrom: t });
    // Room for one line and a few tokens of slack, far less than a second line needs.
    const onlyOne = countTokens(packContext([cand(high, 1)], 2000).text) + 4;
    const pack = packContext([cand(low, 0.1), cand(high, 0.9)], onlyOne);
    expect(pack.items.map((p) => p.id)).toEqual([high.id]);
    expect(pack.omitted).toBe(1);
  });

  it('with a length penalty, packs two short lines before one long line of a slightly higher score', () => {
    const t = '2024-01-01T00:00:00.000Z';
    const long = item({ content: 'word '.repeat(400), validFrom: t });
    const short1 = item({ content: 'short one', validFrom: t });
    const short2 = item({ content: 'short two', validFrom: t });
    const candidates = [cand(long, 1), cand(short1, 0.6), cand(short2, 0.5)];
    // Room for the long line alone, or for both short ones.
    const budget = countTokens(packContext([cand(long, 1)], 2000).text) + 4;
    expect(packContext(candidates, budget).items.map((p) => p.id)).toEqual([long.id]);
    // The long line (~400 tokens) is packed at 1 × (20 / 400)^0.5 ≈ 0.22, below both short ones.
    const penalised = packContext(candidates, budget, {
      lengthPenalty: { exponent: 0.5, typicalTokens: 20 },
    });
    expect(penalised.items.map((p) => p.id).sort()).toEqual([short1.id, short2.id].sort());
    expect(penalised.items.find((p) => p.id === short1.id)?.score).toBe(0.6);
  });

  it('with times when changed, prints a time only when it differs from the line above in its group', () => {
    const at = (t: string, turnIndex: number, sessionId = 's1') =>
      item({ content: `turn ${turnIndex}`, validFrom: `2024-05-01T${t}.000Z`, sessionId, turnIndex });
    const first = at('10:00:00', 0);
    const sameMinute = at('10:00:30', 1);
    const nextMinute = at('10:01:10', 2);
    const otherSession = at('10:01:20', 0, 's2');
    const candidates = [first, sameMinute, nextMinute, otherSession].map((i) => cand(i, 1));
    const pack = packContext(candidates, 2000, { timesWhenChanged: true });
    expect(pack.text.split('\n').slice(1)).toEqual([
      renderGroupHeading(first),
      renderContextLine(first),
      renderContextLine(sameMinute, false),
      renderContextLine(nextMinute),
      renderGroupHeading(otherSession),
      renderContextLine(otherSession),
    ]);
    expect(pack.items.find((p) => p.id === sameMinute.id)?.tokens).toBe(
      countTokens(renderContextLine(sameMinute, false)) + 1,
    );
  });

  it('with times when changed, fits more lines of one minute into the same budget', () => {
    const turns = Array.from({ length: 12 }, (_, i) =>
      item({
        content: `short turn number ${i}`,
        validFrom: `2024-05-01T10:00:${String(i).padStart(2, '0')}.000Z`,
        turnIndex: i,
      }),
    );
    // Offered newest first, so each line is inserted above the lines already chosen.
    const candidates = turns.map((t, i) => cand(t, i + 1));
    // Room for about 9 of the 12 lines when each prints its time.
    const budget = 200;
    const everyTime = packContext(candidates, budget);
    const whenChanged = packContext(candidates, budget, { timesWhenChanged: true });
    expect(everyTime.items.length).toBeLessThan(12);
    // A line without its time costs 12 tokens instead of 18: two more lines fit.
    expect(whenChanged.items.length).toBeGreaterThanOrEqual(everyTime.items.length + 2);
    expect(whenChanged.tokens).toBeLessThanOrEqual(budget);
    expect(whenChanged.text.match(/\[10:00\]/g)).toHaveLength(1);
  });

  it('gives empty text and zero tokens when nothing is offered or nothing fits', () => {
    expect(packContext([], 500)).toMatchObject({ text: '', tokens: 0, items: [], omitted: 0 });
    const big = item({ content: 'word '.repeat(200), validFrom: '2024-01-01T00:00:00.000Z' });
    expect(packContext([cand(big, 1)], 60)).toMatchObject({ text: '', tokens: 0, items: [], omitted: 1 });
  });
});
