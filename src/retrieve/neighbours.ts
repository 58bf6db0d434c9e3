import { partyOf } from '../core/turn-parties.js';
import type { MemoryItem, SearchHit } from '../core/types.js';
import type { CubeScope, Store, StoreItemFilter, TurnRef } from '../store/store.js';
import type { PackCandidate } from './context.js';

/** About the length of a chat turn, in characters: neighbours up to this long are offered at full share. */
export const TYPICAL_TURN_CHARS = 200;

const turnKey = (sessionId: string, turnIndex: number) => `${sessionId}\u0000${turnIndex}`;

/** A memory that is a turn of a session. */
export type SessionTurnItem = MemoryItem & { sessionId: string; turnIndex: number };

export function isSessionTurn(item: MemoryItem): item is SessionTurnItem {
  return item.sessionId !== null && item.turnIndex !== null;
}

/** The turns around some hits: those a filter lets through, and who said each turn there. */
export interface TurnsAround {
  /** The turns that pass the search's filter, by `turnKey`. */
  passing: ReadonlyMap<string, MemoryItem>;
  /** Every active turn, passing or not, and the passing turns of other statuses, by `turnKey`. */
  sayers: ReadonlyMap<string, MemoryItem>;
}

/**
 * Reads the turns within `radius` of each of `centers` on each side: those that pass `filter`,
 * and, when the filter narrows anything, the active turns too, so a filter that keeps one
 * speaker's turns does not hide the other speaker's answers between them (one read more, with a
 * filter only).
 */
export async function readTurnsAround(
  store: Store,
  scope: CubeScope,
  centers: readonly SessionTurnItem[],
  radius: number,
  filter: StoreItemFilter,
): Promise<TurnsAround> {
  const refs = new Map<string, TurnRef>();
  for (const { sessionId, turnIndex: at } of centers) {
    for (let turnIndex = Math.max(0, at - radius); turnIndex <= at + radius; turnIndex++) {
      if (turnIndex !== at) refs.set(turnKey(sessionId, turnIndex), { sessionId, turnIndex });
    }
  }
  const wanted = [...refs.values()];
  const passing = byTurn(await store.getTurns(scope, wanted, filter));
  if (Object.values(filter).every((v) => v === undefined)) return { passing, sayers: passing };
  const sayers = byTurn(await store.getTurns(scope, wanted, {}));
  for (const [key, item] of passing) if (!sayers.has(key)) sayers.set(key, item);
  return { passing, sayers };
}

/**
 * The passing turns around `center` (read by `readTurnsAround`) within
 * `radius` of it that a conversation links it to, each with its distance: on each side, the
 * turns from the first one of another party than `center`'s on. A turn near another of its own
 * party's with no one between is not its question or its answer (a user's notes, added one by
 * one to a session).
 */
export function reachedTurns(
  center: SessionTurnItem,
  around: TurnsAround,
  radius: number,
): Array<{ item: MemoryItem; distance: number }> {
  const party = partyOf(center);
  const reached: Array<{ item: MemoryItem; distance: number }> = [];
  for (const side of [-1, 1]) {
    let answered = false;
    for (let d = 1; d <= radius; d++) {
      const key = turnKey(center.sessionId, center.turnIndex + side * d);
      const sayer = around.sayers.get(key);
      if (sayer) answered ||= partyOf(sayer) !== party;
      const item = around.passing.get(key);
      if (item && answered) reached.push({ item, distance: d });
    }
  }
  return reached;
}

/** `turns` by session and turn index. */
function byTurn(turns: readonly MemoryItem[]): Map<string, MemoryItem> {
  const map = new Map<string, MemoryItem>();
  for (const item of turns) {
    if (isSessionTurn(item)) map.set(turnKey(item.sessionId, item.turnIndex), item);
  }
  return map;
}

export interface NeighbourOptions {
  /** Turns on each side of a hit. */
  radius: number;
  /** A neighbour's share of its hit's score, per turn of distance. */
  share: number;
  /** Only hits up to this many characters bring neighbours. */
  maxHitChars: number;
}

/**
 * The hits plus the turns around them in their sessions, so context can carry the question
 * with its answer. A neighbour is offered at `share^d` of its hit's score (d = distance in
 * turns), scaled down by its length beyond a typical turn: a short reply is cheap context, a
 * long answer would spend the budget that distinct hits need. Only short hits bring neighbours,
 * for the same reason, and only the turns a conversation links to them (`reachedTurns`).
 * Neighbours must pass the search's filter, like the hits.
 */
export async function withNeighbours(
  store: Store,
  scope: CubeScope,
  hits: SearchHit[],
  filter: StoreItemFilter,
  options: NeighbourOptions,
): Promise<PackCandidate[]> {
  const { radius, share, maxHitChars } = options;
  const best = new Map<string, PackCandidate>(hits.map((h) => [h.item.id, { item: h.item, score: h.score }]));
  if (radius === 0 || share === 0) return [...best.values()];
  const centers = hits.flatMap(({ item, score }) =>
    isSessionTurn(item) && item.content.length <= maxHitChars ? [{ item, score }] : [],
  );
  const around = await readTurnsAround(
    store,
    scope,
    centers.map((c) => c.item),
    radius,
    filter,
  );
  for (const { item: hit, score: hitScore } of centers) {
    for (const { item, distance } of reachedTurns(hit, around, radius)) {
      const length = Math.min(1, TYPICAL_TURN_CHARS / Math.max(item.content.length, 1));
      const score = hitScore * share ** distance * length;
      if ((best.get(item.id)?.score ?? -1) < score) best.set(item.id, { item, score });
    }
  }
  return [...best.values()];
}
