import { expect } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';
import type { Store } from '../../src/store/store.js';

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
    turns.map((content) => ({ content, speaker: 'Bob' })),
    { sessionId: 's1' },
  );
  const [other] = (await cube.add([{ content: 'Unrelated.', speaker: 'Ann' }], { sessionId: 's2' })).ids;
  // Another cube with a session of the same name, a deleted turn and a key of its own.
  const neighbour = await memory.cube('neighbour');
  const { ids: theirs } = await neighbour.add(
    ['Keep this secret: 1111.', 'Sure.'].map((content) => ({ content, speaker: 'Cy' })),
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
    expect(contexts).toEqual([null, null, 'Bob: Got it.', 'Bob: Got it.\nBob: Thanks.']);
    expect((await repaired.get(other as string)).derived.context).toBeNull();
    const untouched = await memory.cube('neighbour');
    expect((await untouched.get(theirs[1] as string)).derived.context).toBeNull();
    // Derived keys are not content: the repair makes no version and no audit record.
    expect((await repaired.history(ids[1] as string)).map((v) => v.version)).toEqual([1]);
    expect((await repaired.audit()).filter((r) => r.actor !== 'old' && r.operation === 'delete')).toEqual([]);
  } finally {
    await memory.close();
  }
  const after = await openStore();
  try {
    expect(await after.contextKeyRepairs()).toEqual([]);
  } finally {
    await after.close();
  }
}
