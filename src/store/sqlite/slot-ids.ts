/** A UUID as memcube writes them: lowercase hex in 8-4-4-4-12 groups. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BYTES = 16;

/**
 * The item id of each slot of an in-process index. A canonical UUID (every id memcube makes) is
 * kept as its 16 bytes: as a string it costs ~56 bytes and one more object for the garbage
 * collector to trace, two million of them with a 1M-item cube's two indexes. Any other id
 * (imported, or a test's) is kept as its string.
 */
export class SlotIds {
  private bytes: Buffer;
  private readonly others = new Map<number, string>();

  constructor(initialSlots = 1024) {
    this.bytes = Buffer.alloc(BYTES * initialSlots);
  }

  set(slot: number, id: string): void {
    if (!CANONICAL_UUID.test(id)) {
      this.others.set(slot, id);
      return;
    }
    if ((slot + 1) * BYTES > this.bytes.length) {
      const larger = Buffer.alloc(Math.max((slot + 1) * BYTES, this.bytes.length * 2));
      this.bytes.copy(larger);
      this.bytes = larger;
    }
    this.bytes.write(id.replaceAll('-', ''), slot * BYTES, BYTES, 'hex');
    if (this.others.size > 0) this.others.delete(slot);
  }

  /** The id last set for the slot. */
  get(slot: number): string {
    const other = this.others.get(slot);
    if (other !== undefined) return other;
    const hex = this.bytes.toString('hex', slot * BYTES, (slot + 1) * BYTES);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
