import type Database from 'better-sqlite3';
import type { AuditRecord } from '../../core/types.js';
import { AUDIT_INSERT_COLUMNS, type AuditTarget, auditValues } from '../audit-values.js';
import type { AuditQuery, WriteContext } from '../store.js';
import { prepared } from './prepared.js';
import { type AuditEntry, type AuditRow, rowToAudit } from './rows.js';

export type { AuditEntry, AuditTarget };

/** Appends one audit record; the request id, when there is one, goes into the details. */
export function writeAudit(
  db: Database.Database,
  target: AuditTarget,
  entry: AuditEntry,
  ctx: WriteContext,
): void {
  prepared(db, `INSERT INTO audit (${AUDIT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
    ...auditValues(target, entry, ctx),
  );
}

/** Audit records matching `where` (one column: a cube's key, or a tenant) and the filter, in its order. */
export function selectAudit(
  db: Database.Database,
  where: { column: 'cube_key' | 'tenant'; value: number | string; cubeName?: string },
  filter: AuditQuery,
): AuditRecord[] {
  const rows = db
    .prepare(
      `SELECT * FROM audit WHERE ${where.column} = ? AND audit_key > ? AND (? IS NULL OR audit_key < ?)
         AND (? IS NULL OR cube_name = ?) AND (? IS NULL OR item_id = ?) AND (? IS NULL OR actor = ?)
         AND (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?)
       ORDER BY audit_key ${filter.order === 'newest' ? 'DESC' : 'ASC'} LIMIT ?`,
    )
    .all(
      where.value,
      filter.afterId ?? 0,
      ...[filter.beforeId, where.cubeName, filter.itemId, filter.actor, filter.from, filter.to].flatMap(
        (v) => [v ?? null, v ?? null],
      ),
      filter.limit,
    ) as AuditRow[];
  return rows.map(rowToAudit);
}
