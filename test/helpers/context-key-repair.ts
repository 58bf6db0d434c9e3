import { expect } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';
import type { Store } from '../../src/store/store.js';

/** Every listed session was repaired and struck off. */
async function expectNothingListed(openStore: () => Promise<Store>): Promise<void> {
  const after = await openStore();
  try {
    expect(await after.contextKeyRepairs()).toEqual([]);
  } finally {
    await after.close();
  }
}

/**
 * A database written by an older memcube, whose delete left the deleted turn's words in the
 * context keys of the turns after it, is repaired when a MemoryOS opens it after the upgrade.
 * `openStore` opens the database; `toOlderSchema` takes it back to the schema before the list of
 * sessions to repair.
 */
export async function expectKeysRepairedOnUpgrade(
  openStore: () => Promise<Store>,
  toOlderSchema: () => Promise<void>,
): Promise<void> {
  const scope = { tenant: 'default', cube: 'chat' };
  const older = await openStore();
  let memory = await MemoryOS.open({ store: older, closeStore: true, embedder: 'none' });
  const cube = await memory.cube('chat');
  const turns = ['The vault code is 4417.', 'Got it.', 'Thanks.', 'Bye.'];
  const { ids } = await cube.add(
    turns.map((content, i) => ({ content, speaker: i % 2 === 0 ? 'Bob' : 'Ann' })),
    { sessionId: 's1' },
  );
  const [other] = (await cube.add([{ content: 'Unrelated.', speaker: 'Ann' }], { sessionId: 's2' })).ids;
  // Another cube with a session of the same name, a deleted turn and a key of its own.
  const neighbour = await memory.cube('neighbour');
  const { ids: theirs } = await neighbour.add(
    [
      { content: 'Keep this secret: 1111.', speaker: 'Cy' },
      { content: 'Sure.', speaker: 'Dee' },
    ],
    { sessionId: 's1' },
  );
  await neighbour.delete(theirs[0] as string);
  // As an older memcube deleted: the status alone, the keys after it left as they were.
  await older.setStatus(scope, ids[0] as string, 'deleted', 'delete', { actor: 'old', now: Date.now() });
  const leaking = await cube.search('vault code', { channels: ['lexical'] });
  expect(leaking.map((h) => h.item.content)).toContain('Got it.');
  await memory.close();
  await toOlderSchema();

  // Opened without context keys (an ablation), nothing is repaired, and the list stays.
  memory = await MemoryOS.open({
    store: await openStore(),
    closeStore: true,
    embedder: 'none',
    ingest: { contextKey: false },
  });
  expect((await (await memory.cube('chat')).get(ids[1] as string)).derived.context).toContain('vault');
  await memory.close();

  memory = await MemoryOS.open({ store: await openStore(), closeStore: true, embedder: 'none' });
  try {
    const repaired = await memory.cube('chat');
    expect(await repaired.search('vault code', { channels: ['lexical'] })).toEqual([]);
    const contexts = await Promise.all(ids.map(async (id) => (await repaired.get(id)).derived.context));
    expect(contexts).toEqual([null, null, 'Ann: Got it.', 'Ann: Got it.\nBob: Thanks.']);
    expect((await repaired.get(other as string)).derived.context).toBeNull();
    const untouched = await memory.cube('neighbour');
    expect((await untouched.get(theirs[1] as string)).derived.context).toBeNull();
    // Derived keys are not content: the repair makes no version and no audit record.
    expect((await repaired.history(ids[1] as string)).map((v) => v.version)).toEqual([1]);
    expect((await repaired.audit()).filter((r) => r.actor !== 'old' && r.operation === 'delete')).toEqual([]);
  } finally {
    await memory.close();
  }
  await expectNothingListed(openStore);
}

/**
 * A session of one party's notes that an older memcube keyed by the notes before each is listed
 * by the schema upgrade, and opening a MemoryOS clears those keys; a conversation keeps its keys.
 * `toOlderSchema` takes the database back to the schema before that upgrade.
 */
export async function expectOnePartyKeysClearedOnUpgrade(
  openStore: () => Promise<Store>,
  toOlderSchema: () => Promise<void>,
): Promise<void> {
  const scope = { tenant: 'default', cube: 'notes' };
  const store = await openStore();
  let memory = await MemoryOS.open({ store, closeStore: true, embedder: 'none' });
  const cube = await memory.cube('notes');
  const notes = ['My cat is called Miso.', 'I am allergic to peanuts.', 'My favourite food is ramen.'];
  const ids: string[] = [];
  for (const note of notes) ids.push(...(await cube.add(note, { sessionId: 'me' })).ids);
  const { ids: chat } = await cube.add(
    [
      { content: 'Any plans?', speaker: 'Ann' },
      { content: 'A pottery class.', speaker: 'Bo' },
    ],
    { sessionId: 'chat' },
  );
  expect(await Promise.all(ids.map(async (id) => (await cube.get(id)).derived.context))).toEqual([
    null,
    null,
    null,
  ]);
  expect((await cube.get(chat[1] as string)).derived.context).toBe('Ann: Any plans?');
  // The keys an older memcube gave the notes: each keyed by the notes before it.
  await store.repairContextKeys(scope, {
    updates: [
      { id: ids[1] as string, context: notes[0] as string },
      { id: ids[2] as string, context: `${notes[0]}\n${notes[1]}` },
    ],
    derivedFrom: await store.sessionStamp(scope, 'me', 0),
  });
  expect((await cube.search('cat', { channels: ['lexical'] })).length).toBe(3);
  // Deleted notes are keyed too (a search of deleted memories reads them): a session whose only
  // active note is the first still has its deleted notes' keys derived again.
  const gone: string[] = [];
  for (const note of notes) gone.push(...(await cube.add(note, { sessionId: 'gone' })).ids);
  for (const id of gone.slice(1)) await cube.delete(id);
  await store.repairContextKeys(scope, {
    updates: [{ id: gone[1] as string, context: notes[0] as string }],
    derivedFrom: await store.sessionStamp(scope, 'gone', 0),
  });
  const deletedHits = async (m: MemoryOS) =>
    (await (await m.cube('notes')).search('Miso', { channels: ['lexical'], statuses: ['deleted'] })).map(
      (h) => h.item.id,
    );
  expect(await deletedHits(memory)).toEqual([gone[1]]);
  await memory.close();
  await toOlderSchema();

  memory = await MemoryOS.open({ store: await openStore(), closeStore: true, embedder: 'none' });
  try {
    const repaired = await memory.cube('notes');
    // Each session's cat note, and no note found by another's words.
    const cats = (await repaired.search('cat', { channels: ['lexical'] })).map((h) => h.item.id);
    expect(cats.sort()).toEqual([ids[0], gone[0]].sort());
    expect(await Promise.all(ids.map(async (id) => (await repaired.get(id)).derived.context))).toEqual([
      null,
      null,
      null,
    ]);
    expect((await repaired.get(chat[1] as string)).derived.context).toBe('Ann: Any plans?');
    expect(await deletedHits(memory)).toEqual([]);
  } finally {
    await memory.close();
  }
  await expectNothingListed(openStore);
}
