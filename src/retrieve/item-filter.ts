import type { MemoryItem } from '../core/types.js';
import type { StoreItemFilter } from '../store/store.js';

const eventTime = (item: MemoryItem): number => Date.parse(item.validFrom ?? item.createdAt);

/**
 * Whether an item passes a search filter, with the store's semantics: status defaults to active,
 * every listed tag must be present, and `from` / `to` bound the event time (else record time).
 * For items the store returned by position rather than by the filter (a hit's neighbours).
 */
export function matchesFilter(item: MemoryItem, filter: StoreItemFilter): boolean {
  const within = <T>(allowed: readonly T[] | undefined, value: T) => !allowed || allowed.includes(value);
  const time = eventTime(item);
  return (
    within(filter.statuses ?? ['active'], item.status) &&
    within(filter.kinds, item.kind) &&
    (!filter.sessionIds || (item.sessionId !== null && filter.sessionIds.includes(item.sessionId))) &&
    (!filter.speakers || (item.speaker !== null && filter.speakers.includes(item.speaker))) &&
    (!filter.roles || (item.role !== null && filter.roles.includes(item.role))) &&
    (filter.userId === undefined || item.userId === filter.userId) &&
    (filter.agentId === undefined || item.agentId === filter.agentId) &&
    (filter.runId === undefined || item.runId === filter.runId) &&
    (filter.tags ?? []).every((tag) => item.tags.includes(tag)) &&
    (filter.from === undefined || time >= filter.from) &&
    (filter.to === undefined || time < filter.to)
  );
}
