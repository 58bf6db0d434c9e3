/**
 * One writer at a time per session, within this process. A write that reads the turns of a
 * session to derive context keys (add reads the turns before, delete, restore and edits the turns
 * after) must not interleave with another such write to the same session: each would derive keys
 * from what the other is changing, and a deleted turn's words could come back. Sessions are
 * independent, so writes to different sessions still run side by side.
 */
export class SessionLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after every earlier `run` of the same key has settled. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, settled);
    try {
      return await mine;
    } finally {
      // The last in line forgets the key, so the map holds only sessions being written.
      if (this.tails.get(key) === settled) this.tails.delete(key);
    }
  }
}
