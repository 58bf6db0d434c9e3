import path from 'node:path';
import envPaths from 'env-paths';
import { CachedEmbedder } from '../embed/cached.js';
import type { Embedder } from '../embed/embedder.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';

/** `eval-embeddings.db` in the user cache directory, e.g. `~/.cache/memcube/`. */
export function defaultEmbeddingCachePath(): string {
  return path.join(envPaths('memcube', { suffix: '' }).cache, 'eval-embeddings.db');
}

export interface EvalEmbedder {
  embedder: Embedder;
  /** The cache file in use, or null. */
  cachePath: string | null;
  close(): Promise<void>;
}

/**
 * One embedder for a whole run, remembering vectors in one on-disk cache. Every conversation
 * gets its own database, and LongMemEval haystacks share most of their sessions, so without a
 * cache shared across those databases the same texts would be embedded again and again, and
 * across runs too.
 */
export function openEvalEmbedder(base: Embedder, cachePath: string | null): EvalEmbedder {
  if (base.id === 'none' || cachePath === null) {
    return { embedder: base, cachePath: null, close: async () => {} };
  }
  // A cache only: losing its last writes to a power cut costs a recomputation, nothing more.
  const store = SqliteStore.open(cachePath, { durability: 'normal' });
  return {
    embedder: new CachedEmbedder(base, store),
    cachePath: path.resolve(cachePath),
    close: () => store.close(),
  };
}
