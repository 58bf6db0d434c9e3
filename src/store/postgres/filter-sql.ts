import type { StoreItemFilter } from '../store.js';
import type { Params } from './sql.js';

/**
 * WHERE conditions over the `items` table aliased `i`, joined with AND, never empty; the same
 * semantics as the SQLite store's filter (statuses default to active, every tag must be present,
 * time bounds on event time falling back to record time, `to` exclusive).
 */
export function filterToSql(filter: StoreItemFilter, p: Params): string {
  const statuses = filter.statuses ?? ['active'];
  const parts = [`i.status = ANY(${p.add(statuses)}::text[])`];
  // The partial index of other statuses' rows (migration 6): the planner proves its predicate
  // from the status list when it plans with the values, as for the store's unnamed statements,
  // but not in a prepared statement's generic plan; its own term serves both.
  if (!statuses.includes('active')) parts.push("i.status <> 'active'");
  if (filter.kinds) parts.push(`i.kind = ANY(${p.add(filter.kinds)}::text[])`);
  if (filter.sessionIds) parts.push(`i.session_id = ANY(${p.add(filter.sessionIds)}::text[])`);
  if (filter.speakers) parts.push(`i.speaker = ANY(${p.add(filter.speakers)}::text[])`);
  if (filter.roles) parts.push(`i.role = ANY(${p.add(filter.roles)}::text[])`);
  if (filter.userId !== undefined) parts.push(`i.user_id = ${p.add(filter.userId)}`);
  if (filter.agentId !== undefined) parts.push(`i.agent_id = ${p.add(filter.agentId)}`);
  if (filter.runId !== undefined) parts.push(`i.run_id = ${p.add(filter.runId)}`);
  if (filter.tags && filter.tags.length > 0)
    parts.push(`i.tags @> ${p.add(JSON.stringify(filter.tags))}::jsonb`);
  if (filter.from !== undefined)
    parts.push(`coalesce(i.valid_from, i.created_at) >= ${p.add(filter.from)}::bigint`);
  if (filter.to !== undefined)
    parts.push(`coalesce(i.valid_from, i.created_at) < ${p.add(filter.to)}::bigint`);
  return parts.map((part) => `(${part})`).join(' AND ');
}
