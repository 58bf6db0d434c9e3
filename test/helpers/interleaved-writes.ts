import { expect } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';
import type { Store } from '../../src/store/store.js';

type Interleaved = 'setStatus' | 'insertItems' | 'sessionStamp';

/**
 * A store whose first call of `method` runs `other` first: another process's write landing after
 * this one has read the turns its context keys are derived from, before it writes them.
 */
function interleaved(store: Store, method: Interleaved, other: () => Promise<unknown>): Store {
  let pending: (() => Promise<unknown>) | null = other;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== method || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const run = pending;
        pending = null;
        if (run) await run();
        return value.apply(target, args);
      };
    },
  });
}

/**
 * Two MemoryOS handles on one database, each with its own connection and session locks, as two
 * processes are. A delete, an add and a restore each have the other handle's write land between
 * their read and their write, and an edit has it land before its read of the session; no key may
 * keep the deleted words. `openStore` opens the shared database.
 */
export async function expectNoDeletedWordsAcrossProcesses(openStore: () => Promise<Store>): Promise<void> {
  const other = await MemoryOS.open({ store: await openStore(), closeStore: true, embedder: 'none' });
  const handles: MemoryOS[] = [];
  const interleavedOS = async (method: Interleaved, write: () => Promise<unknown>) => {
    const handle = await MemoryOS.open({
      store: interleaved(await openStore(), method, write),
      closeStore: true,
      embedder: 'none',
    });
    handles.push(handle);
    return handle.cube('chat');
  };
  try {
    const theirs = await other.cube('chat');
    // Bob tells, Ann answers: each answer is keyed by the turns before it, secrets included.
    const say = (content: string, speaker = 'Bob') => theirs.add([{ content, speaker }], { sessionId: 's1' });
    const [vault] = (await say('The vault code is 4417.')).ids as [string];
    await say('Got it.', 'Ann');

    // A delete whose keys were read before the other process added a turn keyed by the secret.
    await (await interleavedOS('setStatus', () => say('Thanks.'))).delete(vault);

    // An add whose keys were read before the other process deleted a secret they hold.
    const [pin] = (await say('My PIN is 2580.')).ids as [string];
    const adding = await interleavedOS('insertItems', () => theirs.delete(pin));
    const [late] = (await adding.add([{ content: 'Noted.', speaker: 'Ann' }], { sessionId: 's1' })).ids as [
      string,
    ];

    // An edit, with the other process's delete landing after the edit read its item and before it
    // read the session: the edited turn's own key is the one derived from that read.
    const card = await say('My card number is 5555.');
    const [okay] = (await say('Okay.', 'Ann')).ids as [string];
    const editing = await interleavedOS('sessionStamp', () => theirs.delete(card.ids[0] as string));
    await editing.update(okay, { content: 'Okay, done.' });

    // A restore whose own key was read before the other process deleted the turn before it.
    const locker = await say('My locker code is 9911.');
    const [right] = (await say('Right.', 'Ann')).ids as [string];
    await theirs.delete(right);
    const restoring = await interleavedOS('setStatus', () => theirs.delete(locker.ids[0] as string));
    await restoring.restore(right);

    const { items } = await theirs.list({ sessionIds: ['s1'] });
    expect(items.map((i) => i.content)).toEqual(['Got it.', 'Thanks.', 'Noted.', 'Okay, done.', 'Right.']);
    for (const item of items) expect(item.derived.context ?? '').not.toMatch(/vault|PIN|card|locker/);
    expect((await theirs.get(right)).derived.context).toBe('Bob: Thanks.\nAnn: Noted.\nAnn: Okay, done.');
    expect((await theirs.get(late)).derived.context).toBe('Ann: Got it.\nBob: Thanks.');
    expect((await theirs.get(okay)).derived.context).toBe('Ann: Got it.\nBob: Thanks.\nAnn: Noted.');
    expect(
      await theirs.search('vault code PIN 2580 card 5555 locker 9911', { channels: ['lexical'] }),
    ).toEqual([]);
  } finally {
    for (const handle of handles) await handle.close();
    await other.close();
  }
}
