import type { IngestConfig } from '../core/config.js';
import { NotFoundError, SessionChangedError } from '../core/errors.js';
import { MEMORY_STATUSES } from '../core/types.js';
import { type SessionTurn, sessionContextKeys } from '../ingest/derive/context-keys.js';
import { hasContextKey } from '../ingest/derive/derive-keys.js';
import type { CubeScope, ItemBundle, Store } from '../store/store.js';
import { whileSessionChanges } from './session-writes.js';

/** Turns read at a time. */
const PAGE = 1_000;

/** Every turn of a session, whatever its status. */
async function sessionTurns(store: Store, scope: CubeScope, sessionId: string): Promise<SessionTurn[]> {
  const turns: SessionTurn[] = [];
  const filter = { sessionIds: [sessionId], statuses: [...MEMORY_STATUSES] };
  let cursor: string | undefined;
  do {
    const page = await store.listItems(scope, filter, {
      limit: PAGE,
      order: 'asc',
      ...(cursor ? { cursor } : {}),
    });
    for (const item of page.items) {
      if (item.turnIndex !== null) turns.push({ ...item, turnIndex: item.turnIndex });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return turns;
}

/**
 * Derives again the context keys of the sessions an older memcube may have keyed otherwise
 * (listed by the schema upgrade: deletes that left the deleted turns' words, turns keyed by their
 * own party's), and strikes each off the list. A
 * session that another process keeps changing stays listed for the next open; so do all of them
 * under a config without context keys (an ablation would blank them for good). Returns how many
 * sessions were repaired.
 */
export async function repairContextKeys(store: Store, config: IngestConfig): Promise<number> {
  if (!hasContextKey(config)) return 0;
  let repaired = 0;
  for (const { scope, sessionId } of await store.contextKeyRepairs()) {
    try {
      await whileSessionChanges(async () => {
        const derivedFrom = await store.sessionStamp(scope, sessionId, 0);
        const turns = await sessionTurns(store, scope, sessionId);
        await store.repairContextKeys(scope, { updates: sessionContextKeys(turns, config), derivedFrom });
      });
      repaired++;
    } catch (err) {
      // A cube deleted meanwhile takes its listed sessions with it.
      if (!(err instanceof SessionChangedError) && !(err instanceof NotFoundError)) throw err;
    }
  }
  return repaired;
}

/**
 * An export written before format 2 carries the context keys of the memcube that wrote it: keys
 * holding a deleted turn's words, or a party's own turns. Each session's keys are derived again
 * from the export's own turns (all of them, whatever their status), under `config`; under a
 * config without context keys, the keys stay as exported, as the repair on open leaves them.
 */
export function bundlesKeyedAgain(bundles: readonly ItemBundle[], config: IngestConfig): ItemBundle[] {
  if (!hasContextKey(config)) return [...bundles];
  const sessions = new Map<string, SessionTurn[]>();
  for (const { item } of bundles) {
    if (item.sessionId === null || item.turnIndex === null) continue;
    const turns = sessions.get(item.sessionId) ?? [];
    turns.push({ ...item, turnIndex: item.turnIndex });
    sessions.set(item.sessionId, turns);
  }
  const keys = new Map<string, string | null>();
  for (const turns of sessions.values()) {
    for (const { id, context } of sessionContextKeys(turns, config)) keys.set(id, context);
  }
  return bundles.map((bundle) => {
    const context = keys.get(bundle.item.id);
    if (context === undefined) return bundle;
    return {
      ...bundle,
      item: { ...bundle.item, derived: { ...bundle.item.derived, context } },
      index: { ...bundle.index, context: context ?? '' },
    };
  });
}
