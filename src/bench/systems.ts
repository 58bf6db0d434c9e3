import type { BenchItem } from './corpus.js';

export interface VectorIndexFigures {
  recall_at_10: number;
  /** The first vector search of a freshly opened store, which builds the index from SQLite. */
  build_ms: number;
}

/** What the benchmark drives: memcube, or a peer behind the same calls. */
export interface BenchSystem {
  /**
   * Bulk load of up to 1,000 consecutive items (several sessions); returns the milliseconds of the
   * timed part (the store work, without embedding and, for memcube, without key derivation).
   */
  bulk(items: BenchItem[]): Promise<number>;
  /**
   * After the last bulk load: waits until every path of search sees all of it (memcube: its word
   * index caught up on the background thread), and returns the milliseconds, counted as ingest.
   */
  settle(): Promise<number>;
  /** The public add call for one session chunk, everything but embedding included. */
  add(items: BenchItem[]): Promise<void>;
  /** Builds what the system builds before it answers at full speed (memcube: a big cube's indexes). */
  warm(): Promise<void>;
  /** Top 10 for the query with the system's default (hybrid where it has one) settings. */
  search(query: string): Promise<void>;
  /**
   * Top 10 among the user's own turns (a role filter: the word index applies it, the vector index
   * reads deeper for it); null when the system cannot filter by role.
   */
  filteredSearch: ((query: string) => Promise<void>) | null;
  /** A prompt-ready context for the query; null when the system has no such call. */
  context: ((query: string) => Promise<void>) | null;
  /** The approximate vector index against exact search over the same queries; null when there is none. */
  vectorIndex: ((queries: string[]) => Promise<VectorIndexFigures>) | null;
  close(): Promise<void>;
}

export const SYSTEMS = ['memcube', 'mem0'] as const;
export type SystemName = (typeof SYSTEMS)[number];
