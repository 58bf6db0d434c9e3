import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemcubeError } from '../../src/core/errors.js';
import { MEMORY_STATUSES } from '../../src/core/types.js';
import type { Cube } from '../../src/os/cube.js';
import { MemoryOS } from '../../src/os/memory-os.js';

const MAX_CONTENT = 100;
const MAX_BATCH = 5;

/** Everything a failed call must leave untouched: counts, every item (any status) and the cube list. */
async function snapshot(os: MemoryOS, cube: Cube) {
  const { items, versions, auditRecords, vectors } = await cube.stats();
  const listed = await cube.list({ statuses: [...MEMORY_STATUSES], limit: 10_000 });
  const cubes = (await os.listCubes()).map((c) => c.name);
  return { items, versions, auditRecords, vectors, listed: listed.items, cubes };
}

/** The call must throw a MemcubeError with this code, a field and message naming the problem, and change nothing. */
async function expectRejected(
  os: MemoryOS,
  cube: Cube,
  call: () => Promise<unknown>,
  expected: { code: string; field?: string; message?: string | RegExp },
): Promise<MemcubeError> {
  const before = await snapshot(os, cube);
  let error: unknown;
  try {
    await call();
  } catch (err) {
    error = err;
  }
  expect(error, 'the call should have thrown').toBeInstanceOf(MemcubeError);
  const err = error as MemcubeError;
  expect(err.code).toBe(expected.code);
  if (expected.field !== undefined) {
    expect(err.field).toBe(expected.field);
    expect(err.message).toContain(expected.field);
  }
  if (expected.message !== undefined) expect(err.message).toMatch(expected.message);
  expect(await snapshot(os, cube)).toEqual(before);
  return err;
}

describe('bad input: typed errors, nothing written', () => {
  let os: MemoryOS;
  let cube: Cube;
  let existing: string;

  beforeEach(async () => {
    os = await MemoryOS.open({
      path: ':memory:',
      embedder: 'none',
      limits: { maxContentChars: MAX_CONTENT, maxBatch: MAX_BATCH },
    });
    cube = await os.cube('guarded');
    const { ids } = await cube.add([{ content: 'An existing memory.' }, { content: 'Another one.' }], {
      sessionId: 's',
    });
    existing = ids[0] as string;
  });
  afterEach(async () => {
    await os.close();
  });

  describe('add', () => {
    it('empty content', async () => {
      await expectRejected(os, cube, () => cube.add(''), {
        code: 'invalid_input',
        field: 'messages[0].content',
        message: /empty/,
      });
      await expectRejected(os, cube, () => cube.add({ content: '' }), {
        code: 'invalid_input',
        field: 'messages[0].content',
      });
    });

    it('whitespace-only content', async () => {
      await expectRejected(os, cube, () => cube.add(' \n\t  '), {
        code: 'invalid_input',
        field: 'messages[0].content',
        message: /empty/,
      });
    });

    it('content over limits.maxContentChars', async () => {
      const err = await expectRejected(os, cube, () => cube.add('x'.repeat(MAX_CONTENT + 1)), {
        code: 'invalid_input',
        field: 'messages[0].content',
        message: /101 characters, over the limit of 100/,
      });
      expect(err.message).toContain('maxContentChars');
      // Exactly at the limit is fine.
      expect((await cube.add('y'.repeat(MAX_CONTENT))).items[0]?.created).toBe(true);
    });

    it('content of the wrong type', async () => {
      await expectRejected(os, cube, () => cube.add({ content: 42 } as never), {
        code: 'invalid_input',
        field: 'messages[0].content',
      });
      await expectRejected(os, cube, () => cube.add({} as never), {
        code: 'invalid_input',
        field: 'messages[0].content',
      });
      await expectRejected(os, cube, () => cube.add(42 as never), {
        code: 'invalid_input',
        field: 'messages[0]',
      });
      await expectRejected(os, cube, () => cube.add(null as never), {
        code: 'invalid_input',
        field: 'messages[0]',
      });
    });

    it('an unknown role', async () => {
      await expectRejected(os, cube, () => cube.add({ content: 'x', role: 'wizard' } as never), {
        code: 'invalid_input',
        field: 'messages[0].role',
      });
    });

    it('a time that is not a date', async () => {
      await expectRejected(os, cube, () => cube.add({ content: 'x', at: 'not a date' }), {
        code: 'invalid_input',
        field: 'messages[0].at',
        message: /not a date/,
      });
      await expectRejected(os, cube, () => cube.add({ content: 'x', at: Number.NaN }), {
        code: 'invalid_input',
        field: 'messages[0].at',
      });
      await expectRejected(os, cube, () => cube.add({ content: 'x', at: new Date('nope') }), {
        code: 'invalid_input',
        field: 'messages[0].at',
      });
    });

    it('a numeric time outside the range a Date can hold', async () => {
      // 1e20 ms is finite but beyond ±8.64e15, so new Date(1e20).toISOString() throws: if it were
      // stored, every later list/search/stats of the cube would fail with a RangeError.
      await expectRejected(os, cube, () => cube.add({ content: 'far future', at: 1e20 }), {
        code: 'invalid_input',
        field: 'messages[0].at',
      });
      await expectRejected(os, cube, () => cube.add({ content: 'far past', at: -1e17 }), {
        code: 'invalid_input',
        field: 'messages[0].at',
      });
      expect((await cube.list()).items).toHaveLength(2);
    });

    it('a time string that only a lenient parser would read as a date', async () => {
      // Date.parse reads 'Meeting 5' as 2001-05-01, 'hello 2020' as 2020-01-01 and rolls 2024-02-30 to March 1.
      for (const at of ['Meeting 5', 'hello 2020', '2024-02-30']) {
        await expectRejected(os, cube, () => cube.add({ content: 'x', at }), {
          code: 'invalid_input',
          field: 'messages[0].at',
        });
      }
    });

    it('metadata that cannot be stored as JSON', async () => {
      await expectRejected(os, cube, () => cube.add({ content: 'x', metadata: { n: 10n } }), {
        code: 'invalid_input',
        field: 'messages[0].metadata',
      });
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expectRejected(os, cube, () => cube.add({ content: 'x', metadata: circular }), {
        code: 'invalid_input',
        field: 'messages[0].metadata',
      });
    });

    it('tags that are not a list of labels', async () => {
      await expectRejected(os, cube, () => cube.add({ content: 'x', tags: 'x' } as never), {
        code: 'invalid_input',
        field: 'messages[0].tags',
      });
      await expectRejected(os, cube, () => cube.add({ content: 'x', tags: ['ok', ''] }), {
        code: 'invalid_input',
        field: 'messages[0].tags[1]',
      });
      await expectRejected(os, cube, () => cube.add({ content: 'x', tags: ['bad\u0000tag'] }), {
        code: 'invalid_input',
        field: 'messages[0].tags[0]',
      });
    });

    it('an unknown field in a message', async () => {
      await expectRejected(os, cube, () => cube.add({ content: 'x', colour: 'red' } as never), {
        code: 'invalid_input',
        field: 'messages[0].colour',
        message: /unknown field/,
      });
    });

    it('bad add options', async () => {
      await expectRejected(os, cube, () => cube.add('x', { sessionId: '' }), {
        code: 'invalid_input',
        field: 'options.sessionId',
      });
      await expectRejected(os, cube, () => cube.add('x', { session: 's' } as never), {
        code: 'invalid_input',
        field: 'options.session',
      });
      await expectRejected(os, cube, () => cube.add('x', { tags: 'x' } as never), {
        code: 'invalid_input',
        field: 'options.tags',
      });
    });

    it('a batch whose last message is bad writes none of the batch', async () => {
      await expectRejected(
        os,
        cube,
        () =>
          cube.add([{ content: 'good one' }, { content: 'good two' }, { content: '   ' }], {
            sessionId: 'batch',
          }),
        { code: 'invalid_input', field: 'messages[2].content' },
      );
      await expectRejected(
        os,
        cube,
        () =>
          cube.add([
            { content: 'good one' },
            { content: 'good two' },
            { content: 'bad', role: 'wizard' } as never,
          ]),
        { code: 'invalid_input', field: 'messages[2].role' },
      );
      await expectRejected(
        os,
        cube,
        () =>
          cube.add([
            { content: 'good one' },
            { content: 'good two' },
            { content: 'z'.repeat(MAX_CONTENT + 5) },
          ]),
        {
          code: 'invalid_input',
          field: 'messages[2].content',
        },
      );
      expect(await cube.search('good')).toEqual([]);
    });

    it('more messages than limits.maxBatch, and none at all', async () => {
      const many = Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ content: `message ${i}` }));
      await expectRejected(os, cube, () => cube.add(many), {
        code: 'invalid_input',
        field: 'messages',
        message: /over the limit of 5/,
      });
      await expectRejected(os, cube, () => cube.add([]), { code: 'invalid_input', field: 'messages' });
      // Exactly at the limit is fine.
      expect((await cube.add(many.slice(0, MAX_BATCH))).ids).toHaveLength(MAX_BATCH);
    });
  });

  describe('search, context and list', () => {
    it('bad search options', async () => {
      await expectRejected(os, cube, () => cube.search('memory', { limit: 0 }), {
        code: 'invalid_input',
        field: 'options.limit',
      });
      await expectRejected(os, cube, () => cube.search('memory', { limit: 'ten' } as never), {
        code: 'invalid_input',
        field: 'options.limit',
      });
      await expectRejected(os, cube, () => cube.search('memory', { limit: 2.5 }), {
        code: 'invalid_input',
        field: 'options.limit',
      });
      await expectRejected(os, cube, () => cube.search('memory', { limti: 3 } as never), {
        code: 'invalid_input',
        field: 'options.limti',
      });
      await expectRejected(os, cube, () => cube.search('memory', { roles: ['wizard'] } as never), {
        code: 'invalid_input',
        field: 'options.roles[0]',
      });
      await expectRejected(os, cube, () => cube.search('memory', { from: 'yesterday-ish' }), {
        code: 'invalid_input',
        field: 'options.from',
      });
      await expectRejected(
        os,
        cube,
        () => cube.search('memory', { from: '2024-06-01T00:00:00Z', to: '2024-06-01T00:00:00Z' }),
        { code: 'invalid_input', field: 'options.to' },
      );
      await expectRejected(os, cube, () => cube.search('memory', { channels: [] }), {
        code: 'invalid_input',
        field: 'options.channels',
      });
      await expectRejected(os, cube, () => cube.search(''), { code: 'invalid_input', field: 'query' });
    });

    it('audit bounds that cross', async () => {
      await expectRejected(os, cube, () => cube.audit({ afterId: 5, beforeId: 5 }), {
        code: 'invalid_input',
        field: 'query.beforeId',
        message: /not greater than the lower bound, 5/,
      });
      await expectRejected(
        os,
        cube,
        () => os.audit({ from: Date.UTC(2024, 5, 1), to: Date.UTC(2024, 4, 1), limit: 10 }),
        {
          code: 'invalid_input',
          field: 'query.to',
        },
      );
      // Bounds that do not cross are a query, even an empty one.
      expect(await cube.audit({ afterId: 5, beforeId: 6 })).toEqual([]);
    });

    it('audit queries checked as every other call is: unknown keys, orders and limits named', async () => {
      await expectRejected(os, cube, () => cube.audit({ newest: true } as never), {
        code: 'invalid_input',
        field: 'query.newest',
      });
      await expectRejected(os, cube, () => cube.audit({ order: 'desc' } as never), {
        code: 'invalid_input',
        field: 'query.order',
        message: /expected one of "oldest", "newest"/,
      });
      await expectRejected(os, cube, () => cube.audit({ limit: 0 }), {
        code: 'invalid_input',
        field: 'query.limit',
      });
      await expectRejected(os, cube, () => os.audit({ cube: 'guarded', from: 'last week' }), {
        code: 'invalid_input',
        field: 'query.from',
      });
      // Times are ISO strings too, as everywhere else.
      const adds = await cube.audit({ from: '2000-01-01', order: 'newest', limit: 1 });
      expect(adds.map((r) => r.operation)).toEqual(['add']);
    });

    it('bad context and list options', async () => {
      await expectRejected(os, cube, () => cube.context('memory', { tokenBudget: 10 }), {
        code: 'invalid_input',
        field: 'options.tokenBudget',
      });
      await expectRejected(os, cube, () => cube.list({ limit: -1 }), {
        code: 'invalid_input',
        field: 'options.limit',
      });
      await expectRejected(os, cube, () => cube.list({ order: 'sideways' } as never), {
        code: 'invalid_input',
        field: 'options.order',
      });
    });
  });

  describe('update', () => {
    it('an empty patch', async () => {
      await expectRejected(os, cube, () => cube.update(existing, {}), {
        code: 'invalid_input',
        field: 'patch',
        message: /at least one/,
      });
    });

    it('empty or whitespace content', async () => {
      await expectRejected(os, cube, () => cube.update(existing, { content: '' }), {
        code: 'invalid_input',
        field: 'patch.content',
      });
      await expectRejected(os, cube, () => cube.update(existing, { content: '  \n ' }), {
        code: 'invalid_input',
        field: 'patch.content',
      });
    });

    it('content over the limit, wrong types and unknown fields', async () => {
      await expectRejected(os, cube, () => cube.update(existing, { content: 'q'.repeat(MAX_CONTENT + 1) }), {
        code: 'invalid_input',
        field: 'patch.content',
      });
      await expectRejected(os, cube, () => cube.update(existing, { tags: 'x' } as never), {
        code: 'invalid_input',
        field: 'patch.tags',
      });
      await expectRejected(os, cube, () => cube.update(existing, { validFrom: 'someday' }), {
        code: 'invalid_input',
        field: 'patch.validFrom',
      });
      await expectRejected(os, cube, () => cube.update(existing, { status: 'deleted' } as never), {
        code: 'invalid_input',
        field: 'patch.status',
      });
    });

    it('an end of truth at or before the event time, set or left by the patch', async () => {
      await cube.update(existing, { validFrom: '2024-05-01T00:00:00Z' });
      await expectRejected(os, cube, () => cube.update(existing, { validTo: '2024-05-01T00:00:00Z' }), {
        code: 'invalid_input',
        field: 'patch.validTo',
        message: /2024-05-01T00:00:00.000Z is not after the memory's event time, 2024-05-01T00:00:00.000Z/,
      });
      await cube.update(existing, { validTo: '2024-06-01T00:00:00Z' });
      // Moving the event time past the stored end is refused; moving both together is not.
      await expectRejected(os, cube, () => cube.update(existing, { validFrom: '2024-07-01T00:00:00Z' }), {
        code: 'invalid_input',
        field: 'patch.validFrom',
        message:
          /the event time, 2024-07-01T00:00:00.000Z, is not before the memory's end, 2024-06-01T00:00:00.000Z/,
      });
      const moved = await cube.update(existing, {
        validFrom: '2024-07-01T00:00:00Z',
        validTo: '2024-08-01T00:00:00Z',
      });
      expect([moved.validFrom, moved.validTo]).toEqual([
        '2024-07-01T00:00:00.000Z',
        '2024-08-01T00:00:00.000Z',
      ]);
      // A cleared event time counts from when the memory was added, long after that end.
      await expectRejected(os, cube, () => cube.update(existing, { validFrom: null }), {
        code: 'invalid_input',
        field: 'patch.validFrom',
        message: /the time it was added, \S+, is not before the memory's end, 2024-08-01T00:00:00.000Z/,
      });
    });

    it('a contradiction already stored (an import of an older export) leaves other fields updatable', async () => {
      const lines: string[] = [];
      for await (const line of cube.export()) {
        // The item's end set before its start, as an older version could store it.
        const crossed =
          line.type === 'item' && line.item.id === existing
            ? {
                ...line,
                item: {
                  ...line.item,
                  validFrom: '2024-05-01T00:00:00.000Z',
                  validTo: '2020-01-01T00:00:00.000Z',
                },
              }
            : line;
        lines.push(JSON.stringify(crossed));
      }
      const other = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
      try {
        const { cube: copy } = await other.importCube(lines);
        const tagged = await copy.update(existing, {
          tags: ['kept'],
          content: 'An existing memory, corrected.',
        });
        expect([tagged.version, tagged.tags, tagged.validTo]).toEqual([
          2,
          ['kept'],
          '2020-01-01T00:00:00.000Z',
        ]);
        // Setting a time checks it against the other.
        const err = await copy
          .update(existing, { validFrom: '2024-06-01T00:00:00Z' })
          .catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'invalid_input', field: 'patch.validFrom' });
      } finally {
        await other.close();
      }
    });

    it('an out-of-range time or non-JSON metadata', async () => {
      await expectRejected(os, cube, () => cube.update(existing, { validFrom: 1e20 }), {
        code: 'invalid_input',
        field: 'patch.validFrom',
      });
      await expectRejected(os, cube, () => cube.update(existing, { metadata: { n: 1n } }), {
        code: 'invalid_input',
        field: 'patch.metadata',
      });
    });
  });
});

describe('bad config for MemoryOS.open', () => {
  async function configError(options: unknown): Promise<MemcubeError> {
    try {
      const os = await MemoryOS.open(options as never);
      await os.close();
    } catch (err) {
      expect(err).toBeInstanceOf(MemcubeError);
      return err as MemcubeError;
    }
    throw new Error('expected MemoryOS.open to fail');
  }

  it.each([
    [{ path: ':memory:', embedder: 'none', durability: 'sometimes' }, 'durability'],
    [{ path: ':memory:', embedder: 'quantum' }, 'embedder'],
    [{ path: ':memory:', embedder: 'none', tenant: 'no spaces allowed' }, 'tenant'],
    [{ path: ':memory:', embedder: 'none', limits: { maxContentChars: 0 } }, 'limits.maxContentChars'],
    [{ path: ':memory:', embedder: 'none', limits: { maxBatch: 'lots' } }, 'limits.maxBatch'],
    [{ path: ':memory:', embedder: 'none', retrieval: { rrfK: 0 } }, 'retrieval.rrfK'],
    [{ path: ':memory:', embedder: 'none', colour: 'red' }, 'colour'],
    [{ path: '', embedder: 'none' }, 'path'],
  ])('%j → invalid_config naming %s', async (options, field) => {
    const err = await configError(options);
    expect(err.code).toBe('invalid_config');
    expect(err.field).toBe(field);
    expect(err.message).toContain(field);
  });
});
