import Database from 'better-sqlite3';

/** Rows of a SQLite store's embedding cache, read through a connection of its own. */
export function cachedEmbeddingRows(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM embedding_cache').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
