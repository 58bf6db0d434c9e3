import { expect } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';
import type { Store } from '../../src/store/store.js';

/**
 * A store whose first call of `method` runs `other` first: another process's write landing after
 * this one has read the turns its context keys are derived from, before it writes them.
 */
function interleaved(
  store: Store,
  method: 'setStatus' | 'insertItems',
  other: () => Promise<unknown>,
): Store {
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
 * processes are. A delete and an add each have the other handle's write land between their read
 * and their write; no key may keep the deleted words. `openStore` opens the shared database.
 */
export async function expectNoDeletedWordsAcrossProcesses(openStore: () => Promise<Store>): Promise<void> {
  const other = await MemoryOS.open({ store: await openStore(), closeStore: true, embedder: 'none' });
  const handles: MemoryOS[] = [];
  const interleavedOS = async (method: 'setStatus' | 'insertItems', write: () => Promise<unknown>) => {
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
    const say = (content: string) => theirs.add([{ content, speaker: 'Bob' }], { sessionId: 's1' });
    const [vault] = (await say('The vault code is 4417.')).ids as [string];
    await say('Got it.');

    // A delete whose keys were read before the other process added a turn keyed by the secret.
    await (await interleavedOS('setStatus', () => say('Thanks.'))).delete(vault);

    // An add whose keys were read before the other process deleted a secret they hold.
    const [pin] = (await say('My PIN is 2580.')).ids as [string];
    const adding = await interleavedOS('insertItems', () => theirs.delete(pin));
    const [late] = (await adding.add([{ content: 'Noted.', speaker: 'Ann' }], { sessionId: 's1' })).ids as [
      string,
    ];

    const { items } = await theirs.list({ sessionIds: ['s1'] });
    expect(items.map((i) => i.content)).toEqual(['Got it.', 'Thanks.', 'Noted.']);
    for (const item of items) expect(item.derived.context ?? '').not.toMatch(/vault|PIN/);
    expect((await theirs.get(late)).derived.context).toBe('Bob: Got it.\nBob: Thanks.');
    expect(await theirs.search('vault code PIN 2580', { channels: ['lexical'] })).toEqual([]);
  } finally {
    for (const handle of handles) await handle.close();
    await other.close();
  }
}
