import { describe, expect, it } from 'vitest';
import type { MemoryItem, SearchHit } from '../../src/core/types.js';
import { packContext, renderContextLine } from '../../src/retrieve/context.js';
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
    status: 'active',
    version: 1,
    ...overrides,
  };
}

function hit(i: MemoryItem, score: number): SearchHit {
  return { item: i, score, channels: { lexical: { rank: 1, score } } };
}

/** What one packed line costs against the budget: its tokens plus the newline. */
function lineCost(i: MemoryItem): number {
  return countTokens(renderContextLine(i)) + 1;
}

const HEADER_PREFIX = 'Relevant memories';

/** What the header line costs against the budget, read from a real pack. */
function headerCost(): number {
  const pack = packContext([hit(item({ content: 'probe', validFrom: null }), 1)], 2000);
  const header = pack.text.split('\n')[0] ?? '';
  expect(header.startsWith(HEADER_PREFIX)).toBe(true);
  return countTokens(header) + 1;
}

describe('renderContextLine', () => {
  it('shows event time to the minute, session, speaker, role and id, with newlines folded', () => {
    const i = item({
      content: 'I joined a support group.\n\nIt meets on Tuesdays.',
      validFrom: '2023-05-08T13:56:42.123Z',
      speaker: 'Caroline',
      role: 'user',
      sessionId: 's1',
    });
    expect(renderContextLine(i)).toBe(
      `[2023-05-08 13:56 UTC | session s1 | Caroline (user) | id ${i.id}] I joined a support group. It meets on Tuesdays.`,
    );
  });

  it('falls back to the role without a speaker and to record time without an event time', () => {
    const i = item({
      content: 'Noted.',
      validFrom: null,
      role: 'assistant',
      createdAt: '2024-01-02T03:04:05.000Z',
    });
    expect(renderContextLine(i)).toBe(`[2024-01-02 03:04 UTC | assistant | id ${i.id}] Noted.`);
  });
});

describe('packContext', () => {
  it('prints the packed items oldest first, whatever their rank', () => {
    const newest = item({
      content: 'Newest: moved to Lisbon.',
      validFrom: '2024-03-01T10:00:00.000Z',
      speaker: 'Ana',
    });
    const oldest = item({
      content: 'Oldest: lived in Porto.',
      validFrom: '2022-01-01T10:00:00.000Z',
      speaker: 'Ana',
    });
    const middle = item({
      content: 'Middle: visited Madrid.',
      validFrom: '2023-06-15T10:00:00.000Z',
      speaker: 'Ana',
    });
    const pack = packContext([hit(newest, 0.9), hit(oldest, 0.5), hit(middle, 0.3)], 2000);

    expect(pack.items.map((p) => p.id)).toEqual([oldest.id, middle.id, newest.id]);
    expect(pack.items.map((p) => p.score)).toEqual([0.5, 0.3, 0.9]);
    const lines = pack.text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]?.startsWith(HEADER_PREFIX)).toBe(true);
    expect(lines.slice(1)).toEqual([
      renderContextLine(oldest),
      renderContextLine(middle),
      renderContextLine(newest),
    ]);
    expect(lines[1]).toContain('2022-01-01 10:00 UTC');
    expect(lines[1]).toContain('Ana (user)');
    expect(lines[1]).toContain(`id ${oldest.id}`);
    expect(pack.omitted).toBe(0);
    expect(pack.tokens).toBe(countTokens(pack.text));
    expect(pack.tokenBudget).toBe(2000);
    expect(pack.tokenizer).toBe(TOKENIZER);
    expect(pack.items.map((p) => p.tokens)).toEqual([lineCost(oldest), lineCost(middle), lineCost(newest)]);
  });

  it('orders equal event times by session, then turn', () => {
    const t = '2024-01-01T00:00:00.000Z';
    const b1 = item({ content: 'b turn 1', validFrom: t, sessionId: 'b', turnIndex: 1 });
    const a0 = item({ content: 'a turn 0', validFrom: t, sessionId: 'a', turnIndex: 0 });
    const b0 = item({ content: 'b turn 0', validFrom: t, sessionId: 'b', turnIndex: 0 });
    const pack = packContext([hit(b1, 3), hit(a0, 2), hit(b0, 1)], 2000);
    expect(pack.items.map((p) => p.id)).toEqual([a0.id, b0.id, b1.id]);
  });

  it('never exceeds the budget, skipping a long item but packing a later shorter one', () => {
    const short1 = item({ content: 'Short one about the garden.', validFrom: '2024-01-01T00:00:00.000Z' });
    const long = item({
      content: Array.from(
        { length: 120 },
        (_, i) => `sentence ${i} about the garden and its many plants`,
      ).join('. '),
      validFrom: '2024-01-02T00:00:00.000Z',
    });
    const short2 = item({ content: 'Short two about the garden.', validFrom: '2024-01-03T00:00:00.000Z' });
    const budget = 200;
    expect(lineCost(long)).toBeGreaterThan(budget);
    expect(headerCost() + lineCost(short1) + lineCost(short2)).toBeLessThanOrEqual(budget);
    const pack = packContext([hit(short1, 3), hit(long, 2), hit(short2, 1)], budget);
    expect(pack.items.map((p) => p.id)).toEqual([short1.id, short2.id]);
    expect(pack.omitted).toBe(1);
    expect(pack.tokens).toBeLessThanOrEqual(budget);
    expect(pack.tokens).toBe(countTokens(pack.text));
    expect(pack.text).not.toContain(long.id);
  });

  it('fills a budget exactly and stops one token short', () => {
    const a = item({ content: 'Alpha memory.', validFrom: '2024-01-01T00:00:00.000Z' });
    const b = item({ content: 'Beta memory.', validFrom: '2024-01-02T00:00:00.000Z' });
    // A budget that fits header + a + b exactly.
    const exact = headerCost() + lineCost(a) + lineCost(b);
    const both = packContext([hit(a, 2), hit(b, 1)], exact);
    expect(both.items.map((p) => p.id)).toEqual([a.id, b.id]);
    expect(both.tokens).toBeLessThanOrEqual(exact);
    const tight = packContext([hit(a, 2), hit(b, 1)], exact - 1);
    expect(tight.items.map((p) => p.id)).toEqual([a.id]);
    expect(tight.omitted).toBe(1);
    expect(tight.tokens).toBeLessThanOrEqual(exact - 1);
  });

  it('counts every ranked candidate that did not fit as omitted', () => {
    const items = Array.from({ length: 6 }, (_, i) =>
      item({
        content: `Memory number ${i} with a little text to take some room.`,
        validFrom: `2024-01-0${i + 1}T00:00:00.000Z`,
      }),
    );
    // Room for exactly three lines (every line costs the same here).
    const costs = items.map(lineCost);
    expect(new Set(costs).size).toBe(1);
    const budget = headerCost() + 3 * (costs[0] ?? 0) + 1;
    const pack = packContext(
      items.map((i, n) => hit(i, 6 - n)),
      budget,
    );
    // Greedy by rank: the top three are packed, the other three omitted.
    expect(pack.items.map((p) => p.id)).toEqual(items.slice(0, 3).map((i) => i.id));
    expect(pack.omitted).toBe(3);
    expect(pack.tokens).toBeLessThanOrEqual(budget);
  });

  it('gives empty text and zero tokens when nothing is ranked or nothing fits', () => {
    const empty = packContext([], 500);
    expect(empty).toEqual({
      text: '',
      tokens: 0,
      tokenBudget: 500,
      tokenizer: TOKENIZER,
      items: [],
      omitted: 0,
    });

    const big = item({ content: 'word '.repeat(400).trim(), validFrom: '2024-01-01T00:00:00.000Z' });
    const none = packContext([hit(big, 1)], 60);
    expect(none.text).toBe('');
    expect(none.tokens).toBe(0);
    expect(none.items).toEqual([]);
    expect(none.omitted).toBe(1);
  });
});
