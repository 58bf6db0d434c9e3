import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord, CubeInfo, MemoryItem, MemoryVersion, SearchHit } from '../../src/core/types.js';
import type { CubeStats } from '../../src/store/store.js';
import {
  type CliResult,
  CliSandbox,
  expectMemcubeError,
  expectMemcubeUsageError,
  jsonl,
  UUID_IN_TEXT,
} from './helpers.js';

type Stats = CubeStats & { cube: CubeInfo };
interface Page {
  items: MemoryItem[];
  nextCursor: string | null;
}

const none: CliResult = { status: null, stdout: '', stderr: '' };

describe('memcube list, get, delete, restore, history, audit, stats, cubes', () => {
  let sb: CliSandbox;
  let ids: string[] = [];
  const contents = ['first note about otters', 'second note', 'third note', 'fourth note', 'fifth note'];

  beforeAll(() => {
    sb = new CliSandbox();
    const messages = contents.map((content, i) => ({
      content,
      speaker: 'Alice',
      at: `2024-05-0${i + 1}T10:00:00Z`,
    }));
    ids = sb
      .ok(['add', '--file', '-', '--session', 's1'], { input: jsonl(messages) })
      .stdout.trim()
      .split('\n');
    expect(ids).toHaveLength(5);
  });
  afterAll(() => sb.cleanup());

  it('pages through list with --limit and --cursor, without overlap', async () => {
    const cursorOf = (stderr: string): string => /^more: --cursor (\S+)$/m.exec(stderr)?.[1] ?? '';
    const idsIn = (stdout: string): string[] => [...stdout.matchAll(UUID_IN_TEXT)].map((m) => m[0]);

    const first = sb.ok(['list', '--limit', '2']);
    expect(idsIn(first.stdout)).toEqual(ids.slice(0, 2));
    expect(first.stdout).toContain(
      '2024-05-01 10:00  Alice (user)  [session s1, turn 0]\n  first note about otters\n',
    );
    const cursor1 = cursorOf(first.stderr);
    expect(cursor1).not.toBe('');

    const second = sb.ok(['list', '--limit', '2', '--cursor', cursor1]);
    expect(idsIn(second.stdout)).toEqual(ids.slice(2, 4));
    const cursor2 = cursorOf(second.stderr);
    expect(cursor2).not.toBe('');
    expect(cursor2).not.toBe(cursor1);

    const [last, json, desc, garbage] = await sb.runAll([
      [['list', '--limit', '2', '--cursor', cursor2]],
      [['list', '--limit', '2', '--json']],
      [['list', '--order', 'desc', '--json']],
      [['list', '--cursor', 'garbage']],
    ]);
    expect(idsIn(last?.stdout ?? '')).toEqual(ids.slice(4));
    expect(last?.stderr).toBe('');
    const page = JSON.parse(json?.stdout ?? '') as Page;
    expect(page.items.map((i) => i.id)).toEqual(ids.slice(0, 2));
    expect(page.nextCursor).toBe(cursor1);
    expect((JSON.parse(desc?.stdout ?? '') as Page).items.map((i) => i.id)).toEqual([...ids].reverse());
    // A made-up cursor is a command line to fix.
    expectMemcubeUsageError(garbage ?? none, 'cursor');
  });

  it('get shows one item; a bad or unknown id is an error naming it', async () => {
    const id = ids[0] ?? '';
    const unknown = '01a1fb26-0000-7000-8000-000000000000';
    const [human, json, bad, missing] = await sb.runAll([
      [['get', id]],
      [['get', id, '--json']],
      [['get', 'not-an-id']],
      [['get', unknown]],
    ]);
    expect(human?.stdout).toBe(
      `2024-05-01 10:00  Alice (user)  [session s1, turn 0]\n  first note about otters\n  id ${id}\n`,
    );
    expect(JSON.parse(json?.stdout ?? '')).toMatchObject({
      id,
      content: 'first note about otters',
      version: 1,
    });
    expectMemcubeUsageError(bad ?? none, "id: 'not-an-id' is not a memory id");
    expectMemcubeError(missing ?? none, `no item '${unknown}'`);
  });

  it('delete hides an item from search and list; restore brings it back; history keeps every version', async () => {
    const id = ids[0] ?? '';
    const found = (hits: SearchHit[]): string[] => hits.map((h) => h.item.id);
    expect(found(sb.json<SearchHit[]>(['search', 'otters']))).toEqual([id]);

    expect(sb.ok(['delete', id]).stdout).toBe(`deleted ${id} (now v2, deleted)\n`);
    const [hits, active, deleted, again] = await sb.runAll([
      [['search', 'otters', '--json']],
      [['list', '--json']],
      [['list', '--status', 'deleted', '--json']],
      [['delete', id]],
    ]);
    expect(found(JSON.parse(hits?.stdout ?? ''))).toEqual([]);
    expect((JSON.parse(active?.stdout ?? '') as Page).items.map((i) => i.id)).toEqual(ids.slice(1));
    expect((JSON.parse(deleted?.stdout ?? '') as Page).items.map((i) => [i.id, i.status, i.version])).toEqual(
      [[id, 'deleted', 2]],
    );
    expectMemcubeError(again ?? none, 'already deleted');

    const restored = sb.json<MemoryItem>(['restore', id]);
    expect(restored).toMatchObject({ id, status: 'active', version: 3 });

    const [afterRestore, history, humanHistory, restoreAgain] = await sb.runAll([
      [['search', 'otters', '--json']],
      [['history', id, '--json']],
      [['history', id]],
      [['restore', id]],
    ]);
    expect(found(JSON.parse(afterRestore?.stdout ?? ''))).toEqual([id]);
    expectMemcubeError(restoreAgain ?? none, 'already active');

    const versions = JSON.parse(history?.stdout ?? '') as MemoryVersion[];
    expect(versions.map((v) => [v.version, v.operation, v.status, v.content])).toEqual([
      [1, 'add', 'active', 'first note about otters'],
      [2, 'delete', 'deleted', 'first note about otters'],
      [3, 'restore', 'active', 'first note about otters'],
    ]);
    for (const v of versions) {
      expect(v.itemId).toBe(id);
      expect(v.changedBy).toMatch(/^cli:/);
    }
    const human = humanHistory?.stdout ?? '';
    expect(human).toMatch(/^v1 {2}add {6}\S+ {2}by cli:\S+ {2}\[active\]\n {4}first note about otters$/m);
    expect(human).toMatch(/^v2 {2}delete +\S+ {2}by cli:\S+ {2}\[deleted\]$/m);
    expect(human).toMatch(/^v3 {2}restore +\S+ {2}by cli:\S+ {2}\[active\]$/m);
  });

  it('audit lists every operation, --item narrows it to one item, --newest reads from the end', async () => {
    const id = ids[0] ?? '';
    const [all, mine, two, human, latest] = await sb.runAll([
      [['audit', '--json']],
      [['audit', '--item', id, '--json']],
      [['audit', '--limit', '2', '--json']],
      [['audit', '--item', id]],
      [['audit', '--newest', '--limit', '2', '--json']],
    ]);
    const records = JSON.parse(all?.stdout ?? '') as AuditRecord[];
    expect(records.map((r) => r.operation)).toEqual([
      'create_cube',
      'add',
      'add',
      'add',
      'add',
      'add',
      'delete',
      'restore',
    ]);
    expect(records.every((r) => r.cube === 'default' && r.actor.startsWith('cli:'))).toBe(true);
    expect(records.filter((r) => r.operation === 'add').map((r) => r.itemId)).toEqual(ids);

    const itemRecords = JSON.parse(mine?.stdout ?? '') as AuditRecord[];
    expect(itemRecords.map((r) => [r.operation, r.versionBefore, r.versionAfter])).toEqual([
      ['add', null, 1],
      ['delete', 1, 2],
      ['restore', 2, 3],
    ]);
    expect(JSON.parse(two?.stdout ?? '')).toHaveLength(2);
    expect((JSON.parse(latest?.stdout ?? '') as AuditRecord[]).map((r) => r.operation)).toEqual([
      'restore',
      'delete',
    ]);
    // Pages: the last record's id, named on stderr, is where the next page starts.
    const pageAt = (stderr: string, flag: string) =>
      new RegExp(`^more: ${flag} (\\d+)$`, 'm').exec(stderr)?.[1];
    const firstPage = sb.ok(['audit', '--limit', '3']);
    const after = pageAt(firstPage.stderr, '--after');
    expect(after).toBe(String(records[2]?.id));
    const rest = sb.json<AuditRecord[]>(['audit', '--after', after ?? '']);
    expect(rest.map((r) => r.id)).toEqual(records.slice(3).map((r) => r.id));
    const newestPage = sb.ok(['audit', '--newest', '--limit', '2']);
    const before = pageAt(newestPage.stderr, '--before');
    expect(before).toBe(String(records.at(-2)?.id));
    const older = sb.json<AuditRecord[]>(['audit', '--newest', '--before', before ?? '', '--limit', '2']);
    expect(older.map((r) => r.operation)).toEqual(['add', 'add']);
    expect(sb.ok(['audit']).stderr).toBe('');
    // A last page exactly full says nothing more.
    expect(sb.ok(['audit', '--limit', String(records.length)]).stderr).toBe('');
    expectMemcubeUsageError(
      sb.run(['audit', '--after', '5', '--before', '5']),
      '--before: 5 is not greater than the lower bound, 5',
    );
    // Each line starts with its record id, which --after and --before page by.
    const deleteRecord = itemRecords[1]?.id;
    expect(human?.stdout).toMatch(
      new RegExp(`^#${deleteRecord} {2}\\S+ {2}delete {6}cli:\\S+ {2}${id} {2}v1→v2$`, 'm'),
    );
    expect(human?.stdout).toMatch(new RegExp(`^#\\d+ {2}\\S+ {2}add {9}cli:\\S+ {2}${id} {2}v-→v1$`, 'm'));
  });

  it('stats counts items, versions, audit records and event times', async () => {
    const [json, human] = await sb.runAll([[['stats', '--json']], [['stats']]]);
    expect(JSON.parse(json?.stdout ?? '') as Stats).toMatchObject({
      cube: { name: 'default', embedderId: 'none', dimensions: 0 },
      items: 5,
      byKind: { episode: 5 },
      byStatus: { active: 5 },
      sessions: 1,
      versions: 7,
      auditRecords: 8,
      vectors: 0,
      firstEventAt: '2024-05-01T10:00:00.000Z',
      lastEventAt: '2024-05-05T10:00:00.000Z',
    });
    expect(human?.stdout).toContain('items      5 (active 5)');
    expect(human?.stdout).toContain('embedder   none (lexical only)');
    expect(human?.stdout).toContain('events     2024-05-01 10:00 → 2024-05-05 10:00');
  });

  it('cubes lists every cube', async () => {
    sb.ok(['add', 'elsewhere', '--cube', 'work']);
    const [json, human, empty] = await sb.runAll([
      [['cubes', '--json']],
      [['cubes']],
      [['cubes'], { db: sb.path('empty.db') }],
    ]);
    const cubes = JSON.parse(json?.stdout ?? '') as CubeInfo[];
    expect(cubes.map((c) => [c.name, c.embedderId, c.dimensions]).sort()).toEqual([
      ['default', 'none', 0],
      ['work', 'none', 0],
    ]);
    expect(human?.stdout).toMatch(/^default {2}\(none, created \S+\)$/m);
    expect(human?.stdout).toMatch(/^work {2}\(none, created \S+\)$/m);
    expect(empty?.stdout).toBe('no cubes\n');
    expect(fs.existsSync(sb.path('empty.db'))).toBe(false);
  });
});

describe('memcube update', () => {
  it('writes a new version that search finds, keeps the old one in history, and refuses bad input', async () => {
    const sb = new CliSandbox();
    try {
      const id = sb.ok(['add', 'I live in Portland', '--at', '2024-01-10T09:00:00Z']).stdout.trim();
      // --tag takes one tag a flag, so the text may follow it.
      const updated = sb.ok([
        'update',
        id,
        '--tag',
        'home',
        'I live in Seattle',
        '--at',
        '2024-06-02T09:00:00Z',
      ]);
      expect(updated.stdout).toBe(
        `updated ${id}: text "I live in Seattle"; tags home; event time 2024-06-02T09:00:00.000Z (now v2; \`memcube history ${id}\` shows every version)\n`,
      );
      expect(sb.json<MemoryItem>(['get', id, '--json'])).toMatchObject({
        content: 'I live in Seattle',
        version: 2,
        tags: ['home'],
        validFrom: '2024-06-02T09:00:00.000Z',
      });
      expect(sb.json<SearchHit[]>(['search', 'Seattle']).map((h) => h.item.id)).toEqual([id]);
      expect(sb.json<SearchHit[]>(['search', 'Portland'])).toEqual([]);
      expect(sb.json<MemoryVersion[]>(['history', id, '--json']).map((v) => v.content)).toEqual([
        'I live in Portland',
        'I live in Seattle',
      ]);
      const [nothing, badAt, empty, badTag] = await sb.runAll([
        [['update', id]],
        [['update', id, '--at', 'soon']],
        [['update', id, ' ']],
        [['update', id, '--tag', '']],
      ]);
      expectMemcubeUsageError(badTag ?? none, '--tag:');
      expectMemcubeUsageError(nothing ?? none, 'nothing to update');
      expectMemcubeUsageError(badAt ?? none, '--at: not an ISO-8601 date');
      expectMemcubeUsageError(empty ?? none, 'text: content is empty');
      expect(sb.json<MemoryItem>(['get', id, '--json']).version).toBe(2);

      // An end at or before the event time is a contradiction, named by its flag.
      expectMemcubeUsageError(
        sb.run(['update', id, '--until', '2024-06-01T00:00:00Z']),
        "--until: 2024-06-01T00:00:00.000Z is not after the memory's event time, 2024-06-02T09:00:00.000Z",
      );
      sb.ok(['update', id, '--until', '2024-09-01T00:00:00Z']);
      expect(sb.ok(['get', id]).stdout).toContain('until 2024-09-01 00:00');
      expect(sb.ok(['context', 'Seattle']).stdout).toContain('I live in Seattle (until 2024-09-01) #');
      // History shows what each version set, a change of times alone too.
      expect(sb.ok(['history', id]).stdout).toMatch(
        /^v3 {2}update .*\n {4}I live in Seattle\n {4}until 2024-09-01 00:00$/m,
      );
      // --no-X clears what --X set; --tag after --no-tag starts the list anew.
      sb.ok(['update', id, '--no-until', '--no-tag']);
      expect(sb.json<MemoryItem>(['get', id, '--json'])).toMatchObject({
        version: 4,
        tags: [],
        validTo: null,
        validFrom: '2024-06-02T09:00:00.000Z',
      });
      expect(sb.ok(['update', id, '--no-tag', '--tag', 'moved', '--no-at']).stdout).toMatch(
        new RegExp(`^updated ${id}: tags moved; event time none \\(counts from \\S+\\) \\(now v5;`),
      );
      expect(sb.json<MemoryItem>(['get', id, '--json'])).toMatchObject({ tags: ['moved'], validFrom: null });
      // Saying what it already says writes nothing.
      expect(sb.ok(['update', id, '--no-until', '--tag', 'moved']).stdout).toBe(
        `unchanged: ${id} already says so (v5); nothing was written\n`,
      );
    } finally {
      sb.cleanup();
    }
  });
});
