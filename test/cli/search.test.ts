import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchHit } from '../../src/core/types.js';
import type { ContextPack } from '../../src/retrieve/context.js';
import { CliSandbox, expectMemcubeError, expectMemcubeUsageError, jsonl } from './helpers.js';

const ADOPTED = 'I adopted a beagle puppy named Biscuit';
const CHEWED = 'Biscuit the beagle chewed my running shoes';
const RAIN = 'My beagle hates the rain and refuses to walk';
const PASTA = 'Lunch was a bowl of pasta with pesto';
const CATS = 'Honestly I prefer cats to any beagle';

describe('memcube search and context (lexical only)', () => {
  let sb: CliSandbox;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    sb = new CliSandbox();
    const sessions: Record<string, Array<{ content: string; speaker: string; at: string }>> = {
      s1: [
        { content: ADOPTED, speaker: 'Alice', at: '2024-01-10T10:00:00Z' },
        { content: CHEWED, speaker: 'Bob', at: '2024-01-10T10:05:00Z' },
      ],
      s2: [
        { content: RAIN, speaker: 'Alice', at: '2024-03-05T09:00:00Z' },
        { content: PASTA, speaker: 'Carol', at: '2024-03-05T12:00:00Z' },
      ],
      s3: [{ content: CATS, speaker: 'Bob', at: '2024-06-01T18:00:00Z' }],
    };
    // The cube is created first, so the three sessions can then be added side by side.
    sb.ok(['add', 'warm-up note']);
    const entries = Object.entries(sessions);
    const results = await sb.runAll(
      entries.map(([session, messages]) => [
        ['add', '--file', '-', '--session', session],
        { input: jsonl(messages) },
      ]),
    );
    results.forEach((result, i) => {
      expect(result.status, result.stderr).toBe(0);
      const messages = entries[i]?.[1] ?? [];
      result.stdout
        .trim()
        .split('\n')
        .forEach((id, j) => {
          ids.set(messages[j]?.content ?? '', id);
        });
    });
    expect(ids.size).toBe(5);
  });
  afterAll(() => sb.cleanup());

  const idOf = (content: string): string => ids.get(content) ?? '';
  const contents = (hits: SearchHit[]): string[] => hits.map((h) => h.item.content).sort();

  it('prints each hit with its content, speaker, session and id', () => {
    const result = sb.ok(['search', 'running', 'shoes']);
    expect(result.stdout).toMatch(/^ 1\. score [\d.]+ {2}via lexical #1 \([\d.]+\)$/m);
    expect(result.stdout).toContain(CHEWED);
    expect(result.stdout).toContain('2024-01-10 10:05  Bob (user)  [session s1, turn 1]');
    expect(result.stdout).toContain(`id ${idOf(CHEWED)}`);
  });

  it('--json returns ranked hits with item, score and the lexical channel', async () => {
    const [hits, top2] = await sb.jsonAll<[SearchHit[], SearchHit[]]>([
      [['search', 'beagle']],
      [['search', 'beagle', '--limit', '2']],
    ]);
    expect(hits.map((h) => h.item.id).sort()).toEqual([ADOPTED, CHEWED, RAIN, CATS].map(idOf).sort());
    hits.forEach((hit, i) => {
      expect(hit.item.content).toContain('beagle');
      expect(hit.item.status).toBe('active');
      expect(hit.score).toBeGreaterThan(0);
      expect(hit.channels.lexical?.rank).toBe(i + 1);
      expect(hit.channels.vector).toBeUndefined();
      if (i > 0) expect(hit.score).toBeLessThanOrEqual(hits[i - 1]?.score ?? 0);
    });
    expect(top2).toEqual(hits.slice(0, 2));
  });

  it("says which hits the subject focus lowered: a question about Alice, Bob's turns (default config)", async () => {
    const [hits] = await sb.jsonAll<[SearchHit[]]>([
      [['search', 'What does Alice say about the beagle?'], { config: 'default' }],
    ]);
    const focusOf = (content: string) => hits.find((h) => h.item.content === content)?.focus;
    expect(focusOf(CHEWED)).toEqual({ subject: 'speaker', name: 'Alice', factor: 0.7 });
    expect(focusOf(CATS)).toEqual({ subject: 'speaker', name: 'Alice', factor: 0.7 });
    expect(focusOf(ADOPTED)).toBeUndefined();
    expect(focusOf(RAIN)).toBeUndefined();
    const text = sb.ok(['search', 'What does Alice say about the beagle?'], { config: 'default' }).stdout;
    expect(text).toMatch(/via [^\n]*, ×0\.7 \(not Alice's\)[^\n]*\n.*Bob \(user\)/);
  });

  it('says how much the session boost raised each hit: 1.2 for the strongest session (default config)', async () => {
    const [hits] = await sb.jsonAll<[SearchHit[]]>([[['search', 'beagle'], { config: 'default' }]]);
    const factors = hits.map((h) => h.sessionBoost ?? 1);
    expect(Math.max(...factors)).toBeCloseTo(1.2, 10);
    // Every beagle turn here has a session, so each is raised by its session's share of the strongest.
    for (const factor of factors) expect(factor).toBeGreaterThan(1);
    const text = sb.ok(['search', 'beagle'], { config: 'default' }).stdout;
    expect(text).toMatch(/via [^\n]*, ×1\.20 \(session\)\n/);
  });

  it('narrows by --session, --speaker and --from/--to', async () => {
    const [s2, s1s3, bob, window, fromInclusive, toExclusive] = await sb.jsonAll<SearchHit[][]>([
      [['search', 'beagle', '--session', 's2']],
      [['search', 'beagle', '--session', 's1', 's3']],
      [['search', 'beagle', '--speaker', 'Bob']],
      [['search', 'beagle', '--from', '2024-02-01T00:00:00Z', '--to', '2024-06-01T00:00:00Z']],
      [['search', 'beagle', '--from', '2024-06-01T18:00:00Z']],
      [['search', 'beagle', '--to', '2024-01-10T10:05:00Z']],
    ]);
    expect(contents(s2 ?? [])).toEqual([RAIN]);
    expect(contents(s1s3 ?? [])).toEqual([CHEWED, CATS, ADOPTED].sort());
    expect(contents(bob ?? [])).toEqual([CHEWED, CATS].sort());
    expect(contents(window ?? [])).toEqual([RAIN]);
    expect(contents(fromInclusive ?? [])).toEqual([CATS]);
    expect(contents(toExclusive ?? [])).toEqual([ADOPTED]);
  });

  it('says so when nothing matches; rejects bad filters', async () => {
    const [human, json, badTime, vector, empty, tooSmall, crossed] = await sb.runAll([
      [['search', 'submarine']],
      [['search', 'submarine', '--json']],
      [['search', 'beagle', '--from', 'yesterday']],
      [['search', 'beagle', '--channels', 'vector']],
      [['search', ' ']],
      [['context', 'beagle', '--budget', '50']],
      [['list', '--from', '2024-06-01', '--to', '2024-05-01']],
    ]);
    // A filter option that took the query's words says to put the query first.
    expectMemcubeUsageError(
      sb.run(['search', '--speaker', 'Melanie', 'what', 'did', 'she', 'paint']),
      'missing the query: give it first',
    );
    // A window that ends before it starts is a command line to fix, not an empty answer.
    expectMemcubeUsageError(
      crossed ?? { status: null, stdout: '', stderr: '' },
      '--to:',
      "not after the window's start",
    );
    expect(human?.status).toBe(0);
    expect(human?.stdout).toBe('no matching memories\n');
    expectMemcubeUsageError(empty ?? { status: null, stdout: '', stderr: '' }, 'query: empty');
    // Memories matched, none fitted: said so, not "no matching memories".
    expect(tooSmall?.status).toBe(0);
    expect(tooSmall?.stdout).toMatch(/^\d+ matching memor(y|ies), none fits in 50 tokens: raise --budget\n$/);
    expect(JSON.parse(json?.stdout ?? '')).toEqual([]);
    expectMemcubeUsageError(badTime ?? { status: null, stdout: '', stderr: '' }, '--from', 'yesterday');
    expectMemcubeError(vector ?? { status: null, stdout: '', stderr: '' }, "channel 'vector' is unavailable");
  });

  it('context --json fits the budget and cites ids', async () => {
    const [tight, roomy] = await sb.jsonAll<[ContextPack, ContextPack]>([
      [['context', 'beagle', 'Biscuit', '--budget', '100']],
      [['context', 'beagle', '--budget', '2000']],
    ]);
    expect(tight.tokenBudget).toBe(100);
    expect(tight.tokenizer).toBe('o200k_base');
    expect(tight.tokens).toBeGreaterThan(0);
    expect(tight.tokens).toBeLessThanOrEqual(100);
    expect(tight.items.length).toBeGreaterThan(0);
    expect(tight.items.length + tight.omitted).toBe(4);
    expect(tight.text).toMatch(/^Relevant memories/);
    for (const item of tight.items) expect(tight.text).toContain(`#${item.id.slice(-12)}`);
    expect(tight.text).not.toContain('pasta');

    expect(roomy.omitted).toBe(0);
    expect(roomy.items.map((i) => i.id).sort()).toEqual([ADOPTED, CHEWED, RAIN, CATS].map(idOf).sort());
    expect(roomy.tokens).toBeLessThanOrEqual(2000);
    expect(roomy.tokens).toBeGreaterThan(tight.tokens);
  });

  it('--status reaches deleted memories, and --as-of reads "yesterday" from the day given', async () => {
    const deleted = sb.ok([
      'add',
      'The submarine docked at noon.',
      '--session',
      's9',
      '--at',
      '2024-02-02T12:00:00Z',
    ]);
    const id = deleted.stdout.trim();
    sb.ok(['delete', id]);
    const asked = ['search', 'what did the beagle do yesterday?', '--channels', 'temporal'];
    const [hidden, found, thatDay, today] = await sb.jsonAll<
      [SearchHit[], SearchHit[], SearchHit[], SearchHit[]]
    >([
      [['search', 'submarine']],
      [['search', 'submarine', '--status', 'active', 'deleted']],
      [[...asked, '--as-of', '2024-03-06T08:00:00Z']],
      [asked],
    ]);
    expect(hidden).toEqual([]);
    expect(found.map((h) => [h.item.id, h.item.status])).toEqual([[id, 'deleted']]);
    expect(contents(thatDay)).toEqual([RAIN]);
    expect(today).toEqual([]);
  });

  it('context prints the block, and filters apply', () => {
    const result = sb.ok(['context', 'beagle', '--budget', '500', '--session', 's2']);
    expect(result.stdout).toBe(
      "Relevant memories, oldest first, grouped by day and session; #… is the memory's short id.\n" +
        '## 2024-03-05 (Tue) · session s2\n' +
        `[09:00] Alice: ${RAIN} #${idOf(RAIN).slice(-12)}\n`,
    );
  });
});

describe('memcube search: asking turns (default config)', () => {
  const ASKS = 'Which beagle toy did you buy, and does the beagle like the toy?';
  const TELLS = 'The squeaky duck. My beagle loves the duck toy.';
  let sb: CliSandbox;
  beforeAll(() => {
    sb = new CliSandbox();
    const messages = [
      { content: ASKS, speaker: 'Sam', at: '2024-01-10T10:00:00Z' },
      { content: TELLS, speaker: 'Alice', at: '2024-01-10T10:01:00Z' },
    ];
    sb.ok(['add', '--file', '-'], { input: jsonl(messages), config: 'default' });
  });
  afterAll(() => sb.cleanup());

  it('says which hit was lowered for ending with a question, in --json and in text', async () => {
    const query = 'Which beagle toy does she like?';
    const [hits] = await sb.jsonAll<[SearchHit[]]>([[['search', query], { config: 'default' }]]);
    expect(hits.map((h) => [h.item.content, h.asking])).toEqual([
      [TELLS, undefined],
      [ASKS, 0.8],
    ]);
    expect(sb.ok(['search', query], { config: 'default' }).stdout).toMatch(
      /via [^\n]*, ×0\.8 \(asks\)[^\n]*\n.*Sam \(user\)/,
    );
  });
});
