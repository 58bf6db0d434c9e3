import { afterEach, describe, expect, it } from 'vitest';
import type { LimitsConfig } from '../../src/core/config.js';
import { DEFAULT_INGEST_CONFIG } from '../../src/core/config.js';
import { contentHash, isItemId } from '../../src/core/ids.js';
import { speakerLine } from '../../src/ingest/derive/derive-keys.js';
import { draftEpisodes, withDerivedKeys } from '../../src/ingest/episodes.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import { ANY_TIME } from '../../src/store/store.js';

const LIMITS: LimitsConfig = { maxContentChars: 32_000, maxBatch: 10_000 };
const NOW = Date.parse('2024-07-01T12:00:00.000Z');

describe('draftEpisodes', () => {
  it('dedupes a message sent again by its own time, a session by any time, a note by the last hour', () => {
    const at = Date.parse('2024-06-30T08:00:00Z');
    const window = (input: Parameters<typeof draftEpisodes>[0], sessionId?: string) =>
      draftEpisodes(input, sessionId ? { sessionId } : undefined, LIMITS, NOW)[0]?.dedupeWindow;
    expect(window({ content: 'Went running.', at: '2024-06-30T08:00:00Z' })).toEqual({ from: at, to: at });
    expect(window('Went running.', 's1')).toEqual(ANY_TIME);
    expect(window('Went running.')).toEqual({ from: NOW - 3_600_000, to: NOW });
  });

  it('turns a string into one user episode at the current time', () => {
    const drafts = draftEpisodes('  I moved to Lisbon.  ', undefined, LIMITS, NOW);
    expect(drafts).toHaveLength(1);
    const [d] = drafts;
    expect(d).toMatchObject({
      kind: 'episode',
      content: 'I moved to Lisbon.',
      role: 'user',
      speaker: null,
      userId: null,
      agentId: null,
      sessionId: null,
      runId: null,
      validFrom: NOW,
      validTo: null,
      sourceIds: [],
      tags: [],
      metadata: {},
      contentHash: contentHash('I moved to Lisbon.'),
    });
    expect(isItemId(d?.id ?? '')).toBe(true);
  });

  it('accepts one message object or an array, one draft per message with distinct ids', () => {
    expect(draftEpisodes({ content: 'one' }, undefined, LIMITS, NOW)).toHaveLength(1);
    const drafts = draftEpisodes(
      [{ content: 'a' }, { content: 'b', role: 'assistant' }, { content: 'c' }],
      undefined,
      LIMITS,
      NOW,
    );
    expect(drafts.map((d) => [d.content, d.role])).toEqual([
      ['a', 'user'],
      ['b', 'assistant'],
      ['c', 'user'],
    ]);
    expect(new Set(drafts.map((d) => d.id)).size).toBe(3);
  });

  it('uses the message time as the event time (ISO string, Date or epoch ms), else now', () => {
    const drafts = draftEpisodes(
      [
        { content: 'iso', at: '2023-05-08T13:56:00+02:00' },
        { content: 'date', at: new Date('2022-02-02T02:02:02.000Z') },
        { content: 'epoch', at: 1_600_000_000_000 },
        { content: 'none' },
      ],
      undefined,
      LIMITS,
      NOW,
    );
    expect(drafts.map((d) => d.validFrom)).toEqual([
      Date.parse('2023-05-08T11:56:00.000Z'),
      Date.parse('2022-02-02T02:02:02.000Z'),
      1_600_000_000_000,
      NOW,
    ]);
  });

  it('puts the speaker in the index text, not in the content', () => {
    const [d] = draftEpisodes(
      { content: 'I joined a support group', speaker: 'Caroline' },
      undefined,
      LIMITS,
      NOW,
    );
    expect(d?.content).toBe('I joined a support group');
    expect(d?.speaker).toBe('Caroline');
    const [indexed] = withDerivedKeys(d ? [d] : [], [], DEFAULT_INGEST_CONFIG);
    expect(indexed?.index.text).toBe('Caroline: I joined a support group');
    expect(speakerLine({ content: 'hello', speaker: null, role: 'user' })).toBe('hello');
    expect(speakerLine({ content: 'hello', speaker: 'Bob', role: 'user' })).toBe('Bob: hello');
  });

  it('copies the call options onto every episode', () => {
    const drafts = draftEpisodes(
      [{ content: 'a' }, { content: 'b' }],
      { sessionId: 's-1', userId: 'u-1', agentId: 'agent-7', runId: 'run-3' },
      LIMITS,
      NOW,
    );
    for (const d of drafts) {
      expect([d.sessionId, d.userId, d.agentId, d.runId]).toEqual(['s-1', 'u-1', 'agent-7', 'run-3']);
    }
  });

  it('merges call tags and message tags, call tags first, without duplicates', () => {
    const [d1, d2] = draftEpisodes(
      [{ content: 'a', tags: ['travel', 'work', 'travel'] }, { content: 'b' }],
      { tags: ['work', 'imported'] },
      LIMITS,
      NOW,
    );
    expect(d1?.tags).toEqual(['work', 'imported', 'travel']);
    expect(d2?.tags).toEqual(['work', 'imported']);
  });

  it('merges metadata, the message winning over the call on the same key', () => {
    const [d1, d2] = draftEpisodes(
      [{ content: 'a', metadata: { source: 'chat', lang: 'pt' } }, { content: 'b' }],
      { metadata: { source: 'import', batch: 4 } },
      LIMITS,
      NOW,
    );
    expect(d1?.metadata).toEqual({ source: 'chat', batch: 4, lang: 'pt' });
    expect(d2?.metadata).toEqual({ source: 'import', batch: 4 });
  });

  it('rejects an empty batch', () => {
    expect(() => draftEpisodes([], undefined, LIMITS, NOW)).toThrow(
      expect.objectContaining({ code: 'invalid_input', field: 'messages' }),
    );
  });
});

describe('speaker-aware indexing, end to end', () => {
  let os: MemoryOS | undefined;
  afterEach(async () => {
    await os?.close();
    os = undefined;
  });

  it("finds a first-person turn by the speaker's name (embedder none)", async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const cube = await os.cube('locomo');
    const { ids } = await cube.add(
      [
        { content: 'I joined a support group last week.', speaker: 'Caroline', at: '2023-05-08T13:56:00Z' },
        {
          content: 'That is great! I started painting again.',
          speaker: 'Melanie',
          at: '2023-05-08T13:57:00Z',
        },
        {
          content: 'The support group for painters meets on Fridays.',
          speaker: 'Melanie',
          at: '2023-05-08T13:58:00Z',
        },
      ],
      { sessionId: 'session_1' },
    );
    const hits = await cube.search('Caroline support group');
    expect(hits[0]?.item.id).toBe(ids[0]);
    expect(hits[0]?.item.speaker).toBe('Caroline');
    expect(hits[0]?.item.content).toBe('I joined a support group last week.');
    expect(hits[0]?.channels.lexical?.rank).toBe(1);
    expect(hits[0]?.channels.vector).toBeUndefined();
    // A query naming only the speaker still finds her turn first: the name lives in the index text.
    // The turns after it match too, more weakly, through their context keys (the turns they follow).
    const byName = await cube.search('Caroline');
    expect(byName.map((h) => h.item.id)).toEqual([ids[0], ids[1], ids[2]]);
    expect(byName[0]?.channels.lexical?.rank).toBe(1);
    expect(byName[2]?.channels.lexical?.rank).toBe(3);
  });
});
