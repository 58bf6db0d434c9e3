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

/**
 * Whether SQL finds the filter's rows through `items_not_active` (schema 17): statuses other than
 * active only, and no session, owner, time, speaker or tag, whose own indexes may find fewer
 * rows. SQLite keeps no statistics here, and would take the status index over them.
 */
export function listsByStatus(filter: StoreItemFilter): boolean {
  const { statuses } = filter;
  return (
    statuses !== undefined &&
    statuses.length > 0 &&
    !statuses.includes('active') &&
    !namesFewerRows(filter) &&
    filter.speakers === undefined &&
    (filter.tags ?? []).length === 0
  );
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

/**
 * A filter asking for active rows and others, as two filters: one of its active rows, which the
 * vector index holds, and one of the rest, which SQL finds through their status index. Null for
 * any other filter.
 */
export function splitActive(
  filter: StoreItemFilter,
): { active: StoreItemFilter; others: StoreItemFilter } | null {
  const statuses = filter.statuses ?? ['active'];
  const others = statuses.filter((status) => status !== 'active');
  if (others.length === 0 || others.length === statuses.length) return null;
  return { active: { ...filter, statuses: ['active'] }, others: { ...filter, statuses: others } };
}

/** What the in-process indexes (full-text and vector) apply themselves: a time window, roles and kinds. */
const INDEX_FIELDS: ReadonlySet<string> = new Set(['statuses', 'from', 'to', 'roles', 'kinds']);

/**
 * The filter's time window (or none) when it asks for active items, whatever else it narrows by;
 * null when it asks for other statuses, which the vector index does not hold.
 */
export function activeItemsWindow(filter: StoreItemFilter): { from?: number; to?: number } | null {
  return onlyActive(filter) ? { from: filter.from, to: filter.to } : null;
}

/** Whether the in-process indexes apply the whole filter themselves (`INDEX_FIELDS`). */
export function indexesApply(filter: StoreItemFilter): boolean {
  return activeWithin(filter, INDEX_FIELDS);
}

/**
 * Whether the word index applies the whole filter itself: as `indexesApply`, of whatever
 * statuses, since it keeps every current row with its status (the vector index holds active
 * rows only).
 */
export function wordIndexApplies(filter: StoreItemFilter): boolean {
  return Object.entries(filter).every(([key, value]) => value === undefined || INDEX_FIELDS.has(key));
}

/**
 * The filter's tag whose rows the tag index (`item_tags`, schema 15) lists, instead of the cube
 * being read for them. Only where a statement finds the cube's rows: one checking rows already in
 * hand (a ranking's best, by id) reads each row's own tag list.
 */
export interface ListedTag {
  cubeKey: number;
  tag: string;
}

/**
 * A tag held by at most this many rows of the cube is rare. SQLite keeps no statistics here, so
 * the store counts (at most this + 1 rows per tag): a page of a common tag's rows is found sooner
 * by reading the cube until the page is full than by building the tag's whole list.
 */
export const RARE_TAG_ROWS = 5_000;

/**
 * Which of the filter's tags to list from the tag index: the first rare one (`rowsOf` counts at
 * most `RARE_TAG_ROWS` + 1), or, when every row the filter keeps is read anyway (`wholeResult`:
 * not one page) and no speaker is named, the first tag, since even a common tag's list is shorter
 * than the cube. None when the filter names rows another index finds in fewer (`namesFewerRows`).
 */
export function tagToList(
  filter: StoreItemFilter,
  rowsOf: (tag: string) => number,
  wholeResult: boolean,
): string | undefined {
  const tags = filter.tags ?? [];
  if (tags.length === 0 || namesFewerRows(filter)) return undefined;
  // A speaker's index may find fewer rows than a common tag's list.
  const anyTag = wholeResult && filter.speakers === undefined;
  return tags.find((tag) => rowsOf(tag) <= RARE_TAG_ROWS) ?? (anyTag ? tags[0] : undefined);
}

/**
 * Whether the filter names rows that an index of their own finds in few (sessions, an owner, a
 * time window): the speaker and tag indexes then stay out of the plan, which SQLite, without
 * statistics, might otherwise build on a speaker who said half the cube.
 */
function namesFewerRows(filter: StoreItemFilter): boolean {
  return (
    filter.sessionIds !== undefined ||
    filter.userId !== undefined ||
    filter.agentId !== undefined ||
    filter.runId !== undefined ||
    filter.from !== undefined ||
    filter.to !== undefined
  );
}

/** WHERE conditions over the `items` table aliased `i`; joined with AND, never empty. */
export function filterToSql(filter: StoreItemFilter, listed?: ListedTag): SqlFragment {
  const parts: SqlFragment[] = [inList('i.status', filter.statuses ?? ['active'])];
  // The partial index of other statuses' rows (schema 17) serves only a statement with its term.
  if (listsByStatus(filter)) parts.push({ sql: "i.status <> 'active'", params: [] });
  if (filter.kinds) parts.push(inList('i.kind', filter.kinds));
  if (filter.sessionIds) parts.push(inList('i.session_id', filter.sessionIds));
  // Unary + keeps the speaker index out of the plan (see `namesFewerRows`).
  if (filter.speakers)
    parts.push(inList(namesFewerRows(filter) ? '+i.speaker' : 'i.speaker', filter.speakers));
  if (filter.roles) parts.push(inList('i.role', filter.roles));
  if (filter.userId !== undefined) parts.push({ sql: 'i.user_id = ?', params: [filter.userId] });
  if (filter.agentId !== undefined) parts.push({ sql: 'i.agent_id = ?', params: [filter.agentId] });
  if (filter.runId !== undefined) parts.push({ sql: 'i.run_id = ?', params: [filter.runId] });
  for (const tag of filter.tags ?? []) {
    parts.push(
      listed?.tag === tag
        ? {
            sql: 'i.item_key IN (SELECT item_key FROM item_tags WHERE cube_key = ? AND tag = ?)',
            params: [listed.cubeKey, tag],
          }
        : { sql: 'EXISTS (SELECT 1 FROM json_each(i.tags) WHERE value = ?)', params: [tag] },
    );
  }
  if (filter.from !== undefined)
    parts.push({ sql: 'coalesce(i.valid_from, i.created_at) >= ?', params: [filter.from] });
  if (filter.to !== undefined)
    parts.push({ sql: 'coalesce(i.valid_from, i.created_at) < ?', params: [filter.to] });
  return { sql: parts.map((p) => `(${p.sql})`).join(' AND '), params: parts.flatMap((p) => p.params) };
}
