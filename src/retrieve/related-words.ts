import { LRUCache } from 'lru-cache';
import { stemmer } from 'stemmer';
import type { Embedder } from '../embed/embedder.js';

/** An embedder that can also say what its cache holds without embedding (`CachedEmbedder`). */
type WordEmbedder = Embedder & {
  cachedOnly?: (texts: string[]) => Promise<Array<Float32Array | undefined>>;
};

import { HammingCodes } from '../store/sqlite/wasm/hamming.js';
import type { CubeScope, Store, VocabularyMark } from '../store/store.js';
import { isStopword } from './query-terms.js';

/**
 * Words embedded during one search at most (about 1.5 ms each with the offline encoder); a bigger
 * backlog, after a large import, is taken in over the following searches. Words whose vectors the
 * embedder's cache holds are taken in at once.
 */
export const WORDS_EMBEDDED_PER_SEARCH = 2_000;
/** Words embedded per call to the embedder. */
const EMBED_BATCH = 256;
/**
 * Up to `upTo` words a query word is compared with every one exactly; past it, a Hamming scan of
 * the words' sign bits (WebAssembly SIMD) shortlists `shortlist` to compare exactly: an exact scan
 * of 15,000 words costs a query word about 8 ms in JavaScript.
 */
const EXACT_SCAN = { upTo: 1_024, shortlist: 256 };

export interface RelatedWordOptions {
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

/**
 * A cube's vocabulary (its distinct words, from the store) with a unit vector per word, held in
 * process. A question's word finds the cube's words nearest to it in meaning ("instruments" →
 * "guitar", "violin"; "furniture" → "decor", "carpet"), which a list question's evidence says
 * where the question's own word never appears. Word vectors come from the cube's embedder through
 * its cache, so a word is embedded once per store.
 */
export class WordVectors {
  private mark: VocabularyMark | null = null;
  private readonly words: string[] = [];
  private readonly positions = new Map<string, number>();
  private vectors = new Float32Array(0);
  private dimensions = 0;
  private codes: HammingCodes | null = null;
  private codeRoom = 0;
  /** Words read from the store and not yet embedded, in vocabulary order. */
  private backlog: string[] = [];
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly scope: CubeScope,
    private readonly embedder: WordEmbedder,
    private readonly maxVocabulary: number,
    /** Vocabularies up to `upTo` words are scanned exactly; bigger ones through a Hamming shortlist. */
    private readonly scan = EXACT_SCAN,
  ) {}

  /** Words held with their vectors. */
  get size(): number {
    return this.words.length;
  }

  /** Words of the store's vocabulary not yet embedded. */
  get pending(): number {
    return this.backlog.length;
  }

  get bytes(): number {
    return this.vectors.byteLength + this.words.length * 100;
  }

  /**
   * Reads the words the store added since the last call and embeds up to `budget` of the waiting
   * ones. Calls run one at a time, so concurrent searches never embed a word twice.
   */
  refresh(budget = WORDS_EMBEDDED_PER_SEARCH): Promise<void> {
    const next = this.running.then(() => this.refreshNow(budget));
    this.running = next.catch(() => undefined);
    return next;
  }

  private async refreshNow(budget: number): Promise<void> {
    // Null while a big cube's index is being built: the words held so far serve meanwhile.
    const page = await this.store.vocabulary?.(this.scope, this.mark);
    if (page) {
      if (page.from === 0 && this.mark !== null) this.clear();
      this.mark = { generation: page.generation, size: page.size };
      for (const word of page.words) if (!isStopword(word)) this.backlog.push(word);
    }
    if (this.embedder.cachedOnly && this.backlog.length > 0) {
      const room = Math.max(0, this.maxVocabulary - this.words.length);
      const ahead = this.backlog.slice(0, room);
      const cached = await this.embedder.cachedOnly(ahead);
      const hit = ahead.flatMap((word, i) =>
        cached[i] ? [{ word, vector: cached[i] as Float32Array }] : [],
      );
      this.append(
        hit.map((h) => h.word),
        hit.map((h) => h.vector),
      );
      const held = new Set(hit.map((h) => h.word));
      this.backlog = this.backlog.filter((word) => !held.has(word));
    }
    const room = Math.max(0, this.maxVocabulary - this.words.length);
    const taken = this.backlog.splice(0, Math.min(budget, room));
    for (let i = 0; i < taken.length; i += EMBED_BATCH) {
      const batch = taken.slice(i, i + EMBED_BATCH);
      this.append(batch, await this.embedder.embed(batch));
    }
    // A full vocabulary takes no more words: none is waiting.
    if (this.words.length >= this.maxVocabulary) this.backlog = [];
  }

  private clear(): void {
    this.words.length = 0;
    this.positions.clear();
    this.vectors = new Float32Array(0);
    this.codes = null;
    this.codeRoom = 0;
    this.backlog = [];
  }

  private append(words: string[], vectors: Float32Array[]): void {
    const first = vectors[0];
    if (!first) return;
    if (this.dimensions === 0) this.dimensions = first.length;
    const dims = this.dimensions;
    const needed = (this.words.length + words.length) * dims;
    if (needed > this.vectors.length) {
      const grown = new Float32Array(Math.max(needed, this.vectors.length * 2));
      grown.set(this.vectors);
      this.vectors = grown;
    }
    if (!this.codes) {
      this.codeRoom = 1024;
      this.codes = new HammingCodes(dims, this.codeRoom);
    }
    words.forEach((word, i) => {
      const vector = vectors[i];
      if (!vector || vector.length !== dims) return;
      const slot = this.words.length;
      const unit = normalised(vector);
      this.vectors.set(unit, slot * dims);
      const codes = this.codes as HammingCodes;
      if (slot === this.codeRoom) {
        this.codeRoom *= 2;
        codes.resize(this.codeRoom);
      }
      codes.set(slot, unit, 0);
      this.positions.set(word, slot);
      this.words.push(word);
    });
  }

  /** The vector of a word the vocabulary holds (a view, not a copy); undefined for others. */
  vectorOf(word: string): Float32Array | undefined {
    const at = this.positions.get(word);
    if (at === undefined) return undefined;
    return this.vectors.subarray(at * this.dimensions, (at + 1) * this.dimensions);
  }

  /**
   * Up to `perTerm` vocabulary words nearest to `target` (a unit vector) at `minSimilarity` or
   * more, nearest first, skipping those `skip` rejects.
   */
  nearest(
    target: Float32Array,
    perTerm: number,
    minSimilarity: number,
    skip: (word: string) => boolean,
  ): string[] {
    const dims = this.dimensions;
    if (dims === 0 || target.length !== dims || perTerm <= 0) return [];
    const found: Array<{ word: string; similarity: number }> = [];
    const vectors = this.vectors;
    const count = this.words.length;
    const candidates =
      count <= this.scan.upTo || !this.codes ? null : this.codes.nearest(target, count, this.scan.shortlist);
    for (let i = 0; i < (candidates ? candidates.length : count); i++) {
      const w = candidates ? (candidates[i] as number) : i;
      let dot = 0;
      const base = w * dims;
      for (let d = 0; d < dims; d++) dot += (vectors[base + d] as number) * (target[d] as number);
      if (dot < minSimilarity) continue;
      const word = this.words[w] as string;
      if (!skip(word)) found.push({ word, similarity: dot });
    }
    return found
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, perTerm)
      .map((f) => f.word);
  }
}

/** Cubes' word vectors kept per store, the least recently searched dropped past this many bytes. */
const HELD_BYTES = 256 * 2 ** 20;
const held = new WeakMap<Store, LRUCache<string, WordVectors>>();

/** The word vectors of a cube for an embedder, kept across searches (and across cube handles). */
export function wordVectorsOf(
  store: Store,
  scope: CubeScope,
  embedder: Embedder,
  maxVocabulary: number,
): WordVectors {
  let cubes = held.get(store);
  if (!cubes) {
    cubes = new LRUCache<string, WordVectors>({
      maxSize: HELD_BYTES,
      sizeCalculation: (vectors) => Math.max(1, vectors.bytes),
    });
    held.set(store, cubes);
  }
  const key = `${scope.tenant}\u0000${scope.cube}\u0000${embedder.id}\u0000${maxVocabulary}`;
  let vectors = cubes.get(key);
  if (!vectors) {
    vectors = new WordVectors(store, scope, embedder, maxVocabulary);
    cubes.set(key, vectors);
  }
  return vectors;
}

/**
 * The cube's words nearest in meaning to each query word, for the related-words channel: words
 * that share a query word's stem are left out (the query already finds them), and so are the
 * words in `exclude` (the speakers' names the query gives). Query words the vocabulary lacks are
 * embedded with `queryEmbedder`.
 */
export async function relatedWords(
  vocabulary: WordVectors,
  queryEmbedder: Embedder,
  terms: string[],
  exclude: string[],
  options: RelatedWordOptions,
): Promise<string[]> {
  const wanted = terms.filter((t) => /^\p{L}{3,}$/u.test(t));
  if (wanted.length === 0 || vocabulary.size === 0) return [];
  const missing = wanted.filter((t) => !vocabulary.vectorOf(t));
  const embedded = new Map<string, Float32Array>();
  if (missing.length > 0) {
    const vectors = await queryEmbedder.embed(missing);
    missing.forEach((t, i) => {
      const v = vectors[i];
      if (v) embedded.set(t, normalised(v));
    });
  }
  const stems = new Set(terms.map((t) => stemmer(t)));
  const excluded = new Set([...terms, ...exclude]);
  const skip = (word: string) => excluded.has(word) || stems.has(stemmer(word));
  const found = new Set<string>();
  for (const term of wanted) {
    const target = vocabulary.vectorOf(term) ?? embedded.get(term);
    if (!target) continue;
    for (const word of vocabulary.nearest(target, options.perTerm, options.minSimilarity, skip))
      found.add(word);
  }
  return [...found];
}
