import type { MemoryItem } from '../core/types.js';
import type { CubeScope, Store } from '../store/store.js';

/**
 * The items one search has read, each read once: the expansion round's seeds, the proximity
 * seeds and neighbours, and the returned page are mostly the same few items.
 */
export class ItemLoader {
  private readonly loaded = new Map<string, MemoryItem>();

  constructor(
    private readonly store: Store,
    private readonly scope: CubeScope,
  ) {}

  /** The items of these ids that exist, in the order asked; only the ones not read yet hit the store. */
  async load(ids: string[]): Promise<MemoryItem[]> {
    const missing = ids.filter((id) => !this.loaded.has(id));
    if (missing.length > 0) this.keep(await this.store.getItems(this.scope, missing));
    return ids.flatMap((id) => this.loaded.get(id) ?? []);
  }

  /** Items the search read another way (a hit's neighbours, by position). */
  keep(items: MemoryItem[]): void {
    for (const item of items) this.loaded.set(item.id, item);
  }
}
