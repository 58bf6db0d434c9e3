import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemcubeError } from '../../src/core/errors.js';
import type { AuditRecord } from '../../src/core/types.js';
import { MEMORY_STATUSES } from '../../src/core/types.js';
import type { Cube } from '../../src/os/cube.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import { PLAIN_RETRIEVAL } from '../helpers/plain-retrieval.js';

async function exportLines(cube: Cube): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of cube.export()) lines.push(JSON.stringify(line));
  return lines;
}

async function allItems(cube: Cube) {
  return (await cube.list({ statuses: [...MEMORY_STATUSES], limit: 10_000 })).items;
}

/** An audit record without its database-local key. */
function portableAudit({ id: _id, ...rest }: AuditRecord) {
  return rest;
}

async function importError(
  os: MemoryOS,
  lines: string[],
  options: { cube?: string } = {},
): Promise<MemcubeError> {
  try {
    await os.importCube(lines, options);
  } catch (err) {
    expect(err).toBeInstanceOf(MemcubeError);
    return err as MemcubeError;
  }
  throw new Error('expected the import to fail');
}

describe('export → import', () => {
  let source: MemoryOS;
  let target: MemoryOS;
  let cube: Cube;
  let ids: string[];

  beforeEach(async () => {
    source = await MemoryOS.open({
      ...PLAIN_RETRIEVAL,
      path: ':memory:',
      embedder: 'none',
      actor: 'exporter',
    });
    target = await MemoryOS.open({
      ...PLAIN_RETRIEVAL,
      path: ':memory:',
      embedder: 'none',
      actor: 'importer',
    });
    cube = await source.cube('travel');
    ids = (
      await cube.add(
        [
          {
            content: 'I lived in Porto for five years.',
            speaker: 'Ana',
            at: '2019-01-01T10:00:00Z',
            tags: ['home'],
          },
          {
            content: 'Now I live in Lisbon.',
            speaker: 'Ana',
            at: '2024-02-01T10:00:00Z',
            metadata: { mood: 'happy' },
          },
          { content: 'Did you like Porto?', role: 'assistant', at: '2024-02-01T10:01:00Z' },
          { content: 'Mistake, ignore this line.', speaker: 'Ana', at: '2024-02-01T10:02:00Z' },
        ],
        { sessionId: 'chat-1', userId: 'ana' },
      )
    ).ids;
    await cube.update(ids[1] as string, { content: 'Now I live in Lisbon, near the river.', tags: ['home'] });
    await cube.delete(ids[3] as string);
    await cube.add('A note without a session.');
  });
  afterEach(async () => {
    await source.close();
    await target.close();
  });

  it('writes a header, one line per item with its versions, then the audit log', async () => {
    const lines = (await exportLines(cube)).map((l) => JSON.parse(l) as { type: string });
    expect(lines[0]).toMatchObject({
      type: 'header',
      format: 'memcube-export',
      version: 2,
      cube: { name: 'travel', embedderId: 'none', dimensions: 0 },
    });
    // create_cube, 4 adds, update, delete, add.
    expect((await cube.stats()).auditRecords).toBe(8);
    expect(lines.map((l) => l.type)).toEqual([
      'header',
      ...Array(5).fill('item'),
      ...Array(8).fill('audit'),
      'end',
    ]);
    expect(lines.at(-1)).toEqual({ type: 'end', items: 5, auditRecords: 8 });
    const items = lines.filter(
      (l): l is { type: 'item'; item: { id: string }; versions: unknown[] } => l.type === 'item',
    );
    expect(items.map((l) => l.item.id).slice(0, 4)).toEqual(ids);
    expect(items.map((l) => l.versions.length)).toEqual([1, 2, 1, 2, 1]);
  });

  it('reproduces items, versions and audit records in a fresh database', async () => {
    const lines = await exportLines(cube);
    const result = await target.importCube(lines);
    expect(result.items).toBe(5);
    expect(result.auditRecords).toBe((await cube.stats()).auditRecords);
    const imported = result.cube;
    expect(imported.name).toBe('travel');

    // Same ids, content, times, statuses (the deleted one included), versions.
    const original = await allItems(cube);
    const copy = await allItems(imported);
    expect(copy).toEqual(original);
    expect(copy.find((i) => i.id === ids[3])?.status).toBe('deleted');
    for (const item of original) {
      expect(await imported.history(item.id)).toEqual(await cube.history(item.id));
      expect(await imported.get(item.id)).toEqual(item);
    }
    expect((await imported.history(ids[1] as string)).map((v) => v.operation)).toEqual(['add', 'update']);

    // The original audit records, in order, then exactly one import record by the importer.
    const before = (await cube.audit()).map(portableAudit);
    const after = (await imported.audit()).map(portableAudit);
    const start = after.findIndex(
      (a) => a.operation === before[0]?.operation && a.at === before[0]?.at && a.actor === 'exporter',
    );
    expect(start).toBeGreaterThanOrEqual(0);
    expect(after.slice(start, start + before.length)).toEqual(before);
    const imports = after.filter((a) => a.operation === 'import');
    expect(imports).toHaveLength(1);
    expect(imports[0]).toMatchObject({
      actor: 'importer',
      itemId: null,
      details: { items: 5, auditRecords: before.length },
    });
    expect(after.at(-1)?.operation).toBe('import');
    // Anything else in the log was written by this import (the new database's own create_cube).
    const extra = [...after.slice(0, start), ...after.slice(start + before.length)];
    expect(extra.every((a) => a.actor === 'importer')).toBe(true);
    expect(extra.map((a) => a.operation).filter((op) => op !== 'create_cube' && op !== 'import')).toEqual([]);

    // The copy is searchable, and the deleted item stays hidden.
    expect((await imported.search('Lisbon river')).map((h) => h.item.id)).toEqual([ids[1]]);
    expect(await imported.search('Mistake ignore')).toEqual([]);
    const stats = await imported.stats();
    const origStats = await cube.stats();
    expect({ ...stats, auditRecords: 0, cube: null }).toEqual({ ...origStats, auditRecords: 0, cube: null });
  });

  it('imports under another cube name when asked', async () => {
    const { cube: renamed } = await target.importCube(await exportLines(cube), { cube: 'travel-copy' });
    expect(renamed.name).toBe('travel-copy');
    const original = await allItems(cube);
    const copy = await allItems(renamed);
    expect(copy.map((i) => [i.id, i.cube])).toEqual(original.map((i) => [i.id, 'travel-copy']));
    expect(copy.map((i) => i.content)).toEqual(original.map((i) => i.content));
    expect(await target.listCubes()).toHaveLength(1);
  });

  describe('a malformed file fails naming the line, creating and writing nothing', () => {
    async function expectLineError(lines: string[], lineNo: number, message?: RegExp) {
      const err = await importError(target, lines);
      expect(err.code).toBe('invalid_input');
      expect(err.field).toBe(`line ${lineNo}`);
      expect(err.message).toContain(`line ${lineNo}`);
      if (message) expect(err.message).toMatch(message);
      expect(await target.listCubes()).toEqual([]);
      return err;
    }

    it('a line that is not JSON', async () => {
      const lines = await exportLines(cube);
      lines.splice(3, 0, '{"type": "item", oops');
      await expectLineError(lines, 4, /not valid JSON/);
    });

    it('no header', async () => {
      const lines = await exportLines(cube);
      await expectLineError(lines.slice(1), 1, /header/);
      const err = await importError(target, []);
      expect(err).toMatchObject({ code: 'invalid_input', field: 'line 1' });
      expect(err.message).toMatch(/header/);
      expect(await target.listCubes()).toEqual([]);
    });

    it('a second header', async () => {
      const lines = await exportLines(cube);
      lines.splice(2, 0, lines[0] as string);
      await expectLineError(lines, 3, /header/);
    });

    it('an item missing its content', async () => {
      const lines = await exportLines(cube);
      const record = JSON.parse(lines[2] as string);
      delete record.item.content;
      lines[2] = JSON.stringify(record);
      await expectLineError(lines, 3, /item\.content/);
    });

    it('an item whose history does not end at its version', async () => {
      const lines = await exportLines(cube);
      const record = JSON.parse(lines[2] as string); // ids[1]: version 2, history [1, 2]
      expect(record.item.version).toBe(2);
      record.versions = record.versions.slice(0, 1);
      lines[2] = JSON.stringify(record);
      await expectLineError(lines, 3, /version 2 but its history ends at 1/);
    });

    it('an item whose history repeats a version number', async () => {
      const lines = await exportLines(cube);
      const record = JSON.parse(lines[2] as string); // versions [1, 2]
      record.versions = [record.versions[0], record.versions[1], record.versions[1]];
      lines[2] = JSON.stringify(record);
      await expectLineError(lines, 3, /version/);
    });

    it('an item whose history skips or reorders versions', async () => {
      const lines = await exportLines(cube);
      const record = JSON.parse(lines[2] as string); // versions [1, 2]
      record.item.version = 3;
      record.versions[1].version = 3; // [1, 3]: version 2 is missing
      lines[2] = JSON.stringify(record);
      await expectLineError(lines, 3, /version/);

      const reordered = await exportLines(cube);
      const r2 = JSON.parse(reordered[2] as string);
      r2.item.version = 1;
      r2.versions = [r2.versions[1], r2.versions[0]]; // [2, 1] ends at the item's version, but is not a history
      reordered[2] = JSON.stringify(r2);
      await expectLineError(reordered, 3, /version/);
    });

    it('an item whose history belongs to another item', async () => {
      const lines = await exportLines(cube);
      const record = JSON.parse(lines[2] as string);
      record.versions[0].itemId = ids[0];
      lines[2] = JSON.stringify(record);
      await expectLineError(lines, 3, /itemId|another item|history/);
    });

    it('an item with an empty history', async () => {
      const lines = await exportLines(cube);
      const record = JSON.parse(lines[1] as string);
      record.versions = [];
      lines[1] = JSON.stringify(record);
      await expectLineError(lines, 2, /versions/);
    });

    it('the same item id twice', async () => {
      const lines = await exportLines(cube);
      lines.splice(4, 0, lines[1] as string);
      await expectLineError(lines, 5, /appears twice/);
    });

    it('a bad line late in the file, after many good ones', async () => {
      const lines = await exportLines(cube);
      lines.splice(-1, 0, '{"type":"audit","record":{"id":"nope"}}');
      await expectLineError(lines, lines.length - 1, /record/);
    });

    it('a file cut in the middle of its last line, and a file whose first line is not JSON', async () => {
      const lines = await exportLines(cube);
      const cut = [...lines.slice(0, 6), (lines[6] as string).slice(0, 20)];
      await expectLineError(cut, 7, /ends in the middle of this line .*cut short/);
      await expectLineError(['hello, world', ...lines], 1, /not a memcube export/);
    });

    it('a file cut short at the end of a line: no end line', async () => {
      const lines = await exportLines(cube);
      // The header, 5 items and 5 of the 8 audit records.
      await expectLineError(lines.slice(0, -4), 11, /after 5 items and 5 audit records\): it was cut short/);
    });

    it('an end line whose counts differ from the lines before it', async () => {
      const lines = await exportLines(cube);
      lines.splice(3, 1);
      await expectLineError(
        lines,
        lines.length,
        /counts 5 items and 8 audit records, but the file holds 4 and 8/,
      );
    });

    it('a line after the end line', async () => {
      const lines = await exportLines(cube);
      lines.push(lines[1] as string);
      await expectLineError(lines, lines.length, /after the end line/);
    });
  });

  it("derives a version 1 export's context keys again: an older memcube keyed a turn by its own party's", async () => {
    // Context keys on (this suite's cubes run without them).
    const writer = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const reader = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    try {
      const chat = await writer.cube('chat');
      const [first, second, reply] = (
        await chat.add(
          [
            { content: 'I lived in Porto for five years.', speaker: 'Ana' },
            { content: 'Now I live in Lisbon.', speaker: 'Ana' },
            { content: 'Did you like Porto?', role: 'assistant' },
          ],
          { sessionId: 's' },
        )
      ).ids as [string, string, string];
      const stale = 'Ana: I lived in Porto for five years.';
      const v1 = (await exportLines(chat)).slice(0, -1).map((line, i) => {
        const record = JSON.parse(line);
        if (i === 0) record.version = 1;
        if (record.type === 'item' && record.item.id === second) {
          // How an older memcube keyed Ana's second turn: by her first.
          record.item.derived.context = stale;
          record.index.context = stale;
        }
        return JSON.stringify(record);
      });
      const { cube: imported } = await reader.importCube(v1);
      expect((await imported.get(second)).derived.context).toBeNull();
      // The assistant's reply answers Ana: its key is kept.
      const replyKey = (await chat.get(reply)).derived.context;
      expect(replyKey).toBe(`${stale}\nAna: Now I live in Lisbon.`);
      expect((await imported.get(reply)).derived.context).toBe(replyKey);
      const porto = (await imported.search('Porto', { channels: ['lexical'] })).map((h) => h.item.id);
      expect(porto.sort()).toEqual([first, reply].sort());
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('imports a version 1 export, which has no end line', async () => {
    const lines = await exportLines(cube);
    const header = { ...JSON.parse(lines[0] as string), version: 1 };
    const result = await target.importCube([JSON.stringify(header), ...lines.slice(1, -1)]);
    expect(result.items).toBe(5);
    expect(result.auditRecords).toBe(8);
  });

  it('an import into a database that already holds the ids is a conflict that writes nothing', async () => {
    const lines = await exportLines(cube);
    await target.importCube(lines);
    const imported = await target.cube('travel', { create: false });
    const before = {
      stats: await imported.stats(),
      items: await allItems(imported),
      audit: await imported.audit(),
    };

    // Same cube name: the existing cube is untouched.
    const same = await importError(target, lines);
    expect(same.code).toBe('conflict');
    expect(same.message).toContain(ids[0]);
    // Another cube name: it is not created.
    const other = await importError(target, lines, { cube: 'travel-2' });
    expect(other.code).toBe('conflict');
    expect((await target.listCubes()).map((c) => c.name)).toEqual(['travel']);

    expect({
      stats: await imported.stats(),
      items: await allItems(imported),
      audit: await imported.audit(),
    }).toEqual(before);

    // Back into the database it came from: also a conflict, nothing written there either.
    const sourceBefore = await cube.stats();
    expect((await importError(source, lines, { cube: 'travel-again' })).code).toBe('conflict');
    expect(await cube.stats()).toEqual(sourceBefore);
    expect((await source.listCubes()).map((c) => c.name)).toEqual(['travel']);
  });
});
