import type { AuditRecord } from '../../core/types.js';
import { AUDIT_INSERT_COLUMNS, type AuditTarget, auditValues } from '../audit-values.js';
import { type AuditEntry, type AuditRow, rowToAudit } from '../sqlite/rows.js';
import type { AuditQuery, WriteContext } from '../store.js';
import { type Db, query } from './sql.js';

/** The audit insert of schema `s`; values in `AUDIT_INSERT_COLUMNS` order, `$1` to `$10`. */
export const insertAuditSql = (s: string): string =>
  `INSERT INTO ${s}.audit (${AUDIT_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;

/** Appends one audit record; the request id, when there is one, goes into the details. */
export async function writeAudit(
  db: Db,
  schema: string,
  target: AuditTarget,
  entry: AuditEntry,
  ctx: WriteContext,
): Promise<void> {
  await query(db, insertAuditSql(schema), auditValues(target, entry, ctx));
}

/** Audit records matching `where` (one column: a cube's key, or a tenant) and the filter, in its order. */
export async function selectAudit(
  db: Db,
  schema: string,
  where: { column: 'cube_key' | 'tenant'; value: number | string; cubeName?: string },
  filter: AuditQuery,
): Promise<AuditRecord[]> {
  const rows = await query<AuditRow>(
    db,
    `SELECT audit_key, at, tenant, cube_name, item_id, operation, actor, version_before, version_after,
       details::text AS details
     FROM ${schema}.audit WHERE ${where.column} = $1 AND audit_key > $2 AND ($3::text IS NULL OR cube_name = $3)
       AND ($4::text IS NULL OR item_id = $4) AND ($5::text IS NULL OR actor = $5)
       AND ($6::bigint IS NULL OR at >= $6) AND ($7::bigint IS NULL OR at < $7)
       AND ($9::bigint IS NULL OR audit_key < $9)
     ORDER BY audit_key ${filter.order === 'newest' ? 'DESC' : 'ASC'} LIMIT $8`,
    [
      where.value,
      filter.afterId ?? 0,
      where.cubeName ?? null,
      filter.itemId ?? null,
      filter.actor ?? null,
      filter.from ?? null,
      filter.to ?? null,
      filter.limit,
      filter.beforeId ?? null,
    ],
  );
  return rows.map(rowToAudit);
}
