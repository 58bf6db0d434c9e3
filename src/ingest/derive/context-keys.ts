import { type IngestConfig, MAX_CONTEXT_TURNS } from '../../core/config.js';
import type { ContextKeyUpdate } from '../../store/store.js';
import { contextOf, type TurnText } from './derive-keys.js';

/** A turn of a session as the context key reads it. */
export interface SessionTurn extends TurnText {
  id: string;
  status: string;
  turnIndex: number;
  derived: { context: string | null };
}

/**
 * The context keys that a change to one turn moves. A turn's key holds the text of the active
 * turns before it (`contextOf`, as `add` derives it), so when `changed` is deleted, restored or
 * edited, the turns after it whose key may reach it get theirs again, from the current config:
 * up to and including the `MAX_CONTEXT_TURNS`-th active turn after it, since a key made under
 * another `contextTurns` (a config since changed, an import) may reach that far. With
 * `withSelf`, `changed`'s own key too (a restored turn is keyed by the turns now active before
 * it). `session` holds the turns around `changed`
 * (any status, in any order); `changed` is given as it is after the change. Only keys that differ
 * are returned.
 */
export function contextKeysAround(
  changed: SessionTurn,
  session: readonly SessionTurn[],
  config: IngestConfig,
  withSelf: boolean,
): ContextKeyUpdate[] {
  const turns = [...session.filter((t) => t.id !== changed.id), changed].sort(
    (a, b) => a.turnIndex - b.turnIndex,
  );
  const at = turns.indexOf(changed);
  const targets: SessionTurn[] = withSelf ? [changed] : [];
  let activePassed = 0;
  for (const turn of turns.slice(at + 1)) {
    if (activePassed >= MAX_CONTEXT_TURNS) break;
    targets.push(turn);
    if (turn.status === 'active') activePassed++;
  }
  const updates: ContextKeyUpdate[] = [];
  for (const target of targets) {
    const before = turns.filter((t) => t.turnIndex < target.turnIndex && t.status === 'active');
    const context = contextOf(target, before, config);
    if (context !== target.derived.context) updates.push({ id: target.id, context });
  }
  return updates;
}

/**
 * The context key of every turn of a whole session (`session`: all its turns, any status, in any
 * order) from the active turns before it, under the current config; only the keys that differ
 * from the stored ones are returned.
 */
export function sessionContextKeys(
  session: readonly SessionTurn[],
  config: IngestConfig,
): ContextKeyUpdate[] {
  const updates: ContextKeyUpdate[] = [];
  const active: SessionTurn[] = [];
  for (const turn of [...session].sort((a, b) => a.turnIndex - b.turnIndex)) {
    const context = contextOf(turn, active, config);
    if (context !== turn.derived.context) updates.push({ id: turn.id, context });
    if (turn.status === 'active') active.push(turn);
  }
  return updates;
}

/**
 * Whether `session`, read over turn indexes `from` to `to`, holds all that `contextKeysAround`
 * needs: `MAX_CONTEXT_TURNS` active turns after `changed`, `contextTurns` before it, or the
 * session's ends (a read reaching past an end finds no turn there).
 */
export function readsEnough(
  changed: { turnIndex: number },
  session: readonly SessionTurn[],
  window: { from: number; to: number },
  config: IngestConfig,
): boolean {
  const active = session.filter((t) => t.status === 'active');
  const after = active.filter((t) => t.turnIndex > changed.turnIndex).length;
  const before = active.filter((t) => t.turnIndex < changed.turnIndex).length;
  const atEnd = !session.some((t) => t.turnIndex === window.to);
  const atStart = window.from === 0 || !session.some((t) => t.turnIndex === window.from);
  return (after >= MAX_CONTEXT_TURNS || atEnd) && (before >= config.contextTurns || atStart);
}
