import type { PostgresStoreOptions } from './postgres/postgres-store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** True for a `postgres://` or `postgresql://` connection URL. */
export function isPostgresUrl(location: string): boolean {
  return POSTGRES_URL.test(location);
}

/** The same URL with its password replaced by `***`, for messages and logs. */
export function redactUrl(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export interface OpenStoreOptions {
  sqlite?: SqliteStoreOptions;
  postgres?: Omit<PostgresStoreOptions, 'connectionString'>;
}

/** Opens the store a location names: PostgreSQL for a `postgres://` URL, else a SQLite file (or `:memory:`). */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(location)) {
    // Loaded only for PostgreSQL: the SQLite default never needs the driver.
    const { PostgresStore } = await import('./postgres/postgres-store.js');
    return PostgresStore.open({ ...options.postgres, connectionString: location });
  }
  return SqliteStore.open(location, options.sqlite);
}
