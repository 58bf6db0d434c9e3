import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord, CubeInfo, MemoryItem, MemoryVersion } from '../../src/core/types.js';
import type { CubeStats } from '../../src/store/store.js';
import { CLI, type CliResult, CliSandbox, expectMemcubeError, jsonl } from './helpers.js';

type Stats = CubeStats & { cube: CubeInfo };
interface Page {
  items: MemoryItem[];
  nextCursor: string | null;
}

describe('memcube export and import', () => {
  let sb: CliSandbox;
  let ids: string[] = [];
  let exportFile = '';
  let exported: CliResult;
  const other = (): string => sb.path('other.db');

  beforeAll(() => {
    sb = new CliSandbox();
    const messages = [
      { content: 'Export me: the garden has three apple trees', speaker: 'Ann', at: '2024-02-01T08:00:00Z' },
      { content: 'Export me too: the shed needs a new roof', speaker: 'Ben', at: '2024-02-01T08:05:00Z' },
      { content: 'This one gets deleted', speaker: 'Ann', at: '2024-02-02T08:00:00Z' },
      { content: 'This one is deleted and restored', speaker: 'Ben', at: '2024-02-03T08:00:00Z' },
    ];
    ids = sb
      .ok(['add', '--file', '-', '--session', 'garden', '--tag', 'home'], { input: jsonl(messages) })
      .stdout.trim()
      .split('\n');
    expect(ids).toHaveLength(4);
    sb.ok(['delete', ids[2] ?? '']);
    sb.ok(['delete', ids[3] ?? '']);
    sb.ok(['restore', ids[3] ?? '']);
    exportFile = sb.path('f.jsonl');
    exported = sb.ok(['export', '-o', exportFile]);
  });
  afterAll(() => sb.cleanup());

  it('export -o writes the header, every item and the audit log', () => {
    expect(exported.stdout).toBe('');
    // 1 header + 4 items + 8 audit records (create_cube, 4 adds, 2 deletes, 1 restore) + the end.
    expect(exported.stderr).toBe(`exported 14 lines from cube 'default' to ${exportFile}\n`);
    const lines = fs.readFileSync(exportFile, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(14);
    const parsed = lines.map((l) => JSON.parse(l) as { type: string });
    expect(parsed[0]).toMatchObject({
      type: 'header',
      format: 'memcube-export',
      version: 2,
      cube: { name: 'default', embedderId: 'none', dimensions: 0 },
    });
    expect(parsed.map((l) => l.type)).toEqual([
      'header',
      ...Array(4).fill('item'),
      ...Array(8).fill('audit'),
      'end',
    ]);

    // Without -o the same lines go to stdout (only exportedAt differs).
    const stdout = sb.ok(['export']).stdout.trimEnd().split('\n');
    expect(stdout.slice(1)).toEqual(lines.slice(1));
  });

  it('import says when the cube it makes has no vectors for an export that had them', () => {
    const lines = fs.readFileSync(exportFile, 'utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0] ?? '');
    header.cube = { ...header.cube, embedderId: 'local:use-lite', dimensions: 512 };
    const embedded = sb.path('embedded.jsonl');
    fs.writeFileSync(embedded, `${[JSON.stringify(header), ...lines.slice(1)].join('\n')}\n`);
    expect(sb.ok(['import', embedded], { db: sb.path('lexical.db') }).stdout).toBe(
      "imported 4 items and 8 audit records into cube 'default', without vectors (exported with 'local:use-lite'; search is by words only until `memcube reembed`)\n",
    );
  });

  it('import into another database reproduces the items and their history', async () => {
    const result = sb.ok(['import', exportFile], { db: other() });
    expect(result.stdout).toBe("imported 4 items and 8 audit records into cube 'default'\n");
    expect(result.stderr).toBe('');

    const restored = ids[3] ?? '';
    const all = ['list', '--limit', '1000', '--status', 'active', 'deleted'];
    const [sourcePage, copyPage, sourceHistory, copyHistory, audit] = await sb.jsonAll<
      [Page, Page, MemoryVersion[], MemoryVersion[], AuditRecord[]]
    >([
      [all],
      [all, { db: other() }],
      [['history', restored]],
      [['history', restored], { db: other() }],
      [['audit'], { db: other() }],
    ]);
    const byId = (a: MemoryItem, b: MemoryItem): number => a.id.localeCompare(b.id);
    const source = sourcePage.items.sort(byId);
    const copy = copyPage.items.sort(byId);
    expect(copy.map((i) => [i.id, i.content, i.version, i.status])).toEqual(
      source.map((i) => [i.id, i.content, i.version, i.status]),
    );
    expect(copy.map((i) => i.version).sort()).toEqual([1, 1, 2, 3]);
    expect(copy).toEqual(source);

    expect(copyHistory.map((v) => v.operation)).toEqual(['add', 'delete', 'restore']);
    expect(copyHistory).toEqual(sourceHistory);
    expect(audit.map((r) => r.operation)).toEqual(
      expect.arrayContaining(['create_cube', 'add', 'delete', 'restore']),
    );
  });

  it('imports from stdin, into the cube named by --cube', () => {
    const db = sb.path('stdin.db');
    const result = sb.json<{ cube: string; items: number; auditRecords: number }>(
      ['import', '-', '--cube', 'copy'],
      {
        db,
        input: fs.readFileSync(exportFile, 'utf8'),
      },
    );
    expect(result).toEqual({ cube: 'copy', items: 4, auditRecords: 8 });
    expect(sb.json<CubeInfo[]>(['cubes'], { db }).map((c) => c.name)).toEqual(['copy']);
  });

  it('imports from a pipe whose writer is still starting (`memcube export | memcube import -`)', () => {
    // The writer is slower than the reader here, so the reader meets an empty pipe first: a
    // synchronous read of it failed with EAGAIN.
    const db = sb.path('piped.db');
    const script = '(sleep 3; cat "$2") | "$0" "$1" --db "$3" --embedder none --json import -';
    const piped = spawnSync('bash', ['-c', script, process.execPath, CLI, exportFile, db], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(piped.stderr).toBe('');
    expect(JSON.parse(piped.stdout)).toEqual({ cube: 'default', items: 4, auditRecords: 8 });
  });

  it('refuses to import ids that already exist', () => {
    expectMemcubeError(sb.run(['import', exportFile], { db: other() }), 'already exist');
    expect(sb.json<Stats>(['stats'], { db: other() }).items).toBe(4);
  });

  it('a malformed line fails the whole import, naming the line, and creates no cube', async () => {
    const lines = fs.readFileSync(exportFile, 'utf8').split('\n');
    lines[2] = '{"type": "item", "item": ';
    const bad = sb.file('bad.jsonl', lines.join('\n'));
    // A line that is JSON but not a valid record names the line and the field.
    const invalid = sb.file(
      'invalid.jsonl',
      fs.readFileSync(exportFile, 'utf8').replace('"content":"This one gets deleted"', '"content":""'),
    );
    // A copy cut short at the end of a line, as an interrupted transfer leaves it.
    const whole = fs.readFileSync(exportFile, 'utf8').trimEnd().split('\n');
    const cut = sb.file('cut.jsonl', `${whole.slice(0, 7).join('\n')}\n`);
    const db = sb.path('bad.db');
    const [badJson, badRecord, missing, cutShort] = await sb.runAll([
      [['import', bad], { db }],
      [['import', invalid], { db }],
      [['import', sb.path('missing.jsonl')], { db }],
      [['import', cut], { db }],
    ]);
    const none = { status: null, stdout: '', stderr: '' };
    expectMemcubeError(cutShort ?? none, 'cut short', 'after 4 items and 2 audit records');
    expectMemcubeError(badJson ?? none, 'line 3', 'not valid JSON');
    expectMemcubeError(badRecord ?? none, 'line 4', 'item.content');
    expectMemcubeError(missing ?? none, 'cannot read', 'no such file');
    expect(sb.json<CubeInfo[]>(['cubes'], { db })).toEqual([]);
  });

  it('shows an embedding progress bar on stderr for a large import or add, and none with --json', () => {
    const big = new CliSandbox();
    try {
      const messages = Array.from({ length: 210 }, (_, i) => ({ content: `bulk message number ${i}` }));
      big.ok(['add', '--file', '-', '--session', 'bulk'], { input: jsonl(messages) });
      const file = big.path('big.jsonl');
      big.ok(['export', '-o', file]);

      const result = big.ok(['import', file], { db: big.path('big2.db') });
      expect(result.stdout).toBe("imported 210 items and 211 audit records into cube 'default'\n");
      expect(result.stderr).toContain('embedding');
      expect(result.stderr).toContain('210/210');

      const quiet = big.run(['import', file, '--json'], { db: big.path('big3.db') });
      expect(quiet.status).toBe(0);
      expect(JSON.parse(quiet.stdout)).toEqual({ cube: 'default', items: 210, auditRecords: 211 });
      expect(quiet.stderr).toBe('');

      // A large add with the local model shows how its embedding goes (its texts and new words).
      const added = big.ok(['add', '--file', '-', '--session', 'bulk'], {
        input: jsonl(messages),
        db: big.path('local.db'),
        embedder: 'local',
      });
      expect(added.stderr).toMatch(/embedding \[.*\] (\d+)\/\1 100%/);
      expect(added.stderr).toContain("added 210, already stored 0, in cube 'default'");
    } finally {
      big.cleanup();
    }
  });
});
