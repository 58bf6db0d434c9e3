import type { StoreItemFilter } from '../store.js';

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

function inList(column: string, values: readonly unknown[]): SqlFragment {
  return { sql: `${column} IN (${values.map(() => '?').join(', ')})`, params: [...values] };
}

function onlyActive(filter: StoreItemFilter): boolean {
  const statuses = filter.statuses ?? ['active'];
  return statuses.length === 1 && statuses[0] === 'active';
}

/** True when the filter asks for more than "active items of the cube". */
export function isNarrowing(filter: StoreItemFilter): boolean {
  return (
    !onlyActive(filter) ||
    Object.entries(filter).some(([key, value]) => key !== 'statuses' && value !== undefined)
  );
}

/** Whether the filter asks for active items and narrows by none but the given fields. */
function activeWithin(filter: StoreItemFilter, fields: ReadonlySet<string>): boolean {
  return (
    onlyActive(filter) &&
    Object.entries(filter).every(([key, value]) => value === undefined || fields.has(key))
  );
}

const WINDOW_FIELDS: ReadonlySet<string> = new Set(['statuses', 'from', 'to']);
/** What the in-process full-text index applies itself: a time window, roles and kinds. */
const LEXICAL_INDEX_FIELDS: ReadonlySet<string> = new Set([...WINDOW_FIELDS, 'roles', 'kinds']);

/**
 * The filter's time window (or none) when it asks for active items, whatever else it narrows by;
 * null when it asks for other statuses, which the in-process indexes do not hold.
 */
export function activeItemsWindow(filter: StoreItemFilter): { from?: number; to?: number } | null {
  return onlyActive(filter) ? { from: filter.from, to: filter.to } : null;
}

/** The filter's time window when it asks only for active items within one (or no) window; else null. */
export function timeWindowOnly(filter: StoreItemFilter): { from?: number; to?: number } | null {
  return activeWithin(filter, WINDOW_FIELDS) ? activeItemsWindow(filter) : null;
}

/** Whether the in-process full-text index applies the whole filter itself (`LEXICAL_INDEX_FIELDS`). */
export function lexicalIndexApplies(filter: StoreItemFilter): boolean {
  return activeWithin(filter, LEXICAL_INDEX_FIELDS);
}

/**
 * How a tag is matched. Checking rows already in hand (a ranking's best, given by id), each row's
 * own tag list is read: a subquery over the tag index there would list every row of a common tag
 * on each check (seconds at 250K rows). Finding a cube's rows (`findIn`: the cube's key), the tag
 * index (`item_tags`, schema 15) lists a rare tag's few rows instead of the cube being read.
 */
export interface TagMatch {
  findIn?: number;
}

/** WHERE conditions over the `items` table aliased `i`; joined with AND, never empty. */
export function filterToSql(filter: StoreItemFilter, tags: TagMatch = {}): SqlFragment {
  const parts: SqlFragment[] = [inList('i.status', filter.statuses ?? ['active'])];
  if (filter.kinds) parts.push(inList('i.kind', filter.kinds));
  if (filter.sessionIds) parts.push(inList('i.session_id', filter.sessionIds));
  if (filter.speakers) parts.push(inList('i.speaker', filter.speakers));
  if (filter.roles) parts.push(inList('i.role', filter.roles));
  if (filter.userId !== undefined) parts.push({ sql: 'i.user_id = ?', params: [filter.userId] });
  if (filter.agentId !== undefined) parts.push({ sql: 'i.agent_id = ?', params: [filter.agentId] });
  if (filter.runId !== undefined) parts.push({ sql: 'i.run_id = ?', params: [filter.runId] });
  for (const tag of filter.tags ?? []) {
    parts.push(
      tags.findIn === undefined
        ? { sql: 'EXISTS (SELECT 1 FROM json_each(i.tags) WHERE value = ?)', params: [tag] }
        : {
            sql: 'i.item_key IN (SELECT item_key FROM item_tags WHERE cube_key = ? AND tag = ?)',
            params: [tags.findIn, tag],
          },
    );
  }
  if (filter.from !== undefined)
    parts.push({ sql: 'coalesce(i.valid_from, i.created_at) >= ?', params: [filter.from] });
  if (filter.to !== undefined)
    parts.push({ sql: 'coalesce(i.valid_from, i.created_at) < ?', params: [filter.to] });
  return { sql: parts.map((p) => `(${p.sql})`).join(' AND '), params: parts.flatMap((p) => p.params) };
}
