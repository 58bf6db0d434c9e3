import type Database from 'better-sqlite3';
import type { AuditOperation } from '../../core/types.js';
import type { WriteContext } from '../store.js';

export interface AuditEntry {
  itemId: string | null;
  operation: AuditOperation;
  versionBefore: number | null;
  versionAfter: number | null;
  details?: Record<string, unknown>;
}

/** Where a record belongs: a cube of a tenant, or the tenant itself (`cubeKey` null, `cubeName` ''). */
export interface AuditTarget {
  tenant: string;
  cubeKey: number | null;
  cubeName: string;
}

const inserts = new WeakMap<Database.Database, Database.Statement>();

/** Appends one audit record; the request id, when there is one, goes into the details. */
export function writeAudit(
  db: Database.Database,
  target: AuditTarget,
  entry: AuditEntry,
  ctx: WriteContext,
): void {
  const details = { ...(entry.details ?? {}), ...(ctx.requestId ? { requestId: ctx.requestId } : {}) };
  let insert = inserts.get(db);
  if (!insert) {
    insert = db.prepare(
      `INSERT INTO audit (at, tenant, cube_key, cube_name, item_id, operation, actor, version_before, version_after, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    inserts.set(db, insert);
  }
  insert.run(
    ctx.now,
    target.tenant,
    target.cubeKey,
    target.cubeName,
    entry.itemId,
    entry.operation,
    ctx.actor,
    entry.versionBefore,
    entry.versionAfter,
    JSON.stringify(details),
  );
}
