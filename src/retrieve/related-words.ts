import { LRUCache } from 'lru-cache';
import { stemmer } from 'stemmer';
import { foldLatinAccents } from '../core/accents.js';
import type { RetrievalConfig } from '../core/config.js';
import type { Embedder } from '../embed/embedder.js';
import { vocabularyWords } from '../store/fts-tokens.js';
import { HammingCodes } from '../store/hamming/hamming.js';
import type { CubeScope, IndexFields, Store, VocabularyMark } from '../store/store.js';
import { isStopword } from './query-terms.js';

/** An embedder that can also say what its cache holds without embedding (`CachedEmbedder`). */
export type WordEmbedder = Embedder & {
  cachedOnly?: (texts: string[]) => Promise<Array<Float32Array | undefined>>;
};

/** Words embedded per call to the embedder. */
const EMBED_BATCH = 256;
/** Waiting words looked up in the cache again each time new words arrive. */
const RECHECK_MISSING = 1_000;
/**
 * Up to `upTo` words a query word is compared with every one in full (its held vector); past it, a
 * Hamming scan of the words' sign bits (WebAssembly SIMD) shortlists `shortlist`, the query's own
 * values against those bits (`HammingCodes.closest`) keep `rescore` of them, and only these are
 * compared in full. With float32 vectors a full scan of 15,000 words cost a query word about 8 ms
 * in JavaScript, and a full comparison of a 256-word shortlist about 0.2 ms, most of what the
 * channel cost a 100K-item cube.
 */
const EXACT_SCAN: VocabularyScan = { upTo: 1_024, shortlist: 256, rescore: 32 };
/** Query words whose neighbours a vocabulary remembers (a few hundred bytes each). */
const REMEMBERED_TERMS = 1_024;
/** What a remembered query word costs: its key, entry and a handful of neighbours. */
const BYTES_PER_REMEMBERED = 400;

interface Neighbour {
  word: string;
  similarity: number;
}

/** A query word's neighbours among the first `upTo` words held, at `minSimilarity` or more. */
interface RememberedNeighbours {
  upTo: number;
  minSimilarity: number;
  found: Neighbour[];
}

/** What a held word costs besides its vector: its string, map entry, array slot and sign bits. */
const BYTES_PER_WORD = 180;
/** Words whose cached vectors are read at once: a cube's first read takes thousands. */
const CACHE_READ = 1_024;

/** How a query word's neighbours are found in a vocabulary (see `EXACT_SCAN`). */
interface VocabularyScan {
  upTo: number;
  shortlist: number;
  rescore: number;
}

interface RelatedWordOptions {
  /** Vocabulary words taken per query word, nearest first. */
  perTerm: number;
  /** Cosine a vocabulary word needs with the query word. */
  minSimilarity: number;
}

function normalised(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return Float32Array.from(vector, (x) => x / norm);
}

/** A typed array of `length` holding `from`'s values first: room for more slots. */
function grownTo<T extends Int8Array | Float32Array>(from: T, length: number): T {
  const grown = new (from.constructor as new (length: number) => T)(length);
  grown.set(from);
  return grown;
}

/**
 * Whether writes embed their words for the related-words channel: it is weighted, and the store
 * keeps a vocabulary (both built-in stores do).
 */
export function embedsWords(retrieval: RetrievalConfig, store: Store): boolean {
  return retrieval.channelWeights.related > 0 && store.vocabulary !== undefined;
}

/**
 * The words of new items that the related-words channel may use, stopwords left out. Their
 * context column is the turns before them, stored (and their words embedded) already.
 */
export function vocabularyOf(indexes: Array<Pick<IndexFields, 'text' | 'keys'>>): string[] {
  return vocabularyWords(indexes.flatMap((i) => [i.text, i.keys])).filter((w) => !isStopword(w));
}

/**
 * A cube's vocabulary (its distinct words, from the store) with a unit vector per word, held in
 * process. A question's word finds the cube's words nearest to it in meaning ("instruments" →
 * "guitar", "piano"; "furniture" → "decor", "carpet"), which a list question's evidence says
 * where the question's own word never appears.
 *
 * Words are embedded when their items are added, into the embedding cache beside the items'
 * vectors; a search only reads that cache (`update`), so it writes nothing and never waits for the
 * model. Words the cache lacks (items stored before this existed) wait for `embedMissing`.
 */
export class WordVectors {
  private mark: VocabularyMark | null = null;
  private readonly words: string[] = [];
  private readonly positions = new Map<string, number>();
  /**
   * Each word's unit vector as int8, scaled by its largest component (`scales`): a quarter of
   * float32's memory (20,000 words of 512 dimensions: 10 MB, not 41), and cosines within about
   * 0.001 of the exact ones.
   */
  private vectors = new Int8Array(0);
  private scales = new Float32Array(0);
  private dimensions = 0;
  private codes: HammingCodes | null = null;
  private codeRoom = 0;
  /** Every word read from the store, held or not: a rebuilt index lists them again. */
  private readonly seen = new Set<string>();
  /** Words read from the store whose vectors the cache did not hold. */
  private missing: string[] = [];
  private running: Promise<void> = Promise.resolve();
  /** Query words' neighbours, as of `upTo` words held: an agent's questions repeat their words. */
  private readonly remembered = new LRUCache<string, RememberedNeighbours>({ max: REMEMBERED_TERMS });
  private embedding: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly scope: CubeScope,
    private readonly embedder: WordEmbedder,
    private readonly maxVocabulary: number,
    /** Vocabularies up to `upTo` words are scanned exactly; bigger ones through a Hamming shortlist. */
    private readonly scan = EXACT_SCAN,
    /** Called when words were added: what this holds has grown. */
    private readonly grew: () => void = () => undefined,
  ) {}

  /** Words held with their vectors. */
  get size(): number {
    return this.words.length;
  }

  /** Words of the vocabulary whose vectors are not cached yet (see `embedMissing`). */
  get pending(): number {
    return this.missing.length;
  }

  /** Whether the vocabulary holds all the words it may: new words need not be embedded for it. */
  get full(): boolean {
    return this.words.length >= this.maxVocabulary;
  }

  /** Roughly what this holds in memory. */
  get bytes(): number {
    return (
      this.vectors.byteLength +
      this.scales.byteLength +
      (this.seen.size + this.words.length) * BYTES_PER_WORD +
      this.remembered.size * BYTES_PER_REMEMBERED
    );
  }

  /**
   * Reads the words the store added since the last call and takes in those whose vectors the
   * embedder's cache holds. Calls run one at a time, so concurrent searches read a word once.
   */
  update(): Promise<void> {
    return this.serially(() => this.updateNow());
  }

  /**
   * Embeds (and caches) the vocabulary's words the cache lacked; a failure leaves them waiting.
   * The model runs outside the queue, so searches meanwhile go on with the words held. An
   * aborted `signal` stops it between batches.
   */
  async embedMissing(signal?: AbortSignal): Promise<void> {
    // One run at a time: a second caller (reembed beside the server's warm-up) waits for the run
    // in progress, then embeds what it left.
    while (this.embedding) await this.embedding.catch(() => undefined);
    const run = this.embedMissingNow(signal);
    this.embedding = run;
    try {
      await run;
    } finally {
      if (this.embedding === run) this.embedding = null;
    }
  }

  private async embedMissingNow(signal?: AbortSignal): Promise<void> {
    await this.update();
    while (this.missing.length > 0 && !this.full && !signal?.aborted) {
      const batch = this.missing.slice(0, EMBED_BATCH);
      const vectors = await this.embedder.embed(batch);
      await this.serially(async () => {
        this.append(batch, vectors);
        const done = new Set(batch);
        this.missing = this.missing.filter((word) => !done.has(word));
      });
    }
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const next = this.running.then(work);
    this.running = next.catch(() => undefined);
    return next;
  }

  private async updateNow(): Promise<void> {
    // Null while a big cube's index is being built: the words held so far serve meanwhile.
    const page = await this.store.vocabulary?.(this.scope, this.mark);
    if (!page) return;
    this.mark = { generation: page.generation, size: page.size };
    const fresh = page.words.filter((w) => !this.seen.has(w) && !isStopword(w));
    for (const word of fresh) this.seen.add(word);
    if (fresh.length === 0) return;
    // Words waiting for their vectors count against the limit as held ones do. New items may have
    // cached some of them since (an add embeds its words), so they are looked up again first.
    const room = Math.max(0, this.maxVocabulary - this.words.length - this.missing.length);
    const recheck = this.missing.splice(0, RECHECK_MISSING);
    const taken = [...recheck, ...fresh.slice(0, room)];
    if (taken.length === 0) return;
    if (!this.embedder.cachedOnly) {
      this.missing.push(...taken);
      return;
    }
    // A slice at a time, so that a cube's first read does not hold all its words' float32 vectors.
    for (let start = 0; start < taken.length; start += CACHE_READ) {
      const slice = taken.slice(start, start + CACHE_READ);
      const cached = await this.embedder.cachedOnly(slice);
      const held = slice.flatMap((word, i) =>
        cached[i] ? [{ word, vector: cached[i] as Float32Array }] : [],
      );
      this.append(
        held.map((h) => h.word),
        held.map((h) => h.vector),
      );
      this.missing.push(...slice.filter((_, i) => !cached[i]));
    }
  }

  private append(words: string[], vectors: Float32Array[]): void {
    const first = vectors[0];
    if (!first) return;
    if (this.dimensions === 0) this.dimensions = first.length;
    const dims = this.dimensions;
    const needed = this.words.length + words.length;
    if (needed > this.scales.length) {
      const slots = Math.max(needed, Math.min(this.maxVocabulary, this.scales.length * 2));
      this.vectors = grownTo(this.vectors, slots * dims);
      this.scales = grownTo(this.scales, slots);
    }
    if (!this.codes) {
      this.codeRoom = 1024;
      this.codes = new HammingCodes(dims, this.codeRoom);
    }
    const codes = this.codes;
    words.forEach((word, i) => {
      const vector = vectors[i];
      if (!vector || vector.length !== dims || this.positions.has(word)) return;
      const slot = this.words.length;
      const unit = normalised(vector);
      let largest = 0;
      for (const x of unit) largest = Math.max(largest, Math.abs(x));
      const scale = largest / 127 || 1;
      for (let d = 0; d < dims; d++) this.vectors[slot * dims + d] = Math.round((unit[d] as number) / scale);
      this.scales[slot] = scale;
      if (slot === this.codeRoom) {
        this.codeRoom *= 2;
        codes.resize(this.codeRoom);
      }
      codes.set(slot, unit, 0);
      this.positions.set(word, slot);
      this.words.push(word);
    });
    this.grew();
  }

  /** Whether the vocabulary holds the word with its vector. */
  has(word: string): boolean {
    return this.positions.has(word);
  }

  /** The unit vector of a word the vocabulary holds, as held (int8, scaled); undefined for others. */
  vectorOf(word: string): Float32Array | undefined {
    const at = this.positions.get(word);
    if (at === undefined) return undefined;
    const scale = this.scales[at] as number;
    const held = this.vectors.subarray(at * this.dimensions, (at + 1) * this.dimensions);
    return Float32Array.from(held, (x) => x * scale);
  }

  /**
   * Up to `perTerm` vocabulary words nearest to `target` (the unit vector of the query word
   * `term`, or its held int8 form, within a rounding step of it) at `minSimilarity` or more,
   * nearest first, skipping those `skip` rejects. A query word's neighbours are remembered; words
   * added since are compared with it as held.
   */
  nearest(
    term: string,
    target: Float32Array,
    perTerm: number,
    minSimilarity: number,
    skip: (word: string) => boolean,
  ): string[] {
    if (this.dimensions === 0 || target.length !== this.dimensions || perTerm <= 0) return [];
    const count = this.words.length;
    let known = this.remembered.get(term);
    if (!known || known.minSimilarity !== minSimilarity || count - known.upTo > this.scan.upTo) {
      known = { upTo: count, minSimilarity, found: this.scanFor(target, minSimilarity) };
      this.remembered.set(term, known);
    } else if (known.upTo < count) {
      const from = known.upTo;
      const added = Array.from({ length: count - from }, (_, i) => from + i);
      const found = [...known.found, ...this.compare(target, added, minSimilarity)];
      known = { upTo: count, minSimilarity, found: found.sort((a, b) => b.similarity - a.similarity) };
      this.remembered.set(term, known);
    }
    const kept: string[] = [];
    for (const { word } of known.found) {
      if (kept.length === perTerm) break;
      if (!skip(word)) kept.push(word);
    }
    return kept;
  }

  /** The words at `minSimilarity` or more to `target`, nearest first: all compared, or a shortlist. */
  private scanFor(target: Float32Array, minSimilarity: number): Neighbour[] {
    const count = this.words.length;
    const slots =
      count <= this.scan.upTo || !this.codes
        ? Array.from({ length: count }, (_, i) => i)
        : this.codes.closest(
            target,
            this.codes.nearest(target, count, this.scan.shortlist),
            this.scan.rescore,
          );
    return this.compare(target, slots, minSimilarity).sort((a, b) => b.similarity - a.similarity);
  }

  /** The words of `slots` at `minSimilarity` or more to `target`, by cosine with their held vectors. */
  private compare(target: Float32Array, slots: ArrayLike<number>, minSimilarity: number): Neighbour[] {
    const dims = this.dimensions;
    const vectors = this.vectors;
    const found: Neighbour[] = [];
    for (let i = 0; i < slots.length; i++) {
      const w = slots[i] as number;
      let sum = 0;
      const base = w * dims;
      for (let d = 0; d < dims; d++) sum += (vectors[base + d] as number) * (target[d] as number);
      const dot = sum * (this.scales[w] as number);
      if (dot >= minSimilarity) found.push({ word: this.words[w] as string, similarity: dot });
    }
    return found;
  }
}

/**
 * Cubes' word vectors held per store; the least recently searched go past these bounds. A cube
 * weighs at most the whole budget, so one bigger than it is held alone rather than dropped.
 */
const HELD_BYTES = 256 * 2 ** 20;
const HELD_CUBES = 256;
const held = new WeakMap<Store, LRUCache<string, WordVectors>>();

/**
 * The word vectors of a cube for an embedder, kept across searches and cube handles. Keyed by
 * the cube's creation time too, so a cube deleted and made again under its name starts afresh.
 */
export function wordVectorsOf(
  store: Store,
  cube: { scope: CubeScope; createdAt: string },
  embedder: WordEmbedder,
  maxVocabulary: number,
): WordVectors {
  let cubes = held.get(store);
  if (!cubes) {
    cubes = new LRUCache<string, WordVectors>({
      max: HELD_CUBES,
      maxSize: HELD_BYTES,
      sizeCalculation: (vectors) => Math.min(HELD_BYTES, Math.max(1, vectors.bytes)),
    });
    held.set(store, cubes);
  }
  const { tenant, cube: name } = cube.scope;
  const key = [tenant, name, cube.createdAt, embedder.id, maxVocabulary].join('\u0000');
  let vectors = cubes.get(key);
  if (!vectors) {
    const entries = cubes;
    // Set again as it grows, so the cache weighs it by what it holds now.
    const grew = () => {
      if (entries.peek(key) === vectors) entries.set(key, vectors as WordVectors);
    };
    vectors = new WordVectors(store, cube.scope, embedder, maxVocabulary, EXACT_SCAN, grew);
    cubes.set(key, vectors);
  }
  return vectors;
}

/**
 * The related words a lexical search reads within `budget` postings, rarest first; words no row
 * holds are left out, and all are kept when the store cannot count. In a big cube a common
 * neighbour ("family") matches a large share of the rows: it costs the most to search and tells
 * the least.
 */
export async function withinPostingBudget(
  store: Store,
  scope: CubeScope,
  words: string[],
  budget: number,
): Promise<string[]> {
  if (words.length === 0 || !store.postingCounts) return words;
  const counts = await store.postingCounts(scope, words);
  if (!counts) return words;
  const byCost = words
    .map((word, i) => ({ word, postings: counts[i] ?? 0 }))
    .filter((w) => w.postings > 0)
    .sort((a, b) => a.postings - b.postings);
  const kept: string[] = [];
  let total = 0;
  for (const { word, postings } of byCost) {
    if (total + postings > budget) break;
    total += postings;
    kept.push(word);
  }
  return kept;
}

/**
 * The cube's words nearest in meaning to each query word, for the related-words channel. Words
 * that share a query word's stem are left out (the query already finds them), and so are the
 * words in `exclude`. Query words the vocabulary lacks are embedded with `queryEmbedder`.
 */
export async function relatedWords(
  vocabulary: WordVectors,
  queryEmbedder: Embedder,
  terms: string[],
  exclude: string[],
  options: RelatedWordOptions,
): Promise<string[]> {
  // As the index folds them, so that "café" is the vocabulary's "cafe".
  const wanted = [...new Set(terms.map(foldLatinAccents))].filter((t) => /^\p{L}{3,}$/u.test(t));
  if (wanted.length === 0 || vocabulary.size === 0) return [];
  const missing = wanted.filter((t) => !vocabulary.has(t));
  const embedded = new Map<string, Float32Array>();
  if (missing.length > 0) {
    const vectors = await queryEmbedder.embed(missing);
    missing.forEach((t, i) => {
      const v = vectors[i];
      if (v) embedded.set(t, normalised(v));
    });
  }
  const stems = new Set(wanted.map((t) => stemmer(t)));
  const excluded = new Set([...wanted, ...exclude.map(foldLatinAccents)]);
  const skip = (word: string) => excluded.has(word) || stems.has(stemmer(word));
  const found = new Set<string>();
  for (const term of wanted) {
    const target = vocabulary.vectorOf(term) ?? embedded.get(term);
    if (!target) continue;
    for (const word of vocabulary.nearest(term, target, options.perTerm, options.minSimilarity, skip))
      found.add(word);
  }
  return [...found];
}
