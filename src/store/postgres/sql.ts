import pg from 'pg';
import { MemcubeError } from '../../core/errors.js';

/** A pool or a checked-out client: every query helper takes one, so a transaction passes its client. */
export type Db = pg.Pool | pg.PoolClient;

/** Builds a parameter list alongside the SQL that refers to it as `$1`, `$2`, ... */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** int8 (counts, epoch milliseconds, identity keys) as a JS number rather than pg's default string. */
const INT8_OID = 20;
export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** pgvector's text form, `[x,y,z]`; a float32 printed as the shortest double reads back to the same float32. */
export function vectorLiteral(vector: Float32Array): string {
  return `[${Array.from(vector).join(',')}]`;
}

/** Database failures become `storage` errors; memcube's own errors pass through unchanged. */
export function asStorageError(err: unknown): unknown {
  if (err instanceof MemcubeError || !(err instanceof Error)) return err;
  return new MemcubeError('storage', `postgres: ${err.message}`, { cause: err });
}

export async function query<R extends pg.QueryResultRow>(
  db: Db,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  try {
    return (await db.query<R>(text, values)).rows;
  } catch (err) {
    throw asStorageError(err);
  }
}

/**
 * Runs `work` in one transaction on one connection. Every query inside must use the client it is
 * given: with a pool of one connection, a query on the pool would wait for this transaction forever.
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw asStorageError(err);
  }
  let broken: Error | undefined;
  try {
    await query(client, 'BEGIN');
    const result = await work(client);
    await query(client, 'COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // The connection is unusable; the pool must not hand it out again.
      broken = rollbackError as Error;
    }
    throw asStorageError(err);
  } finally {
    client.release(broken);
  }
}
