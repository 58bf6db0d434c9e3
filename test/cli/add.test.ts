import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CubeInfo, MemoryItem } from '../../src/core/types.js';
import type { CubeStats } from '../../src/store/store.js';
import { CliSandbox, expectMemcubeError, expectMemcubeUsageError, jsonl, UUID } from './helpers.js';

type Stats = CubeStats & { cube: CubeInfo };
interface AddJson {
  cube: string;
  ids: string[];
  items: Array<{ id: string; created: boolean }>;
}
interface Page {
  items: MemoryItem[];
  nextCursor: string | null;
}

describe('memcube add', () => {
  let sb: CliSandbox;
  beforeAll(() => {
    sb = new CliSandbox();
  });
  afterAll(() => sb.cleanup());

  const berlin = [
    'add',
    'I moved to Berlin',
    '--speaker',
    'Alice',
    '--session',
    's1',
    '--at',
    '2024-05-03T10:00:00Z',
  ];
  let berlinId = '';

  it('prints the new id on stdout and a summary on stderr', () => {
    const result = sb.run(berlin);
    expect(result.status).toBe(0);
    berlinId = result.stdout.trim();
    expect(berlinId).toMatch(UUID);
    expect(result.stdout).toBe(`${berlinId}\n`);
    expect(result.stderr).toBe("added 1, already stored 0, in cube 'default'\n");

    expect(sb.json<MemoryItem>(['get', berlinId])).toMatchObject({
      id: berlinId,
      cube: 'default',
      kind: 'episode',
      content: 'I moved to Berlin',
      speaker: 'Alice',
      role: 'user',
      sessionId: 's1',
      turnIndex: 0,
      validFrom: '2024-05-03T10:00:00.000Z',
      status: 'active',
      version: 1,
    });
  });

  it('prints the same id marked "(already stored)" for the same message again', () => {
    const result = sb.run(berlin);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${berlinId}  (already stored)\n`);
    expect(result.stderr).toBe("added 0, already stored 1, in cube 'default'\n");
  });

  it('--json gives {cube, ids, items}', () => {
    expect(sb.json<AddJson>(berlin)).toEqual({
      cube: 'default',
      ids: [berlinId],
      items: [{ id: berlinId, created: false }],
    });
    // Unquoted words are joined; --cube creates the cube; tags and user id are kept.
    const fresh = sb.json<AddJson>([
      'add',
      'A',
      'second',
      'memory',
      '--cube',
      'work',
      '--tag',
      'x',
      'y',
      '--user',
      'u1',
      '--agent',
      'planner',
      '--run',
      'r7',
    ]);
    expect(fresh.cube).toBe('work');
    expect(fresh.ids).toHaveLength(1);
    expect(fresh.items).toEqual([{ id: fresh.ids[0], created: true }]);
    const item = sb.json<MemoryItem>(['get', fresh.ids[0] ?? '', '--cube', 'work']);
    expect(item).toMatchObject({
      content: 'A second memory',
      tags: ['x', 'y'],
      userId: 'u1',
      agentId: 'planner',
      runId: 'r7',
      cube: 'work',
    });
    // Search and list narrow to an agent's or a run's memories.
    sb.ok(['add', 'Another memory of a second run', '--cube', 'work', '--agent', 'planner', '--run', 'r8']);
    const ofRun = (run: string) =>
      sb.json<{ items: MemoryItem[] }>(['list', '--cube', 'work', '--agent', 'planner', '--run', run]).items;
    expect(ofRun('r7').map((i) => i.id)).toEqual([fresh.ids[0]]);
    expect(
      sb
        .json<Array<{ item: MemoryItem }>>(['search', 'memory', '--cube', 'work', '--run', 'r8'])
        .map((h) => h.item.runId),
    ).toEqual(['r8']);
  });

  it('reads messages from a JSON array, from JSONL and from stdin with --file', () => {
    const array = sb.file(
      'msgs.json',
      JSON.stringify([
        { content: 'Hi, I am Bob and I keep bees', speaker: 'Bob', at: '2024-06-01T09:00:00Z' },
        { content: 'How many hives do you have?', role: 'assistant', at: '2024-06-01T09:01:00Z' },
      ]),
    );
    const fromArray = sb.run(['add', '--file', array, '--session', 'bees']);
    expect(fromArray.status).toBe(0);
    const beeIds = fromArray.stdout.trim().split('\n');
    expect(beeIds).toHaveLength(2);
    for (const id of beeIds) expect(id).toMatch(UUID);
    expect(fromArray.stderr).toContain('added 2, already stored 0');

    const lines = sb.file(
      'msgs.jsonl',
      `${JSON.stringify({ content: 'Carol likes jazz', speaker: 'Carol' })}\n\n${JSON.stringify({ content: 'Carol plays the saxophone', speaker: 'Carol' })}\n`,
    );
    const fromLines = sb.json<AddJson>(['add', '--file', lines, '--session', 'music']);
    expect(fromLines.items.map((i) => i.created)).toEqual([true, true]);

    const fromStdin = sb.run(['add', '--file', '-', '--session', 'stdin'], {
      input: jsonl([{ content: 'Dave arrived by train', speaker: 'Dave', at: '2024-07-07T07:07:00Z' }]),
    });
    expect(fromStdin.status).toBe(0);
    const daveId = fromStdin.stdout.trim();
    expect(daveId).toMatch(UUID);

    const items = sb.json<Page>(['list', '--limit', '100']).items;
    const row = (i: MemoryItem) => [i.id, i.sessionId, i.turnIndex, i.speaker, i.role, i.content];
    expect(items.map(row)).toEqual([
      [berlinId, 's1', 0, 'Alice', 'user', 'I moved to Berlin'],
      [beeIds[0], 'bees', 0, 'Bob', 'user', 'Hi, I am Bob and I keep bees'],
      [beeIds[1], 'bees', 1, null, 'assistant', 'How many hives do you have?'],
      [fromLines.ids[0], 'music', 0, 'Carol', 'user', 'Carol likes jazz'],
      [fromLines.ids[1], 'music', 1, 'Carol', 'user', 'Carol plays the saxophone'],
      [daveId, 'stdin', 0, 'Dave', 'user', 'Dave arrived by train'],
    ]);
    expect(items.find((i) => i.id === beeIds[1])?.validFrom).toBe('2024-06-01T09:01:00.000Z');
    expect(items.find((i) => i.id === daveId)?.validFrom).toBe('2024-07-07T07:07:00.000Z');
  });

  it('rejects bad input with one `memcube: error:` line naming the problem, and stores nothing', async () => {
    const before = sb.json<Stats>(['stats']);
    expect(before.items).toBe(6);

    const cases: Array<{ args: string[]; input?: string; says: string[]; usage?: boolean }> = [
      { args: ['add', '--file', sb.path('nope.json')], says: ['cannot read', 'nope.json', 'no such file'] },
      {
        args: ['add', '--file', sb.file('broken.json', '[{"content": "x"')],
        says: ['broken.json', 'is not valid JSON'],
      },
      {
        args: ['add', '--file', sb.file('five.json', JSON.stringify([{ content: 5 }]))],
        says: ['messages[0].content'],
      },
      {
        // The first message is valid, but the batch is all or nothing.
        args: [
          'add',
          '--file',
          sb.file('second.json', JSON.stringify([{ content: 'must not be stored' }, { content: 5 }])),
        ],
        says: ['messages[1].content'],
      },
      {
        args: [
          'add',
          '--file',
          sb.file('broken.jsonl', '{"content":"fine"}\n{"content":\n{"content":"x"}\n'),
        ],
        says: ['broken.jsonl', 'line 2', 'not valid JSON'],
      },
      { args: ['add', '--file', '-'], input: '[{"content": 5}]', says: ['messages[0].content'] },
      { args: ['add', '--file', sb.file('empty.json', '  \n')], says: ['empty.json', 'is empty'] },
      // A command line to fix exits 2; the flag is named.
      { args: ['add', 'some text', '--at', 'yesterday'], says: ['--at:', 'yesterday'], usage: true },
      { args: ['add', 'some text', '--session', ''], says: ['--session:', 'must not be empty'], usage: true },
      { args: ['add', 'text', '--file', sb.path('msgs.json')], says: ['not both'], usage: true },
      { args: ['add'], says: ['nothing to add'], usage: true },
    ];
    const results = await sb.runAll(
      cases.map((c) => [c.args, c.input === undefined ? {} : { input: c.input }]),
    );
    results.forEach((result, i) => {
      const expectError = cases[i]?.usage ? expectMemcubeUsageError : expectMemcubeError;
      expectError(result, ...(cases[i]?.says ?? []));
    });

    const after = sb.json<Stats>(['stats']);
    expect(after.items).toBe(before.items);
    expect(after.versions).toBe(before.versions);
    expect(after.auditRecords).toBe(before.auditRecords);
  });

  it('a rejected add on a fresh database leaves no cube behind', () => {
    const db = sb.path('fresh.db');
    expectMemcubeError(
      sb.run(['add', '--file', sb.file('five-again.json', '[{"content": 5}]')], { db }),
      'messages[0].content',
    );
    // Nothing was stored, so there must be no (empty) cube either: otherwise the failed add
    // has already fixed the cube's embedder and written a create_cube audit record.
    expect(sb.json<CubeInfo[]>(['cubes'], { db })).toEqual([]);
  });
});
