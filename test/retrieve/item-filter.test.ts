import { describe, expect, it } from 'vitest';
import { type MemoryItem, NO_DERIVED_KEYS } from '../../src/core/types.js';
import { matchesFilter } from '../../src/retrieve/item-filter.js';

const item: MemoryItem = {
  id: '0190f000-0000-7000-8000-000000000001',
  cube: 'c',
  kind: 'episode',
  content: 'I moved to Berlin.',
  role: 'user',
  speaker: 'Alice',
  userId: 'u1',
  agentId: null,
  sessionId: 's1',
  runId: null,
  turnIndex: 0,
  createdAt: '2024-06-01T00:00:00.000Z',
  updatedAt: '2024-06-01T00:00:00.000Z',
  validFrom: '2024-05-03T10:00:00.000Z',
  validTo: null,
  sourceIds: [],
  tags: ['home', 'travel'],
  metadata: {},
  contentHash: '0'.repeat(64),
  derived: NO_DERIVED_KEYS,
  status: 'active',
  version: 1,
};
const at = (iso: string) => Date.parse(iso);

describe('matchesFilter', () => {
  it('passes an active item with no filter and refuses other statuses unless asked for', () => {
    expect(matchesFilter(item, {})).toBe(true);
    expect(matchesFilter({ ...item, status: 'archived' }, {})).toBe(false);
    expect(matchesFilter({ ...item, status: 'archived' }, { statuses: ['archived'] })).toBe(true);
  });

  it('checks each field as the store does', () => {
    expect(matchesFilter(item, { kinds: ['fact'] })).toBe(false);
    expect(matchesFilter(item, { speakers: ['Alice', 'Bob'], roles: ['user'], sessionIds: ['s1'] })).toBe(
      true,
    );
    expect(matchesFilter(item, { speakers: ['Bob'] })).toBe(false);
    expect(matchesFilter({ ...item, speaker: null }, { speakers: ['Alice'] })).toBe(false);
    expect(matchesFilter(item, { userId: 'u1' })).toBe(true);
    expect(matchesFilter(item, { userId: 'u2' })).toBe(false);
    expect(matchesFilter(item, { agentId: 'a1' })).toBe(false);
    expect(matchesFilter(item, { tags: ['home', 'travel'] })).toBe(true);
    expect(matchesFilter(item, { tags: ['home', 'work'] })).toBe(false);
  });

  it('bounds the event time by from (inclusive) and to (exclusive), falling back to record time', () => {
    expect(matchesFilter(item, { from: at('2024-05-03T10:00:00Z'), to: at('2024-05-04T00:00:00Z') })).toBe(
      true,
    );
    expect(matchesFilter(item, { to: at('2024-05-03T10:00:00Z') })).toBe(false);
    expect(matchesFilter({ ...item, validFrom: null }, { from: at('2024-05-31T00:00:00Z') })).toBe(true);
  });
});
