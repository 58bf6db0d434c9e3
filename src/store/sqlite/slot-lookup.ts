/** Below this many entries set since the last merge, they stay in the map alone. */
const MIN_RECENT = 4096;

/**
 * Item key → slot for an in-process index, in 4 bytes a slot: the slots sorted by their keys
 * (which the index keeps anyway), searched by bisection, and a map of the entries set or removed
 * since they were last merged in. A `Map` of a million numbers holds ~28 MB of heap and grows the
 * process by ~50 MB; a 1M-item cube has two such indexes.
 */
export class SlotLookup {
  /** Slots ordered by key: the entries as of the last merge. */
  private sorted = new Uint32Array(0);
  /** Entries set since the last merge; -1 marks a key removed from `sorted`. */
  private readonly recent = new Map<number, number>();

  /** `keyOf(slot)` is the key the slot was set for; a slot never changes key. */
  constructor(private readonly keyOf: (slot: number) => number) {}

  get(key: number): number | undefined {
    const slot = this.recent.get(key) ?? this.merged(key);
    return slot === undefined || slot < 0 ? undefined : slot;
  }

  set(key: number, slot: number): void {
    this.recent.set(key, slot);
    // Merged once the recent entries are a fair share of the sorted ones: linear work, amortised.
    if (this.recent.size > Math.max(MIN_RECENT, this.sorted.length / 4)) this.merge();
  }

  delete(key: number): void {
    if (this.merged(key) === undefined) this.recent.delete(key);
    else this.recent.set(key, -1);
  }

  /** The slot `sorted` holds for the key, by bisection. */
  private merged(key: number): number | undefined {
    const sorted = this.sorted;
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const slot = sorted[mid] as number;
      const at = this.keyOf(slot);
      if (at === key) return slot;
      if (at < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** `sorted` and the recent entries in one sorted array, less the keys set again or removed. */
  private merge(): void {
    const { sorted, recent } = this;
    const keyOf = (slot: number) => this.keyOf(slot);
    const added = Uint32Array.from([...recent.values()].filter((slot) => slot >= 0)).sort(
      (a, b) => keyOf(a) - keyOf(b),
    );
    const out = new Uint32Array(sorted.length + added.length);
    let n = 0;
    let a = 0;
    for (const slot of sorted) {
      const key = keyOf(slot);
      if (recent.has(key)) continue;
      while (a < added.length && keyOf(added[a] as number) < key) out[n++] = added[a++] as number;
      out[n++] = slot;
    }
    while (a < added.length) out[n++] = added[a++] as number;
    this.sorted = out.slice(0, n);
    recent.clear();
  }
}
