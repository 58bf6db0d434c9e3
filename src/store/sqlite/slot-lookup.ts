/** Below this many entries set or removed since the last merge, they stay in the map alone. */
const MIN_RECENT = 4096;

/**
 * Item key → slot for an in-process index, in 4 bytes a slot: the slots sorted by their keys
 * (which the index keeps anyway), searched by bisection, and a map of the entries set or removed
 * since they were last merged in. A `Map` of a million numbers holds ~28 MB of heap and grows the
 * process by ~50 MB; a 1M-item cube has two such indexes. Keys are integers (SQLite rowids).
 */
export class SlotLookup {
  /** Slots ordered by key: the entries as of the last merge. */
  private sorted = new Uint32Array(0);
  /** Entries set since the last merge; -1 marks a key removed from `sorted`. */
  private readonly recent = new Map<number, number>();

  /** `keyOf(slot)` is the key a merged slot was set for; a slot never changes key. */
  constructor(private readonly keyOf: (slot: number) => number) {}

  get(key: number): number | undefined {
    const slot = this.recent.get(key) ?? this.merged(key);
    return slot === undefined || slot < 0 ? undefined : slot;
  }

  set(key: number, slot: number): void {
    this.recent.set(key, slot);
    this.mergeWhenDue();
  }

  delete(key: number): void {
    if (this.merged(key) === undefined) this.recent.delete(key);
    else this.recent.set(key, -1);
    this.mergeWhenDue();
  }

  /** Merged once the recent entries are a fair share of the sorted ones: linear work, amortised. */
  private mergeWhenDue(): void {
    if (this.recent.size > Math.max(MIN_RECENT, this.sorted.length / 4)) this.merge();
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

  /**
   * `sorted` and the recent entries in one sorted array, less the keys set again or removed. The
   * recent entries are ordered by the keys they were set with: the caller may not have recorded a
   * new slot's key yet.
   */
  private merge(): void {
    const { sorted, recent } = this;
    const added = [...recent].filter(([, slot]) => slot >= 0).sort(([a], [b]) => a - b);
    const out = new Uint32Array(sorted.length + added.length);
    let n = 0;
    let a = 0;
    for (const slot of sorted) {
      const key = this.keyOf(slot);
      if (recent.has(key)) continue;
      for (; a < added.length && (added[a] as [number, number])[0] < key; a++) {
        out[n++] = (added[a] as [number, number])[1];
      }
      out[n++] = slot;
    }
    for (; a < added.length; a++) out[n++] = (added[a] as [number, number])[1];
    this.sorted = n === out.length ? out : out.slice(0, n);
    recent.clear();
  }
}
