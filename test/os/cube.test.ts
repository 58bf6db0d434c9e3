import fs from 'node:fs';
import os_ from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETRIEVAL_CONFIG } from '../../src/core/config.js';
import { MemcubeError } from '../../src/core/errors.js';
import { isItemId } from '../../src/core/ids.js';
import type { MessageInput } from '../../src/core/schemas.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { LocalEmbedder } from '../../src/embed/local.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import { countTokens } from '../../src/retrieve/tokens.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { cachedEmbeddingRows } from '../helpers/embedding-cache.js';
import { expectNoDeletedWordsAcrossProcesses } from '../helpers/interleaved-writes.js';
import { PLAIN_RETRIEVAL } from '../helpers/plain-retrieval.js';

/** The reciprocal-rank-fusion constant these searches fuse with (the default). */
const { rrfK } = DEFAULT_RETRIEVAL_CONFIG;

/** Runs `fn` and returns the MemcubeError it throws (fails the test otherwise). */
async function caught(fn: () => Promise<unknown>): Promise<MemcubeError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MemcubeError);
    return err as MemcubeError;
  }
  throw new Error('expected a MemcubeError, but the call succeeded');
}

/** Two sessions, two speakers, tags and event times spread over three days. */
const CONVERSATION: Array<{ messages: MessageInput[]; sessionId: string }> = [
  {
    sessionId: 'session-1',
    messages: [
      {
        content: 'I adopted a puppy named Biscuit from the shelter.',
        speaker: 'Caroline',
        role: 'user',
        at: '2024-03-01T09:00:00Z',
        tags: ['pets'],
      },
      {
        content: 'Congratulations on the puppy! How is Biscuit settling in?',
        speaker: 'Assistant',
        role: 'assistant',
        at: '2024-03-01T09:01:00Z',
      },
    ],
  },
  {
    sessionId: 'session-2',
    messages: [
      {
        content: 'Biscuit the puppy chewed my running shoes.',
        speaker: 'Caroline',
        role: 'user',
        at: '2024-03-02T18:00:00Z',
        tags: ['pets', 'sport'],
      },
      {
        content: 'My puppy Pepper loves the dog park.',
        speaker: 'Melanie',
        role: 'user',
        at: '2024-03-03T08:30:00Z',
        tags: ['pets'],
      },
    ],
  },
];

async function seed(cube: Awaited<ReturnType<MemoryOS['cube']>>): Promise<string[]> {
  const ids: string[] = [];
  for (const { messages, sessionId } of CONVERSATION) {
    ids.push(...(await cube.add(messages, { sessionId })).ids);
  }
  return ids;
}

describe('Cube (embedder none)', () => {
  let os: MemoryOS;
  beforeEach(async () => {
    os = await MemoryOS.open({ ...PLAIN_RETRIEVAL, path: ':memory:', embedder: 'none', actor: 'tester' });
  });
  afterEach(async () => {
    await os.close();
  });

  it('add returns one stable id per message, in order, that get returns', async () => {
    const cube = await os.cube('notes');
    const result = await cube.add([{ content: 'first' }, { content: 'second' }], { sessionId: 's' });
    expect(result.ids).toHaveLength(2);
    expect(result.ids.every(isItemId)).toBe(true);
    expect(result.items).toEqual(result.ids.map((id) => ({ id, created: true })));
    const [first, second] = await Promise.all(result.ids.map((id) => cube.get(id)));
    expect(first).toMatchObject({
      id: result.ids[0],
      content: 'first',
      cube: 'notes',
      kind: 'episode',
      status: 'active',
      version: 1,
      turnIndex: 0,
    });
    expect(second).toMatchObject({ id: result.ids[1], content: 'second', turnIndex: 1, sessionId: 's' });
    // The id survives an update.
    const updated = await cube.update(result.ids[0] as string, { content: 'first, edited' });
    expect(updated.id).toBe(result.ids[0]);
    expect((await cube.get(result.ids[0] as string)).content).toBe('first, edited');
  });

  it('a string add stores one user episode', async () => {
    const cube = await os.cube('notes');
    const { ids } = await cube.add('Remember: the wifi password is on the fridge.');
    const item = await cube.get(ids[0] as string);
    expect(item).toMatchObject({ role: 'user', speaker: null, sessionId: null, turnIndex: null, version: 1 });
    expect(item.validFrom).not.toBeNull();
  });

  it('search returns hits with lexical channel scores only', async () => {
    const cube = await os.cube('chat');
    const ids = await seed(cube);
    const hits = await cube.search('running shoes');
    expect(hits.map((h) => h.item.id)).toEqual([ids[2]]);
    const [top] = hits;
    expect(Object.keys(top?.channels ?? {})).toEqual(['lexical']);
    expect(top?.channels.lexical?.rank).toBe(1);
    expect(top?.channels.lexical?.score).toBeGreaterThan(0);
    expect(top?.score).toBe(1 / (rrfK + 1));
  });

  it('asking for the vector channel on a lexical-only cube is invalid_input naming channels', async () => {
    const cube = await os.cube('chat');
    await seed(cube);
    const err = await caught(() => cube.search('puppy', { channels: ['vector'] }));
    expect(err.code).toBe('invalid_input');
    expect(err.field).toBe('channels');
    expect(err.message).toContain('channels');
    const ctxErr = await caught(() => cube.context('puppy', { channels: ['lexical', 'vector'] }));
    expect(ctxErr.field).toBe('channels');
    expect(await cube.search('puppy', { channels: ['lexical'] })).toHaveLength(4);
  });

  it('an empty query is invalid_input naming query', async () => {
    const cube = await os.cube('chat');
    const err = await caught(() => cube.search('   '));
    expect(err.code).toBe('invalid_input');
    expect(err.field).toBe('query');
  });

  it('filters narrow search, context and list alike', async () => {
    const cube = await os.cube('chat');
    const ids = await seed(cube);
    const [adopted, congrats, shoes, pepper] = ids;
    const sorted = (xs: Array<string | undefined>) => [...xs].sort();
    const cases: Array<{ filter: Record<string, unknown>; expected: Array<string | undefined> }> = [
      { filter: {}, expected: [adopted, congrats, shoes, pepper] },
      { filter: { sessionIds: ['session-1'] }, expected: [adopted, congrats] },
      { filter: { sessionIds: ['session-2', 'nope'] }, expected: [shoes, pepper] },
      { filter: { speakers: ['Melanie'] }, expected: [pepper] },
      { filter: { roles: ['assistant'] }, expected: [congrats] },
      { filter: { tags: ['pets'] }, expected: [adopted, shoes, pepper] },
      { filter: { tags: ['pets', 'sport'] }, expected: [shoes] },
      { filter: { from: '2024-03-02T00:00:00Z' }, expected: [shoes, pepper] },
      { filter: { to: '2024-03-02T00:00:00Z' }, expected: [adopted, congrats] },
      { filter: { from: '2024-03-02T00:00:00Z', to: new Date('2024-03-03T00:00:00Z') }, expected: [shoes] },
      { filter: { from: Date.parse('2024-03-03T08:30:00Z') }, expected: [pepper] },
      { filter: { kinds: ['episode'] }, expected: [adopted, congrats, shoes, pepper] },
      { filter: { kinds: ['fact'] }, expected: [] },
      { filter: { speakers: ['Caroline'], sessionIds: ['session-1'] }, expected: [adopted] },
    ];
    for (const { filter, expected } of cases) {
      const label = JSON.stringify(filter);
      const hits = await cube.search('puppy Biscuit', filter);
      expect(sorted(hits.map((h) => h.item.id)), `search ${label}`).toEqual(sorted(expected));
      const listed = await cube.list(filter);
      expect(sorted(listed.items.map((i) => i.id)), `list ${label}`).toEqual(sorted(expected));
      const pack = await cube.context('puppy Biscuit', filter);
      expect(sorted(pack.items.map((i) => i.id)), `context ${label}`).toEqual(sorted(expected));
    }
  });

  it('context stays within the budget, cites ids and reads oldest first', async () => {
    const cube = await os.cube('chat');
    const ids = await seed(cube);
    const pack = await cube.context('Biscuit puppy shoes dog park', { tokenBudget: 2000 });
    expect(pack.tokens).toBeLessThanOrEqual(2000);
    expect(pack.tokens).toBe(countTokens(pack.text));
    expect(pack.omitted).toBe(0);
    // Oldest first: the seed is in chronological order, so ids come back in seed order.
    expect(pack.items.map((i) => i.id)).toEqual(ids);
    // Each memory line cites its short id (the id's last 12 hex digits), under a day/session heading.
    const lines = pack.text.split('\n').filter((l) => l.startsWith('['));
    expect(lines).toHaveLength(4);
    lines.forEach((line, n) => {
      expect(line.endsWith(`#${ids[n]?.slice(-12)}`)).toBe(true);
    });
    expect(pack.text.split('\n')[1]).toBe('## 2024-03-01 (Fri) · session session-1');
    expect(lines[0]).toMatch(/^\[09:00\] Caroline: /);
    expect(lines[3]).toMatch(/^\[\d\d:\d\d\] Melanie: /);

    // A small budget keeps only what fits.
    const small = await cube.context('Biscuit puppy shoes dog park', { tokenBudget: 100 });
    expect(small.tokens).toBeLessThanOrEqual(100);
    expect(small.items.length).toBeGreaterThan(0);
    expect(small.items.length).toBeLessThan(4);
    expect(small.omitted).toBe(4 - small.items.length);
  });

  it('context for a query that matches nothing is empty', async () => {
    const cube = await os.cube('chat');
    await seed(cube);
    const pack = await cube.context('quantum chromodynamics');
    expect(pack).toMatchObject({ text: '', tokens: 0, items: [], omitted: 0 });
  });

  it('update writes a new version; history keeps both with actor and operation', async () => {
    const cube = await os.cube('chat');
    const { ids } = await cube.add({ content: 'I live in Porto.', tags: ['home'] }, { sessionId: 's' });
    const id = ids[0] as string;
    const before = await cube.get(id);
    const after = await cube.update(id, {
      content: 'I live in Lisbon.',
      tags: ['home', 'moved', 'home'],
      metadata: { source: 'fix' },
    });
    expect(after).toMatchObject({
      id,
      content: 'I live in Lisbon.',
      version: 2,
      tags: ['home', 'moved'],
      metadata: { source: 'fix' },
    });
    expect(after.createdAt).toBe(before.createdAt);

    const history = await cube.history(id);
    expect(history.map((v) => [v.version, v.operation, v.content, v.changedBy, v.status])).toEqual([
      [1, 'add', 'I live in Porto.', 'tester', 'active'],
      [2, 'update', 'I live in Lisbon.', 'tester', 'active'],
    ]);
    expect(history[0]?.tags).toEqual(['home']);
    expect(history[1]?.tags).toEqual(['home', 'moved']);

    // The index follows the content: the new words are found, the old ones are not.
    expect((await cube.search('Lisbon')).map((h) => h.item.id)).toEqual([id]);
    expect(await cube.search('Porto')).toEqual([]);

    const audit = await cube.audit({ itemId: id });
    expect(audit.map((a) => [a.operation, a.actor, a.versionBefore, a.versionAfter])).toEqual([
      ['add', 'tester', null, 1],
      ['update', 'tester', 1, 2],
    ]);
    // The short id `get` takes names the same records; what is no id at all is bad input.
    expect(await cube.audit({ itemId: id.slice(-12) })).toEqual(audit);
    expect((await caught(() => cube.audit({ itemId: 'garbage' }))).code).toBe('invalid_input');

    // Event-time updates.
    const moved = await cube.update(id, {
      validFrom: '2020-01-01T00:00:00Z',
      validTo: '2021-01-01T00:00:00Z',
    });
    expect(moved).toMatchObject({
      version: 3,
      validFrom: '2020-01-01T00:00:00.000Z',
      validTo: '2021-01-01T00:00:00.000Z',
    });
    const cleared = await cube.update(id, { validTo: null });
    expect(cleared.validTo).toBeNull();
    expect(cleared.validFrom).toBe('2020-01-01T00:00:00.000Z');
    // New text with a new event time: its relative dates count from the new time.
    const redated = await cube.update(id, {
      content: 'I arrived yesterday.',
      validFrom: '2024-06-02T09:00:00Z',
    });
    expect(redated.derived.dates.map((d) => d.date)).toEqual(['2024-06-01']);
    // A new event time alone moves them too; the text stays as it was.
    const later = await cube.update(id, { validFrom: '2024-07-10T09:00:00Z' });
    expect(later.derived.dates.map((d) => d.date)).toEqual(['2024-07-09']);
    expect(later.content).toBe('I arrived yesterday.');
    expect((await cube.history(id)).at(-1)).toMatchObject({
      content: 'I arrived yesterday.',
      version: later.version,
    });
    // A patch that says what the memory already says writes nothing: same version, no record.
    const records = (await cube.audit({ itemId: id })).length;
    const same = await cube.update(id, {
      content: 'I arrived yesterday.',
      validFrom: '2024-07-10T09:00:00Z',
      validTo: null,
      tags: [...later.tags],
    });
    expect(same.version).toBe(later.version);
    // Text is compared as it is stored, trimmed.
    expect((await cube.update(id, { content: '  I arrived yesterday. ' })).version).toBe(later.version);
    expect(await cube.audit({ itemId: id })).toHaveLength(records);
    // Cleared, they count from when it was added.
    const cleared2 = await cube.update(id, { validFrom: null });
    const dayBeforeAdded = new Date(Date.parse(cleared2.createdAt) - 86_400_000).toISOString().slice(0, 10);
    expect(cleared2.derived.dates.map((d) => d.date)).toEqual([dayBeforeAdded]);
  });

  it('delete hides an item from search, list and context; get shows it deleted; restore brings it back', async () => {
    const cube = await os.cube('chat');
    const ids = await seed(cube);
    const shoes = ids[2] as string;
    const deleted = await cube.delete(shoes);
    expect(deleted).toMatchObject({ id: shoes, status: 'deleted', version: 2 });

    expect((await cube.search('running shoes')).map((h) => h.item.id)).toEqual([]);
    expect((await cube.list()).items.map((i) => i.id)).not.toContain(shoes);
    expect((await cube.context('running shoes Biscuit')).items.map((i) => i.id)).not.toContain(shoes);
    expect((await cube.get(shoes)).status).toBe('deleted');
    // Still reachable when asked for explicitly.
    expect((await cube.list({ statuses: ['deleted'] })).items.map((i) => i.id)).toEqual([shoes]);

    const err = await caught(() => cube.delete(shoes));
    expect(err.code).toBe('conflict');
    const updErr = await caught(() => cube.update(shoes, { content: 'x' }));
    expect(updErr.code).toBe('conflict');
    // Its own text too: a deleted memory takes no update, even one that would change nothing.
    const sameErr = await caught(async () =>
      cube.update(shoes, { content: (await cube.get(shoes)).content }),
    );
    expect(sameErr.code).toBe('conflict');

    const restored = await cube.restore(shoes);
    expect(restored).toMatchObject({ status: 'active', version: 3 });
    expect((await cube.search('running shoes')).map((h) => h.item.id)).toEqual([shoes]);
    expect((await cube.list()).items.map((i) => i.id)).toContain(shoes);
    expect((await cube.history(shoes)).map((v) => [v.operation, v.status])).toEqual([
      ['add', 'active'],
      ['delete', 'deleted'],
      ['restore', 'active'],
    ]);
  });

  it('dedupes identical content in the same session, not across sessions or speakers', async () => {
    const cube = await os.cube('chat');
    const first = await cube.add({ content: 'I like tea.', speaker: 'Ana' }, { sessionId: 's1' });
    const again = await cube.add({ content: '  I like tea.  ', speaker: 'Ana' }, { sessionId: 's1' });
    expect(again.ids).toEqual(first.ids);
    expect(again.items).toEqual([{ id: first.ids[0], created: false }]);

    const otherSession = await cube.add({ content: 'I like tea.', speaker: 'Ana' }, { sessionId: 's2' });
    expect(otherSession.items[0]?.created).toBe(true);
    const otherSpeaker = await cube.add({ content: 'I like tea.', speaker: 'Bo' }, { sessionId: 's1' });
    expect(otherSpeaker.items[0]?.created).toBe(true);

    // Within one batch too.
    const batch = await cube.add([{ content: 'Same.' }, { content: 'Same.' }], { sessionId: 's3' });
    expect(batch.items.map((o) => o.created)).toEqual([true, false]);
    expect(batch.ids[0]).toBe(batch.ids[1]);

    const stats = await cube.stats();
    expect(stats.items).toBe(4);
    expect(stats.versions).toBe(4);
  });

  it('keeps the same words said again at another stated time: a transcript sent twice is stored once', async () => {
    const cube = await os.cube('chat');
    const transcript = [
      { content: 'Yes!', speaker: 'Ana', at: '2024-03-01T10:00:00Z' },
      { content: 'Did you like it?', speaker: 'Bo', at: '2024-03-01T10:01:00Z' },
      { content: 'Yes!', speaker: 'Ana', at: '2024-03-01T10:02:00Z' },
    ];
    const first = await cube.add(transcript, { sessionId: 's1' });
    expect(first.items.map((o) => o.created)).toEqual([true, true, true]);
    const resent = await cube.add(transcript, { sessionId: 's1' });
    expect(resent.ids).toEqual(first.ids);
    // A note without a session, on two days.
    const monday = await cube.add({ content: 'Went running.', at: '2024-03-04T07:00:00Z' });
    const tuesday = await cube.add({ content: 'Went running.', at: '2024-03-05T07:00:00Z' });
    expect(tuesday.ids).not.toEqual(monday.ids);
    // Without a time or a session, a note is a retry within the hour only, so a daily log keeps each day.
    const today = await cube.add('Took my vitamins.');
    expect((await cube.add('Took my vitamins.')).ids).toEqual(today.ids);
    expect((await cube.stats()).items).toBe(6);
  });

  it('list pages with a cursor in both orders', async () => {
    const cube = await os.cube('chat');
    const ids = await seed(cube);
    const page1 = await cube.list({ limit: 3 });
    expect(page1.items.map((i) => i.id)).toEqual(ids.slice(0, 3));
    expect(page1.nextCursor).toBeDefined();
    const page2 = await cube.list({ limit: 3, cursor: page1.nextCursor });
    expect(page2.items.map((i) => i.id)).toEqual(ids.slice(3));
    expect(page2.nextCursor).toBeUndefined();
    const desc = await cube.list({ order: 'desc' });
    expect(desc.items.map((i) => i.id)).toEqual([...ids].reverse());
    const err = await caught(() => cube.list({ cursor: 'garbage' }));
    expect(err).toMatchObject({ code: 'invalid_input', field: 'cursor' });
  });

  it('get of an unknown id is not_found; a non-id is invalid_input naming id', async () => {
    const cube = await os.cube('chat');
    await seed(cube);
    const missing = await caught(() => cube.get('0190f000-0000-7000-8000-000000000000'));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toContain('0190f000-0000-7000-8000-000000000000');

    for (const bad of ['../../etc/passwd', '', 'not-a-uuid', "1' OR '1'='1"]) {
      const err = await caught(() => cube.get(bad));
      expect(err.code).toBe('invalid_input');
      expect(err.field).toBe('id');
    }
    for (const call of [
      () => cube.history('../../etc/passwd'),
      () => cube.delete('../../etc/passwd'),
      () => cube.restore('../../etc/passwd'),
      () => cube.update('../../etc/passwd', { content: 'x' }),
    ]) {
      expect(await caught(call)).toMatchObject({ code: 'invalid_input', field: 'id' });
    }
    const notFound = [
      () => cube.history('0190f000-0000-7000-8000-000000000000'),
      () => cube.delete('0190f000-0000-7000-8000-000000000000'),
      () => cube.update('0190f000-0000-7000-8000-000000000000', { content: 'x' }),
    ];
    for (const call of notFound) expect((await caught(call)).code).toBe('not_found');
  });

  it('keeps cubes isolated from each other', async () => {
    const a = await os.cube('alice');
    const b = await os.cube('bob');
    const { ids } = await a.add('Alice keeps her spare key under the blue flowerpot.');
    await b.add('Bob parks his bicycle in the garage.');
    expect((await b.search('spare key flowerpot')).map((h) => h.item.id)).toEqual([]);
    expect((await b.list()).items.map((i) => i.content)).toEqual(['Bob parks his bicycle in the garage.']);
    expect((await b.context('spare key flowerpot')).items).toEqual([]);
    expect((await caught(() => b.get(ids[0] as string))).code).toBe('not_found');
    expect((await caught(() => b.delete(ids[0] as string))).code).toBe('not_found');
    expect((await caught(() => b.update(ids[0] as string, { content: 'hijack' }))).code).toBe('not_found');
    expect((await a.get(ids[0] as string)).content).toBe(
      'Alice keeps her spare key under the blue flowerpot.',
    );
    expect((await a.stats()).items).toBe(1);
    expect((await b.stats()).items).toBe(1);
  });

  it('keeps tenants isolated inside one database file', async () => {
    const dir = fs.mkdtempSync(path.join(os_.tmpdir(), 'memcube-tenants-'));
    const file = path.join(dir, 'memory.db');
    const acme = await MemoryOS.open({ ...PLAIN_RETRIEVAL, path: file, embedder: 'none', tenant: 'acme' });
    const globex = await MemoryOS.open({
      ...PLAIN_RETRIEVAL,
      path: file,
      embedder: 'none',
      tenant: 'globex',
    });
    try {
      const { ids } = await (await acme.cube('shared-name')).add('acme launch code is 4242');
      const theirs = await globex.cube('shared-name');
      expect(await theirs.search('acme launch code 4242')).toEqual([]);
      expect((await theirs.list()).items).toEqual([]);
      expect((await caught(() => theirs.get(ids[0] as string))).code).toBe('not_found');
      expect((await globex.listCubes()).map((c) => c.tenant)).toEqual(['globex']);
      expect((await acme.listCubes()).map((c) => c.tenant)).toEqual(['acme']);
    } finally {
      await acme.close();
      await globex.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cube(name, { create: false }) on a missing cube is not_found listing the known cubes', async () => {
    const none = await caught(() => os.cube('ghost', { create: false }));
    expect(none.code).toBe('not_found');
    expect(none.message).toContain("'ghost'");
    expect(none.message).toContain('no cubes yet');

    await os.cube('alpha');
    await os.cube('beta');
    const err = await caught(() => os.cube('ghost', { create: false }));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain('alpha, beta');
    expect((await os.listCubes()).map((c) => c.name)).toEqual(['alpha', 'beta']);
    // The failed lookups created nothing.
    expect((await os.cube('alpha', { create: false })).name).toBe('alpha');
  });

  it('rejects invalid cube names with invalid_input naming cube, creating nothing', async () => {
    for (const bad of ['', '../etc', 'has space', '.hidden', 'a/b', 'x'.repeat(129), 'naïve', '-dash']) {
      const err = await caught(() => os.cube(bad));
      expect(err.code, bad).toBe('invalid_input');
      expect(err.field, bad).toBe('cube');
    }
    expect(await os.listCubes()).toEqual([]);
    for (const good of ['a', 'A.b_c-1', 'x'.repeat(128)]) expect((await os.cube(good)).name).toBe(good);
  });

  it('records cube info and stats', async () => {
    const cube = await os.cube('chat');
    await seed(cube);
    expect(cube.info).toMatchObject({ name: 'chat', tenant: 'default', embedderId: 'none', dimensions: 0 });
    const stats = await cube.stats();
    expect(stats).toMatchObject({
      items: 4,
      byKind: { episode: 4 },
      byStatus: { active: 4 },
      sessions: 2,
      versions: 4,
      auditRecords: 5, // create_cube + 4 adds
      vectors: 0,
      firstEventAt: '2024-03-01T09:00:00.000Z',
      lastEventAt: '2024-03-03T08:30:00.000Z',
    });
  });
});

describe('Cube (local embedder)', () => {
  let os: MemoryOS;
  let cube: Awaited<ReturnType<MemoryOS['cube']>>;
  let ids: string[];
  let berlin: string;

  beforeAll(async () => {
    os = await MemoryOS.open({ ...PLAIN_RETRIEVAL, path: ':memory:', embedder: 'local' });
    cube = await os.cube('semantic');
    ids = await seed(cube);
    berlin = (
      await cube.add({
        content: 'I moved to Berlin last month.',
        speaker: 'Melanie',
        at: '2024-03-04T10:00:00Z',
      })
    ).ids[0] as string;
  });
  afterAll(async () => {
    await os.close();
  });

  it('records the embedder and stores one vector per item', async () => {
    expect(os.embedderId).toBe('local:use-lite');
    expect(cube.info).toMatchObject({ embedderId: 'local:use-lite', dimensions: 512 });
    const stats = await cube.stats();
    expect(stats.vectors).toBe(stats.items);
    expect(stats.items).toBe(5);
  });

  it('search fuses the lexical and vector channels, reporting each', async () => {
    const hits = await cube.search('puppy chewed shoes');
    const top = hits[0];
    expect(top?.item.id).toBe(ids[2]);
    expect(Object.keys(top?.channels ?? {}).sort()).toEqual(['lexical', 'vector']);
    const lex = top?.channels.lexical;
    const vec = top?.channels.vector;
    expect(lex?.rank).toBe(1);
    expect(lex?.score).toBeGreaterThan(0);
    expect(vec?.score).toBeGreaterThan(0);
    expect(vec?.score).toBeLessThanOrEqual(1);
    expect(top?.score).toBeCloseTo(1 / (rrfK + (lex?.rank ?? 0)) + 1 / (rrfK + (vec?.rank ?? 0)), 12);
    // Fused scores are non-increasing.
    for (let i = 1; i < hits.length; i++) expect(hits[i]?.score).toBeLessThanOrEqual(hits[i - 1]?.score ?? 0);
  });

  it('finds a paraphrase through the vector channel alone', async () => {
    const hits = await cube.search('relocated to Germany', { channels: ['vector'] });
    expect(hits[0]?.item.id).toBe(berlin);
    expect(hits.every((h) => Object.keys(h.channels).join() === 'vector')).toBe(true);
    const lexical = await cube.search('relocated to Germany', { channels: ['lexical'] });
    expect(lexical.map((h) => h.item.id)).not.toContain(berlin);
    expect(lexical.every((h) => Object.keys(h.channels).join() === 'lexical')).toBe(true);
    // Fused: the paraphrase is still the top hit.
    const fused = await cube.search('relocated to Germany');
    expect(fused[0]?.item.id).toBe(berlin);
  });

  it('filters narrow vector search too', async () => {
    const hits = await cube.search('relocated to Germany', { sessionIds: ['session-1'] });
    expect(hits.map((h) => h.item.id).sort()).toEqual([ids[0], ids[1]].sort());
    const melanie = await cube.search('puppy', { speakers: ['Melanie'], channels: ['vector'] });
    expect(melanie.map((h) => h.item.id).sort()).toEqual([ids[3], berlin].sort());
  });

  it('a deleted item leaves vector search and comes back on restore', async () => {
    await cube.delete(berlin);
    try {
      const hits = await cube.search('relocated to Germany', { channels: ['vector'] });
      expect(hits.map((h) => h.item.id)).not.toContain(berlin);
      expect(hits.length).toBe(4);
    } finally {
      await cube.restore(berlin);
    }
    const back = await cube.search('relocated to Germany', { channels: ['vector'] });
    expect(back[0]?.item.id).toBe(berlin);
  });

  it('context draws on both channels within the budget', async () => {
    const pack = await cube.context('Where does Melanie live now?', { tokenBudget: 300 });
    expect(pack.tokens).toBeLessThanOrEqual(300);
    expect(pack.items.map((i) => i.id)).toContain(berlin);
    expect(pack.text).toContain(`#${berlin.slice(-12)}`);
  });
});

describe('small cubes (local embedder, default config)', () => {
  it('runs no expansion round from guesses: when the words find nothing, the nearest in meaning leads', async () => {
    const os = await MemoryOS.open({ path: ':memory:', embedder: 'local' });
    try {
      const cube = await os.cube('chat');
      await cube.add(
        [
          'I moved to Berlin last month',
          "I'm allergic to peanuts, by the way.",
          'I adopted a cat named Miso yesterday.',
          'My favourite band is Radiohead.',
          'I play the guitar every evening.',
        ].map((content) => ({ content, speaker: 'Alice' })),
        { sessionId: 's1' },
      );
      // No stored word is "allergies" (Porter: "allergi", not "allerg"); the seeds' names would
      // otherwise lift "Berlin" to the top through the expansion round.
      const [first] = await cube.search('allergies');
      expect(first?.item.content).toBe("I'm allergic to peanuts, by the way.");
      expect(first?.channels.expansion).toBeUndefined();
    } finally {
      await os.close();
    }
  });

  it('scores a lone vector hit by its vote, not 0: a ranking of one is not a flat one', async () => {
    const os = await MemoryOS.open({ path: ':memory:', embedder: 'local' });
    try {
      const cube = await os.cube('me');
      await cube.add('I love hiking');
      const [hit, ...rest] = await cube.search('hobbies');
      expect(rest).toEqual([]);
      expect(hit?.item.content).toBe('I love hiking');
      expect(hit?.channels.vector?.rank).toBe(1);
      expect(hit?.score).toBeGreaterThan(0);
    } finally {
      await os.close();
    }
  });
});

describe('query embeddings', () => {
  it('a search writes nothing to the store, and a repeated query is not embedded again', async () => {
    const dir = fs.mkdtempSync(path.join(os_.tmpdir(), 'memcube-query-'));
    const file = path.join(dir, 'memory.db');
    // The real offline model, wrapped to record what it is asked to embed.
    const model = new LocalEmbedder();
    const asked: string[] = [];
    const embedder: Embedder = {
      id: model.id,
      dimensions: () => model.dimensions(),
      embed: (texts) => {
        asked.push(...texts);
        return model.embed(texts);
      },
    };
    const os = await MemoryOS.open({ ...PLAIN_RETRIEVAL, path: file, embedder });
    try {
      const cube = await os.cube('semantic');
      const [berlin] = (await cube.add('I moved to Berlin last month.')).ids;
      const cachedRows = () => cachedEmbeddingRows(file);
      const before = cachedRows();
      expect(before).toBe(1);
      asked.length = 0;
      expect((await cube.search('relocated to Germany', { channels: ['vector'] }))[0]?.item.id).toBe(berlin);
      expect((await cube.context('relocated to Germany')).items.map((i) => i.id)).toEqual([berlin]);
      expect(asked).toEqual(['relocated to Germany']);
      expect(cachedRows()).toBe(before);
    } finally {
      await os.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('default retrieval mechanisms (no LLM)', () => {
  let os: MemoryOS;
  afterEach(async () => {
    await os.close();
  });

  it('finds an answer by its question, shows its derived keys, and resolves short ids', async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const cube = await os.cube('chat');
    const { ids } = await cube.add(
      [
        {
          content: 'Did you go to the pottery class in Boston?',
          speaker: 'Caroline',
          at: '2023-05-08T13:56:00Z',
        },
        { content: 'Yes, last Friday! I made a bowl.', speaker: 'Melanie', at: '2023-05-08T13:57:00Z' },
      ],
      { sessionId: 's1' },
    );
    const answer = ids[1] as string;
    // The answer never says "pottery"; its context key (the question before it) does.
    const hits = await cube.search('Melanie pottery class');
    expect(hits.map((h) => h.item.id)).toContain(answer);
    const item = await cube.get(answer.slice(-12));
    expect(item.id).toBe(answer);
    expect(item.derived.context).toBe('Caroline: Did you go to the pottery class in Boston?');
    expect(item.derived.dates).toEqual([{ text: 'last Friday', date: '2023-05-05' }]);
    expect((await cube.get(ids[0] as string)).derived.entities).toContain('Boston');
    await expect(cube.get('000000000000')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('keys a turn under the turns before it, across add calls, up to contextTurns', async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const cube = await os.cube('chat');
    const say = (speaker: string, content: string) => cube.add([{ content, speaker }], { sessionId: 's1' });
    await say('Caroline', 'What did you think of the Becoming Nicole book?');
    await say('Melanie', 'Oh, I loved it.');
    const { ids } = await say('Melanie', 'It taught me to be true to myself.');
    const item = await cube.get(ids[0] as string);
    expect(item.derived.context).toBe(
      'Caroline: What did you think of the Becoming Nicole book?\nMelanie: Oh, I loved it.',
    );
    // The answer two turns after the question never names the book; its context key does.
    const hits = await cube.search('Becoming Nicole', { channels: ['lexical'] });
    expect(hits.map((h) => h.item.id)).toContain(ids[0]);
    // An edit keeps the turns it answers; a deleted turn's words reach no later turn's key.
    const edited = await cube.update(ids[0] as string, { content: 'It taught me courage.' });
    expect(edited.derived.context).toBe(item.derived.context);
    const [reply] = (await cube.list({ speakers: ['Melanie'] })).items;
    await cube.delete(reply?.id as string);
    const next = await say('Caroline', 'Same here.');
    expect((await cube.get(next.ids[0] as string)).derived.context).toBe(
      'Caroline: What did you think of the Becoming Nicole book?\nMelanie: It taught me courage.',
    );
  });

  it("takes a deleted turn's words out of the context keys after it; restore and edits put them back", async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const cube = await os.cube('chat');
    const { ids } = await cube.add(
      [
        { content: 'My dog Rex is afraid of thunder.', speaker: 'Bob' },
        { content: 'Poor thing.', speaker: 'Alice' },
        { content: 'He hides under the bed.', speaker: 'Bob' },
        { content: 'Try a thundershirt.', speaker: 'Alice' },
        { content: 'Thanks, I will.', speaker: 'Bob' },
      ],
      { sessionId: 's1' },
    );
    const [rex, poor, hides, shirt, thanks] = ids as [string, string, string, string, string];
    const contextOf = async (id: string) => (await cube.get(id)).derived.context;
    const found = async (query: string) =>
      (await cube.search(query, { channels: ['lexical'] })).map((h) => h.item.id).sort();
    const before = await Promise.all(ids.map(contextOf));
    expect(await found('Rex')).toEqual([rex, poor, hides, shirt].sort());

    await cube.delete(rex.slice(-12));
    expect(await found('Rex')).toEqual([]);
    expect(await contextOf(poor)).toBeNull();
    expect(await contextOf(hides)).toBe('Alice: Poor thing.');
    expect(await contextOf(shirt)).toBe('Alice: Poor thing.\nBob: He hides under the bed.');
    // The deleted turn keeps its own text and history; its neighbours' keys held a copy only.
    expect((await cube.get(rex)).content).toBe('My dog Rex is afraid of thunder.');
    expect((await cube.history(shirt)).map((v) => v.version)).toEqual([1]);

    await cube.restore(rex);
    expect(await Promise.all(ids.map(contextOf))).toEqual(before);
    expect(await found('Rex')).toEqual([rex, poor, hides, shirt].sort());

    // An edit: the turns after it are keyed by the new words.
    await cube.update(hides, { content: 'He hides in the closet.' });
    expect(await found('bed')).toEqual([]);
    expect(await found('closet')).toEqual([hides, shirt, thanks].sort());

    // Two deleted turns: the key of the turn after them reaches further back.
    await cube.delete(poor);
    await cube.delete(hides);
    expect(await contextOf(thanks)).toBe('Bob: My dog Rex is afraid of thunder.\nAlice: Try a thundershirt.');
    expect(await found('closet')).toEqual([]);
  });

  it('reads past a long run of deleted turns to the turns whose keys a deletion moves', async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const cube = await os.cube('chat');
    const say = async (content: string, speaker = 'Bob') =>
      (await cube.add([{ content, speaker }], { sessionId: 's1' })).ids[0] as string;
    const secret = await say('The vault code is 4417.');
    const chatter: string[] = [];
    for (let i = 0; i < 20; i++) chatter.push(await say(`Small talk number ${i}.`));
    for (const id of chatter) await cube.delete(id);
    // Added after the chatter was deleted, Ann's answer is keyed by the secret, 21 turns back.
    const later = await say('Noted.', 'Ann');
    expect((await cube.get(later)).derived.context).toBe('Bob: The vault code is 4417.');
    await cube.delete(secret);
    expect((await cube.get(later)).derived.context).toBeNull();
    expect(await cube.search('vault code', { channels: ['lexical'] })).toEqual([]);
  });

  it('keeps no deleted words in any key when writes to one session run at once', async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const cube = await os.cube('chat');
    const turns = ['The vault code is 4417.', 'The alarm code is 9923.', 'Got it.', 'Thanks.', 'Bye.'];
    const speakers = ['Bob', 'Bob', 'Ann', 'Bob', 'Ann'];
    const { ids } = await cube.add(
      turns.map((content, i) => ({ content, speaker: speakers[i] as string })),
      { sessionId: 's1' },
    );
    expect((await cube.get(ids[2] as string)).derived.context).toContain('vault');
    const [vault, alarm, gotIt] = ids as [string, string, string];
    // Two deletes, an add after them and an edit of the turn after them, all at once.
    await Promise.all([
      cube.delete(vault),
      cube.delete(alarm),
      cube.add([{ content: 'See you.', speaker: 'Ann' }], { sessionId: 's1' }),
      cube.update(gotIt, { content: 'Got it, thanks.' }),
    ]);
    const { items } = await cube.list({ sessionIds: ['s1'] });
    expect(items.map((i) => i.content)).toEqual(['Got it, thanks.', 'Thanks.', 'Bye.', 'See you.']);
    for (const item of items) expect(item.derived.context ?? '').not.toMatch(/vault|alarm/);
    expect(await cube.search('vault alarm code', { channels: ['lexical'] })).toEqual([]);
  });

  it('keeps no deleted words in any key when another process writes the session in between', async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const dir = fs.mkdtempSync(path.join(os_.tmpdir(), 'memcube-processes-'));
    try {
      await expectNoDeletedWordsAcrossProcesses(async () => SqliteStore.open(path.join(dir, 'm.db')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keys a restored turn by the turns active before it now', async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const cube = await os.cube('chat');
    const { ids } = await cube.add(
      ['First.', 'My PIN is 2580.', 'Noted.', 'Fine.'].map((content, i) => ({
        content,
        speaker: i === 2 ? 'Ann' : 'Bob',
      })),
      { sessionId: 's1' },
    );
    const [, pin, noted] = ids as [string, string, string];
    await cube.delete(noted);
    await cube.delete(pin);
    const restored = await cube.restore(noted);
    expect(restored.derived.context).toBe('Bob: First.');
    expect(await cube.search('PIN 2580', { channels: ['lexical'] })).toEqual([]);
  });

  it('takes deleted words out of keys made under a longer contextTurns', async () => {
    const dir = fs.mkdtempSync(path.join(os_.tmpdir(), 'memcube-context-'));
    const file = path.join(dir, 'm.db');
    try {
      os = await MemoryOS.open({ path: file, embedder: 'none', ingest: { contextTurns: 10 } });
      const cube = await os.cube('chat');
      await cube.add(
        ['My locker code is 7788.', ...Array.from({ length: 7 }, (_, i) => `Turn ${i + 1}.`)].map(
          (content, i) => ({
            content,
            speaker: i % 2 === 0 ? 'Bob' : 'Ann',
          }),
        ),
        { sessionId: 's1' },
      );
      expect((await cube.search('locker', { channels: ['lexical'] })).length).toBe(8);
      await os.close();
      os = await MemoryOS.open({ path: file, embedder: 'none' });
      const reopened = await os.cube('chat');
      const [first] = (await reopened.list({ sessionIds: ['s1'] })).items;
      await reopened.delete(first?.id as string);
      expect(await reopened.search('locker', { channels: ['lexical'] })).toEqual([]);
    } finally {
      await os.close();
      os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks for "in May 2023" and the temporal channel finds what happened then', async () => {
    os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    const cube = await os.cube('chat');
    const { ids } = await cube.add([
      { content: 'Painted a sunrise at the lake.', speaker: 'Mel', at: '2023-05-20T10:00:00Z' },
      { content: 'Painted a portrait of my dog.', speaker: 'Mel', at: '2023-09-02T10:00:00Z' },
    ]);
    const hits = await cube.search('What did Mel paint in May 2023?', { asOf: '2023-12-01T00:00:00Z' });
    expect(hits[0]?.item.id).toBe(ids[0]);
    expect(hits[0]?.channels.temporal?.rank).toBe(1);
    expect(hits.find((h) => h.item.id === ids[1])?.channels.temporal).toBeUndefined();
  });

  it('ranks in the answer three turns after the only turn that matches the question (proximity)', async () => {
    const conversation = [
      { content: 'Congrats on winning the chess tournament, Nate!', speaker: 'Joanna' },
      { content: 'Thanks! It was a tough final.', speaker: 'Nate' },
      { content: 'How did you mark the occasion?', speaker: 'Joanna' },
      { content: 'Pizza with the whole team, then we danced all night.', speaker: 'Nate' },
      { content: 'My garden finally has tomatoes.', speaker: 'Joanna' },
    ];
    const question = 'How was the chess tournament win celebrated?';
    // Lexical alone, so that only the first turn matches; proximity at its default share.
    const lexicalOnly = (proximity: number) =>
      MemoryOS.open({
        ...PLAIN_RETRIEVAL,
        retrieval: { ...PLAIN_RETRIEVAL.retrieval, channelWeights: { proximity } },
        path: ':memory:',
        embedder: 'none',
      });
    os = await lexicalOnly(0.2);
    const cube = await os.cube('chat');
    const { ids } = await cube.add(conversation, { sessionId: 's1' });
    const hits = await cube.search(question);
    const seed = hits[0];
    expect(seed?.item.id).toBe(ids[0]);
    // Turns 1-3 receive 0.2, 0.04 and 0.008 of the match's score; turn 4 is out of reach.
    expect(hits.map((h) => h.item.id)).toEqual(ids.slice(0, 4));
    const answer = hits[3];
    expect(answer?.channels).toEqual({ proximity: { rank: 3, score: expect.any(Number) } });
    expect(answer?.score).toBeCloseTo((seed?.score ?? 0) * 0.2 ** 3, 12);

    await os.close();
    os = await lexicalOnly(0);
    const off = await os.cube('chat');
    await off.add(conversation, { sessionId: 's1' });
    expect((await off.search(question)).map((h) => h.item.content)).toEqual([conversation[0]?.content]);
  });

  it("a query naming a speaker ranks that speaker's own turns in the speaker channel", async () => {
    os = await MemoryOS.open({
      path: ':memory:',
      embedder: 'none',
      retrieval: { channelWeights: { speaker: 1 } },
    });
    const cube = await os.cube('chat');
    const { ids } = await cube.add([
      { content: 'My kids love dinosaurs and camping.', speaker: 'Melanie', at: '2023-05-20T10:00:00Z' },
      { content: 'Kids at the shelter love my drawings.', speaker: 'Caroline', at: '2023-05-20T10:01:00Z' },
      { content: 'Melanie, the kids were so loud!', speaker: 'Caroline', at: '2023-05-20T10:02:00Z' },
    ]);
    const hits = await cube.search("What do Melanie's kids love?");
    const bySpeakerChannel = hits.filter((h) => h.channels.speaker).map((h) => h.item.id);
    expect(bySpeakerChannel).toEqual([ids[0]]);
    expect(hits[0]?.item.id).toBe(ids[0]);
    // No speaker named, no speaker channel.
    expect((await cube.search('kids love')).some((h) => h.channels.speaker)).toBe(false);
  });
});
