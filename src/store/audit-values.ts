import type { AuditRecord } from '../core/types.js';
import type { AuditEntry } from './sqlite/rows.js';
import type { WriteContext } from './store.js';

/** Where a record belongs: a cube of a tenant, or the tenant itself (`cubeKey` null, `cubeName` ''). */
export interface AuditTarget {
  tenant: string;
  cubeKey: number | null;
  cubeName: string;
}

/** The audit columns both stores insert, in the order of `auditValues`. */
export const AUDIT_INSERT_COLUMNS =
  'at, tenant, cube_key, cube_name, item_id, operation, actor, version_before, version_after, details';

/** One audit row's values; the request id, when there is one, goes into the details. */
export function auditValues(target: AuditTarget, entry: AuditEntry, ctx: WriteContext): unknown[] {
  const details = { ...(entry.details ?? {}), ...(ctx.requestId ? { requestId: ctx.requestId } : {}) };
  return [
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
  ];
}

/** An exported audit record's values, as it was, for an import into another database. */
export function importedAuditValues(target: AuditTarget, record: AuditRecord): unknown[] {
  return [
    Date.parse(record.at),
    target.tenant,
    target.cubeKey,
    target.cubeName,
    record.itemId,
    record.operation,
    record.actor,
    record.versionBefore,
    record.versionAfter,
    JSON.stringify(record.details),
  ];
}
