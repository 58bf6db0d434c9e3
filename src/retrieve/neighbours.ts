import type { SearchHit } from '../core/types.js';
import type { CubeScope, Store, StoreItemFilter, TurnRef } from '../store/store.js';
import type { PackCandidate } from './context.js';

/** About the length of a chat turn, in characters: neighbours up to this long are offered at full share. */
export const TYPICAL_TURN_CHARS = 200;

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
 * for the same reason. Neighbours must pass the search's filter, like the hits.
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
  const offered = new Map<string, { ref: TurnRef; score: number }>();
  for (const hit of hits) {
    if (hit.item.content.length > maxHitChars) continue;
    const { sessionId, turnIndex } = hit.item;
    if (sessionId === null || turnIndex === null) continue;
    for (let d = 1; d <= radius; d++) {
      for (const t of [turnIndex - d, turnIndex + d]) {
        if (t < 0) continue;
        const key = `${sessionId}\u0000${t}`;
        const score = hit.score * share ** d;
        if ((offered.get(key)?.score ?? -1) < score)
          offered.set(key, { ref: { sessionId, turnIndex: t }, score });
      }
    }
  }
  const entries = [...offered.values()];
  const turns = await store.getTurns(
    scope,
    entries.map((e) => e.ref),
    filter,
  );
  const scoreAt = new Map(entries.map((e) => [`${e.ref.sessionId}\u0000${e.ref.turnIndex}`, e.score]));
  for (const item of turns) {
    const length = Math.min(1, TYPICAL_TURN_CHARS / Math.max(item.content.length, 1));
    const score = (scoreAt.get(`${item.sessionId}\u0000${item.turnIndex}`) ?? 0) * length;
    if ((best.get(item.id)?.score ?? -1) < score) best.set(item.id, { item, score });
  }
  return [...best.values()];
}
