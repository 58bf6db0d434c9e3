import type { CubeScope, ItemOrigin, Store } from '../store/store.js';

/**
 * The origins (session, speaker, role) one search has read, each read once: the speakers'
 * names are read from the first round's best hits, the subject focus and the session boost from
 * the final ranking's, and the two pools are mostly the same items.
 */
export class OriginReader {
  private readonly read = new Map<string, ItemOrigin>();

  constructor(
    private readonly store: Store,
    private readonly scope: CubeScope,
  ) {}

  /** The origins of these ids that exist; only ids not read yet (or not found before) go to the store. */
  async of(ids: string[]): Promise<Map<string, ItemOrigin>> {
    const missing = ids.filter((id) => !this.read.has(id));
    if (missing.length > 0) {
      for (const [id, origin] of await this.store.originsOf(this.scope, missing)) this.read.set(id, origin);
    }
    const found = new Map<string, ItemOrigin>();
    for (const id of ids) {
      const origin = this.read.get(id);
      if (origin) found.set(id, origin);
    }
    return found;
  }
}
