import type Database from 'better-sqlite3';
import type { AuditRecord } from '../../core/types.js';
import type { WriteContext } from '../store.js';
import { type AuditEntry, type AuditRow, rowToAudit } from './rows.js';

export type { AuditEntry };

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

export interface AuditFilter {
  afterId?: number;
  itemId?: string;
  actor?: string;
  from?: number;
  to?: number;
  limit: number;
}

/** Audit records matching `where` (one column: a cube's key, or a tenant) and the filter, oldest first. */
export function selectAudit(
  db: Database.Database,
  where: { column: 'cube_key' | 'tenant'; value: number | string; cubeName?: string },
  filter: AuditFilter,
): AuditRecord[] {
  const rows = db
    .prepare(
      `SELECT * FROM audit WHERE ${where.column} = ? AND audit_key > ? AND (? IS NULL OR cube_name = ?)
         AND (? IS NULL OR item_id = ?) AND (? IS NULL OR actor = ?) AND (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?)
       ORDER BY audit_key LIMIT ?`,
    )
    .all(
      where.value,
      filter.afterId ?? 0,
      ...[where.cubeName, filter.itemId, filter.actor, filter.from, filter.to].flatMap((v) => [
        v ?? null,
        v ?? null,
      ]),
      filter.limit,
    ) as AuditRow[];
  return rows.map(rowToAudit);
}
