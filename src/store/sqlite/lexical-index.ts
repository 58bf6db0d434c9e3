import { MEMORY_STATUSES, type MemoryKind, type MemoryStatus, type Role } from '../../core/types.js';
import { detached, ftsTerm, ftsTerms, ftsTokens, vocabularyWord } from '../fts-tokens.js';
import type { LexicalNarrowing, ScoredId } from '../store.js';
import { type ClassMasks, classBits, classesPass, classMasks } from './item-classes.js';
import { SlotIds } from './slot-ids.js';
import { SlotLookup } from './slot-lookup.js';
import { grown } from './typed-arrays.js';
import type { TimeWindow } from './vector-index.js';

/** One item as the full-text table holds it: its three columns, plus what search filters by. */
export interface IndexedDoc {
  /** The item's public id, returned by searches without a trip to `items`. */
  id: string;
  text: string;
  context: string;
  keys: string;
  /** Active items are returned unless a search asks for other statuses; every item counts in the BM25 statistics, as in FTS5. */
  status: MemoryStatus;
  /** Event time (epoch ms): `valid_from`, else `created_at`. */
  time: number;
  /** Who said it and what it is, which never change after `add`: filters the index applies itself. */
  role: Role | null;
  kind: MemoryKind;
}

export interface ColumnWeights {
  text: number;
  context: number;
  keys: number;
}

/** What narrows one search besides its terms and column weights. */
export interface SearchBounds {
  /** Only rows whose event time falls in the window. */
  window?: TimeWindow;
  /** Only rows of these roles (no role: a row without one is left out too), and of these kinds. */
  roles?: readonly Role[];
  kinds?: readonly MemoryKind[];
  /** Only rows of these statuses; active when not given. */
  statuses?: readonly MemoryStatus[];
  /** The items with these keys instead, whatever their status (a filter's rows). */
  keptKeys?: Iterable<number>;
  /** Only rows holding one of `foundBy` are found, each scored by every term, merged with `alone`. */
  narrowing?: LexicalNarrowing;
}

const NON_ASCII = /[^ -~]/;
/** A status's code in a slot: 1 + its place in `MEMORY_STATUSES` (0 marks a replaced row). */
function statusCode(status: MemoryStatus): number {
  return MEMORY_STATUSES.indexOf(status) + 1;
}
const ACTIVE = statusCode('active');
/** The bits of the statuses' codes; code 0 marks a replaced row, so a status unknown here finds none. */
function statusBitsOf(statuses: readonly MemoryStatus[]): number {
  let bits = 0;
  for (const code of statuses.map(statusCode)) if (code > 0) bits |= 1 << code;
  return bits;
}
const ONLY_ACTIVE: readonly MemoryStatus[] = ['active'];
/** Up to this many rows found, the score floor is the exact limit-th best; past it, a histogram bound. */
const EXACT_FLOOR_ROWS = 20_000;
const FLOOR_BINS = 4096;
const K1 = 1.2;
const B = 0.75;
/**
 * Words are weighed as in a cube of at least this many rows. BM25's idf gives a word that half the
 * rows hold no weight at all (FTS5 clamps it to 10⁻⁶), and in a small cube that is most words: a
 * turn's words are also in the context keys of the turns after it, so in a six-turn chat
 * "support group" said once is in four rows and would not find the turn that said it.
 */
const MIN_IDF_ROWS = 100;
/** Per-column counts packed in 16 bits (text 8, context 4, keys 4); this marks a pair kept in `overflow`. */
const OVERFLOW = 0xffff;
/** Past this share of replaced slots, the caller should rebuild rather than carry them. */
const MAX_STALE_SHARE = 0.25;
/** Room for this many rows at first: most cubes are small, and the arrays double as they grow. */
const INITIAL_SLOTS = 64;
/**
 * What `estimatedBytes` counts besides the typed arrays' contents: a term's postings (two small
 * typed arrays, each with V8's per-array overhead), its map entries and string (~620 bytes a
 * term, measured by a reviewer on cubes of 5 to 2,760 rows), an overflowed count, the index itself.
 */
const BYTES_PER_TERM = 620;
const BYTES_PER_OVERFLOW = 150;
/** A vocabulary word: its string, its set entry and its array slot. */
const BYTES_PER_WORD = 120;
const BYTES_PER_INDEX = 1024;
/** Per slot: the id (16), `keys`, `lengths`, `times`, `present`, `status`, `classes`, `scores`, `touched`, `slotOf`. */
const BYTES_PER_SLOT = 16 + 8 + 4 + 8 + 1 + 1 + 2 + 8 + 4 + 4;

interface QueryTerm {
  termId: number;
  list: Postings;
  idf: number;
  /** Whether the term finds rows, or only adds to the scores of rows found by others. */
  finds: boolean;
}

/** One search's settings and progress: how many rows of `touched` it has filled. */
interface Scan {
  weights: ColumnWeights;
  avgdl: number;
  from: number;
  to: number;
  /** By slot, 1 for the rows a filter keeps, in place of the statuses; null: the statuses' rows. */
  kept: Uint8Array | null;
  /** Bit `statusCode(s)` set for each status `s` searched. */
  statusBits: number;
  /** What a row's role and kind bits must meet. */
  masks: ClassMasks;
  touched: number;
}

interface Postings {
  slots: Uint32Array;
  counts: Uint16Array;
  length: number;
}

/** Tells indexes apart (see `LexicalIndex.generation`). */
let nextGeneration = 1;

function pack(text: number, context: number, keys: number): number {
  return text <= 0xff && context <= 0xf && keys <= 0xf && !(text === 0xff && context === 0xf && keys === 0xf)
    ? (text << 8) | (context << 4) | keys
    : OVERFLOW;
}

/**
 * One cube's full-text postings in memory, scored by FTS5's `bm25()` formula with column weights
 * (same tokenizer, same constants) over the cube's own rows: an OR query over common words
 * touches most of a big cube, and FTS5 spends ~0.5 µs per matching row; here it is a few
 * nanoseconds per posting. With one cube of 100 rows or more in the database the scores are
 * FTS5's (a smaller cube's idf counts 100 rows, `MIN_IDF_ROWS`); with several, FTS5's statistics
 * span every cube while these stay within one, so another tenant's corpus cannot move this cube's
 * ranking. A cache of the `items` rows, never the source of truth.
 */
export class LexicalIndex {
  private readonly termIds = new Map<string, number>();
  private readonly tokenTermIds = new Map<string, number>();
  private readonly postings: Postings[] = [];
  /** Exact counts of pairs whose packed form overflowed, by `termId:slot`. */
  private readonly overflow = new Map<string, [number, number, number]>();
  private keys = new Float64Array(INITIAL_SLOTS);
  /** The item id of each slot. */
  private readonly ids = new SlotIds(INITIAL_SLOTS);
  private lengths = new Uint32Array(INITIAL_SLOTS);
  private times = new Float64Array(INITIAL_SLOTS);
  /** Per slot: 1 while the slot holds the item's current row, 0 once replaced. */
  private present = new Uint8Array(INITIAL_SLOTS);
  /** Per slot: the row's `statusCode`, 0 once replaced. */
  private status = new Uint8Array(INITIAL_SLOTS);
  /** Per slot: the row's role and kind bits (`classBits`). */
  private classes = new Uint16Array(INITIAL_SLOTS);
  private readonly slotOf = new SlotLookup((slot) => this.keys[slot] as number);
  private slots = 0;
  private presentDocs = 0;
  private activeDocs = 0;
  private totalTokens = 0;
  private staleSlots = 0;
  private scores = new Float64Array(INITIAL_SLOTS);
  /** The rows a search has scored so far, in `scores` order of first touch. */
  private touched = new Uint32Array(INITIAL_SLOTS);
  /** Scratch for `append`: three counts per term id, and the ids the current row uses. */
  private rowCounts = new Uint32Array(3 * INITIAL_SLOTS);
  /** Room held by all postings lists, in entries (4 bytes of slot and 2 of counts each). */
  private postingRoom = 0;
  private readonly rowTerms: number[] = [];
  /** The distinct words of the rows (`vocabularyWord`), in the order first indexed; never shrinks. */
  private readonly words: string[] = [];
  private readonly wordSet = new Set<string>();
  /** Tells this index from another: a rebuilt index lists its vocabulary afresh, in another order. */
  readonly generation = nextGeneration++;

  /** Active items held. */
  get size(): number {
    return this.activeDocs;
  }

  /** Current rows, any status: the cube's rows once the index is fresh. */
  get rows(): number {
    return this.presentDocs;
  }

  /** Roughly what the index holds in memory, in bytes. */
  get estimatedBytes(): number {
    return (
      BYTES_PER_INDEX +
      this.keys.length * BYTES_PER_SLOT +
      this.postingRoom * 6 +
      this.termIds.size * BYTES_PER_TERM +
      this.words.length * BYTES_PER_WORD +
      this.rowCounts.byteLength +
      this.overflow.size * BYTES_PER_OVERFLOW
    );
  }

  /**
   * The single token each query word is, or null when one is not a single token (FTS5 would read
   * it as a phrase) or not ASCII once folded (FTS5's Porter stemmer works on UTF-8 bytes there,
   * so only FTS5 itself knows its term).
   */
  static queryTokens(terms: string[]): string[] | null {
    const tokens: string[] = [];
    for (const word of terms) {
      const [token, ...more] = ftsTerms(word);
      if (token === undefined || more.length > 0 || NON_ASCII.test(token)) return null;
      tokens.push(token);
    }
    return tokens;
  }

  /**
   * A narrowed search less the narrowing's words that `queryTokens` cannot read (a name with "œ"):
   * they would send the whole search to FTS5, which reads every row holding the query's common
   * words (~250 ms at a million rows). Rows holding them lose their share of the score: the added
   * words of an expansion are hints to find rows, and another word of the name usually finds them.
   */
  static readableNarrowing(
    terms: string[],
    narrowing: LexicalNarrowing,
  ): { terms: string[]; narrowing: LexicalNarrowing } {
    const unreadable = new Set(narrowing.foundBy.filter((word) => !LexicalIndex.queryTokens([word])));
    if (unreadable.size === 0) return { terms, narrowing };
    return {
      terms: terms.filter((term) => !unreadable.has(term)),
      narrowing: { ...narrowing, foundBy: narrowing.foundBy.filter((word) => !unreadable.has(word)) },
    };
  }

  /**
   * The words of the rows from position `from` of the vocabulary on: a caller that has read the
   * first `from` reads only what is new. Words of removed rows stay.
   */
  vocabulary(from = 0): string[] {
    return this.words.slice(from);
  }

  /**
   * The length of each word's postings list (0 for a word the index lacks or does not take as
   * one ASCII token): what searching the word reads.
   */
  postingCounts(words: string[]): number[] {
    return words.map((word) => {
      const [token] = LexicalIndex.queryTokens([word]) ?? [];
      const termId = token === undefined ? undefined : this.termIds.get(token);
      return termId === undefined ? 0 : (this.postings[termId] as Postings).length;
    });
  }

  /** How many words the vocabulary holds. */
  get vocabularySize(): number {
    return this.words.length;
  }

  /** True when replaced slots are a large share: a rebuild would be smaller and faster. */
  get wantsRebuild(): boolean {
    return this.staleSlots > 1_000 && this.staleSlots > this.slots * MAX_STALE_SHARE;
  }

  /** Drops the spare room postings lists keep for appends: a built index of a big cube is mostly read. */
  trim(): void {
    for (const list of this.postings) {
      if (list.slots.length > list.length) {
        this.postingRoom -= list.slots.length - list.length;
        list.slots = list.slots.slice(0, list.length);
        list.counts = list.counts.slice(0, list.length);
      }
    }
  }

  /** Sets an item's row; null removes it (its full-text row is gone). */
  set(itemKey: number, doc: IndexedDoc | null): void {
    const old = this.slotOf.get(itemKey);
    if (old !== undefined) {
      this.present[old] = 0;
      this.presentDocs--;
      if (this.status[old] === ACTIVE) this.activeDocs--;
      this.status[old] = 0;
      this.totalTokens -= this.lengths[old] as number;
      this.staleSlots++;
      this.slotOf.delete(itemKey);
    }
    if (doc) this.append(itemKey, doc);
  }

  /**
   * The best `limit` items of the statuses (active by default) for an OR of the terms, by BM25
   * with column weights; null when `queryTokens` is for the terms or the narrowing's. Only rows
   * of the window, the roles and the kinds. With `keptKeys`, the items with those keys instead,
   * whatever their status. With `narrowing`, the rows holding one of its terms, each scored by every term,
   * with its `alone` rows: the top down to their last score.
   */
  search(
    terms: string[],
    weights: ColumnWeights,
    limit: number,
    bounds: SearchBounds = {},
  ): ScoredId[] | null {
    const { narrowing } = bounds;
    if (!narrowing) return this.searchFinding(terms, weights, limit, bounds, null);
    const finding = LexicalIndex.queryTokens(narrowing.foundBy);
    if (!finding) return null;
    const found = this.searchFinding(terms, weights, limit, bounds, finding);
    return found && mergedTop(found, narrowing.alone, limit);
  }

  /** The search, finding only rows that hold one of the `finding` tokens when they are given. */
  private searchFinding(
    terms: string[],
    weights: ColumnWeights,
    limit: number,
    { window = {}, keptKeys, roles, kinds, statuses = ONLY_ACTIVE }: SearchBounds,
    finding: string[] | null,
  ): ScoredId[] | null {
    const tokens = LexicalIndex.queryTokens(terms);
    if (!tokens) return null;
    const termIds: number[] = [];
    for (const token of tokens) {
      const termId = this.termIds.get(token);
      if (termId !== undefined) termIds.push(termId);
    }
    if (this.presentDocs === 0 || limit <= 0) return [];
    const findingIds = finding ? new Set(finding.map((token) => this.termIds.get(token))) : null;
    const query: QueryTerm[] = termIds
      .map((termId) => {
        const list = this.postings[termId] as Postings;
        const hits = this.hits(list);
        const idf = Math.log((Math.max(this.presentDocs, MIN_IDF_ROWS) - hits + 0.5) / (hits + 0.5));
        return { termId, list, idf: idf > 0 ? idf : 1e-6, finds: findingIds?.has(termId) ?? true };
      })
      // The terms that find rows first, rarest first: the common terms that follow can often only
      // re-rank rows already found.
      .sort((a, b) => Number(b.finds) - Number(a.finds) || b.idf - a.idf);
    // A term adds at most idf × (k1 + 1) to a row, however often it occurs.
    const boundFrom = new Float64Array(query.length + 1);
    for (let i = query.length - 1; i >= 0; i--) {
      boundFrom[i] = (boundFrom[i + 1] as number) + (query[i] as QueryTerm).idf * (K1 + 1);
    }
    const scan: Scan = {
      weights,
      avgdl: this.totalTokens / this.presentDocs,
      from: window.from ?? Number.NEGATIVE_INFINITY,
      to: window.to ?? Number.POSITIVE_INFINITY,
      kept: keptKeys ? this.slotMask(keptKeys) : null,
      statusBits: statusBitsOf(statuses),
      masks: classMasks(roles, kinds),
      touched: 0,
    };
    let foundAll = false;
    // A lower bound on the limit-th best score: scores only grow, so an old bound stays valid.
    let floor = 0;
    for (const [i, term] of query.entries()) {
      if (foundAll || !term.finds) this.rescoreTouched(term, scan);
      else this.scoreAll(term, scan);
      if (scan.touched < limit || i + 1 === query.length) continue;
      const remaining = boundFrom[i + 1] as number;
      // Until `limit` rows beat what the remaining terms could add, the floor cannot either. No
      // row can while the terms scored so far could add no more than those; past that, the count
      // stops at `limit`, where the floor's histogram reads every touched row twice.
      if (
        !foundAll &&
        ((boundFrom[0] as number) - remaining <= remaining || !this.atLeastAbove(scan, remaining, limit))
      ) {
        continue;
      }
      // The rows below a known lower bound on the limit-th best score cannot set it.
      floor = Math.max(floor, this.scoreFloor(scan, limit, foundAll ? floor : remaining));
      // Once the limit-th best score so far beats all the remaining terms could add, no row yet
      // untouched can reach the top, and no touched row whose score plus that falls short of it:
      // later terms only re-rank the few rows left (exact top, MaxScore).
      if (floor > remaining) {
        foundAll = true;
        this.dropBelow(scan, floor - remaining);
      }
    }
    const touched = this.touched.subarray(0, scan.touched);
    const scores = this.scores;
    const best = topByScore(touched, scores, this.keys, limit);
    const hits = best.map((slot) => ({ id: this.ids.get(slot), score: scores[slot] as number }));
    for (const slot of touched) scores[slot] = 0;
    return hits;
  }

  /** Adds one term's contribution to every row of the statuses (or kept) in the window that holds it. */
  private scoreAll(term: QueryTerm, scan: Scan): void {
    const { list, termId, idf } = term;
    const scores = this.scores;
    for (let i = 0; i < list.length; i++) {
      const slot = list.slots[i] as number;
      if (
        scan.kept ? scan.kept[slot] === 0 : ((scan.statusBits >>> (this.status[slot] as number)) & 1) === 0
      ) {
        continue;
      }
      const time = this.times[slot] as number;
      if (time < scan.from || time >= scan.to) continue;
      if (!classesPass(this.classes[slot] as number, scan.masks)) continue;
      if (scores[slot] === 0) this.touched[scan.touched++] = slot;
      this.addContribution(
        slot,
        idf,
        this.frequency(termId, slot, list.counts[i] as number, scan.weights),
        scan,
      );
    }
  }

  /** Adds one term's contribution to the rows already touched: by binary search when they are few. */
  private rescoreTouched(term: QueryTerm, scan: Scan): void {
    const { list, termId, idf } = term;
    const scores = this.scores;
    if (scan.touched * Math.log2(list.length + 1) < list.length) {
      for (let t = 0; t < scan.touched; t++) {
        const slot = this.touched[t] as number;
        const i = findSlot(list, slot);
        if (i >= 0) {
          this.addContribution(
            slot,
            idf,
            this.frequency(termId, slot, list.counts[i] as number, scan.weights),
            scan,
          );
        }
      }
      return;
    }
    for (let i = 0; i < list.length; i++) {
      const slot = list.slots[i] as number;
      if (scores[slot] === 0) continue;
      this.addContribution(
        slot,
        idf,
        this.frequency(termId, slot, list.counts[i] as number, scan.weights),
        scan,
      );
    }
  }

  /** By slot, 1 for the current rows of the given item keys. */
  private slotMask(itemKeys: Iterable<number>): Uint8Array {
    const mask = new Uint8Array(this.slots);
    for (const key of itemKeys) {
      const slot = this.slotOf.get(key);
      if (slot !== undefined) mask[slot] = 1;
    }
    return mask;
  }

  private addContribution(slot: number, idf: number, freq: number, scan: Scan): void {
    const lengthNorm = 1 - B + (B * (this.lengths[slot] as number)) / scan.avgdl;
    const score = idf * ((freq * (K1 + 1)) / (freq + K1 * lengthNorm));
    // A zero-weight column still makes the row match, as in FTS5; keep it distinguishable.
    this.scores[slot] = (this.scores[slot] as number) + score || Number.MIN_VALUE;
  }

  /**
   * A lower bound on the `limit`-th best score of the touched rows, at least `least` (which at
   * least `limit` of them reach): exact for few rows; for many, the lower edge of the histogram
   * bin holding it (one pass to bin, none to sort).
   */
  private scoreFloor(scan: Scan, limit: number, least: number): number {
    const scores = this.scores;
    const contenders: number[] = [];
    for (let t = 0; t < scan.touched; t++) {
      const slot = this.touched[t] as number;
      if ((scores[slot] as number) >= least) contenders.push(slot);
    }
    const touched = Uint32Array.from(contenders);
    if (touched.length <= EXACT_FLOOR_ROWS) {
      const leaders = topByScore(touched, scores, this.keys, limit);
      return leaders.length < limit ? 0 : (scores[leaders.at(-1) as number] as number);
    }
    let top = 0;
    for (const slot of touched) top = Math.max(top, scores[slot] as number);
    const bins = new Uint32Array(FLOOR_BINS);
    const scale = FLOOR_BINS / top;
    for (const slot of touched) {
      const bin = Math.min(FLOOR_BINS - 1, Math.floor((scores[slot] as number) * scale));
      bins[bin] = (bins[bin] as number) + 1;
    }
    let bin = FLOOR_BINS;
    let counted = 0;
    while (bin > 0 && counted < limit) counted += bins[--bin] as number;
    // Every row counted has a score of at least its bin's lower edge (less a rounding margin).
    return counted < limit ? 0 : (bin / scale) * (1 - 1e-9);
  }

  /** True when at least `count` touched rows score above `threshold`. */
  private atLeastAbove(scan: Scan, threshold: number, count: number): boolean {
    const { touched, scores } = this;
    let found = 0;
    for (let t = 0; t < scan.touched; t++) {
      if ((scores[touched[t] as number] as number) > threshold && ++found === count) return true;
    }
    return false;
  }

  /** Forgets the touched rows scoring below `threshold`: even every remaining term could not lift them to the top. */
  private dropBelow(scan: Scan, threshold: number): void {
    const { touched, scores } = this;
    let kept = 0;
    for (let t = 0; t < scan.touched; t++) {
      const slot = touched[t] as number;
      if ((scores[slot] as number) >= threshold) touched[kept++] = slot;
      else scores[slot] = 0;
    }
    scan.touched = kept;
  }

  /** Rows holding the term: FTS5's `nHit`, over current rows only. */
  private hits(list: Postings): number {
    if (this.staleSlots === 0) return list.length;
    let n = 0;
    for (let i = 0; i < list.length; i++) n += this.present[list.slots[i] as number] as number;
    return n;
  }

  private frequency(termId: number, slot: number, packed: number, weights: ColumnWeights): number {
    if (packed !== OVERFLOW) {
      return (
        weights.text * (packed >>> 8) +
        weights.context * ((packed >>> 4) & 0xf) +
        weights.keys * (packed & 0xf)
      );
    }
    const [text, context, keys] = this.overflow.get(`${termId}:${slot}`) as [number, number, number];
    return weights.text * text + weights.context * context + weights.keys * keys;
  }

  private append(itemKey: number, doc: IndexedDoc): void {
    const slot = this.slots++;
    if (slot === this.keys.length) this.grow();
    this.keys[slot] = itemKey;
    this.slotOf.set(itemKey, slot);
    this.ids.set(slot, doc.id);
    this.times[slot] = doc.time;
    this.present[slot] = 1;
    this.status[slot] = statusCode(doc.status);
    this.classes[slot] = classBits(doc.role, doc.kind);
    // Per-column counts of this row's terms, in reused buffers: building a big cube adds millions of rows.
    const seen = this.rowTerms;
    seen.length = 0;
    let length = 0;
    for (const [column, text] of [doc.text, doc.context, doc.keys].entries()) {
      for (const token of ftsTokens(text)) {
        length++;
        const termId = this.tokenTermId(token);
        if (this.rowCounts.length < 3 * (termId + 1)) this.growRowCounts(termId);
        const counts = this.rowCounts;
        const at = 3 * termId;
        if (counts[at] === 0 && counts[at + 1] === 0 && counts[at + 2] === 0) seen.push(termId);
        counts[at + column] = (counts[at + column] as number) + 1;
      }
    }
    this.lengths[slot] = length;
    this.totalTokens += length;
    this.presentDocs++;
    if (doc.status === 'active') this.activeDocs++;
    for (const termId of seen) {
      const text = this.rowCounts[3 * termId] as number;
      const context = this.rowCounts[3 * termId + 1] as number;
      const keys = this.rowCounts[3 * termId + 2] as number;
      this.rowCounts.fill(0, 3 * termId, 3 * termId + 3);
      const packed = pack(text, context, keys);
      if (packed === OVERFLOW) this.overflow.set(`${termId}:${slot}`, [text, context, keys]);
      this.addPosting(termId, slot, packed);
    }
  }

  private growRowCounts(termId: number): void {
    this.rowCounts = grown(this.rowCounts, Math.max(3 * (termId + 1), this.rowCounts.length * 2));
  }

  /** One map lookup per token: raw token → term id, the term folded and stemmed once. */
  private tokenTermId(token: string): number {
    let id = this.tokenTermIds.get(token);
    if (id === undefined) {
      id = this.termId(ftsTerm(token));
      this.tokenTermIds.set(detached(token), id);
      const word = vocabularyWord(token);
      if (word !== null && !this.wordSet.has(word)) {
        this.wordSet.add(word);
        this.words.push(word);
      }
    }
    return id;
  }

  private termId(term: string): number {
    let id = this.termIds.get(term);
    if (id === undefined) {
      id = this.postings.length;
      this.termIds.set(term, id);
      this.postings.push({ slots: new Uint32Array(4), counts: new Uint16Array(4), length: 0 });
      this.postingRoom += 4;
    }
    return id;
  }

  private addPosting(termId: number, slot: number, packed: number): void {
    const list = this.postings[termId] as Postings;
    if (list.length === list.slots.length) {
      const capacity = Math.ceil(list.length * 1.5) + 4;
      this.postingRoom += capacity - list.slots.length;
      list.slots = grown(list.slots, capacity);
      list.counts = grown(list.counts, capacity);
    }
    list.slots[list.length] = slot;
    list.counts[list.length] = packed;
    list.length++;
  }

  private grow(): void {
    const capacity = this.keys.length * 2;
    this.keys = grown(this.keys, capacity);
    this.lengths = grown(this.lengths, capacity);
    this.times = grown(this.times, capacity);
    this.present = grown(this.present, capacity);
    this.status = grown(this.status, capacity);
    this.classes = grown(this.classes, capacity);
    this.scores = new Float64Array(capacity);
    this.touched = new Uint32Array(capacity);
  }
}

/**
 * The best `limit` of `found` (rows holding a finding term, scored by every term) and `alone` (the
 * best rows by the other terms): a row lacking the finding terms scores the same by every term,
 * so a row of `alone` that `found` lacks keeps its score, and one it has takes `found`'s.
 */
function mergedTop(found: ScoredId[], alone: ScoredId[], limit: number): ScoredId[] {
  const seen = new Set(found.map((h) => h.id));
  return [...found, ...alone.filter((h) => !seen.has(h.id))]
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
}

/** The `limit` slots of highest score, best first (a bounded min-heap: touched can be most of the cube). */
function topByScore(touched: Uint32Array, scores: Float64Array, keys: Float64Array, limit: number): number[] {
  const heap: number[] = [];
  // Equal scores go by item key, so every connection returns the same top whatever its slot order.
  const less = (a: number, b: number) =>
    (scores[a] as number) < (scores[b] as number) ||
    (scores[a] === scores[b] && (keys[a] as number) > (keys[b] as number));
  for (const slot of touched) {
    if (heap.length < limit) {
      heap.push(slot);
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!less(heap[i] as number, heap[parent] as number)) break;
        [heap[i], heap[parent]] = [heap[parent] as number, heap[i] as number];
        i = parent;
      }
    } else if (less(heap[0] as number, slot)) {
      heap[0] = slot;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l] as number, heap[m] as number)) m = l;
        if (r < heap.length && less(heap[r] as number, heap[m] as number)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as number, heap[i] as number];
        i = m;
      }
    }
  }
  return heap.sort((a, b) => (less(a, b) ? 1 : less(b, a) ? -1 : 0));
}

/** Index of the slot in a postings list (slots ascend: rows are appended in slot order), or -1. */
function findSlot(list: Postings, slot: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const value = list.slots[mid] as number;
    if (value === slot) return mid;
    if (value < slot) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
