import { byCodeUnits } from '../core/order.js';
import type { MemoryItem } from '../core/types.js';
import type { CubeScope, Store, StoreItemFilter } from '../store/store.js';
import type { FusedHit } from './fusion.js';
import type { ItemLoader } from './item-loader.js';
import { isSessionTurn, reachedTurns, readTurnsAround, TYPICAL_TURN_CHARS } from './neighbours.js';

export interface ProximityOptions {
  /** How many of the best fused hits lend their score to the turns around them. */
  seeds: number;
  /** Turns on each side of a seed that receive a share. */
  radius: number;
  /** The share of a seed's score a turn receives, per turn of distance. */
  share: number;
  /** Only seeds up to this many characters lend: a long turn is a document of its own. */
  maxSeedChars: number;
}

/** How far below its lender's score a lifted turn stays at most, relatively. */
const LENDER_MARGIN = 1e-9;

/**
 * Turn proximity: in a chat, a question's answer is often a few turns from the turn that best
 * matches its words ("Congrats on winning the tournament!" two turns before "We went out for
 * pizza to celebrate"). Each of the best `seeds` fused hits that is a short turn lends
 * `share^d` of its score to the turns within `radius` of it in its session that the
 * conversation links to it (`reachedTurns`; d = distance in turns), shares adding up; a receiving turn longer than a typical chat turn gets
 * proportionally less. Turns no channel found join the ranking this way, if they pass the
 * search's filter. Each lifted hit reports the lift as its `proximity` channel score.
 */
export async function liftNeighbours(
  store: Store,
  scope: CubeScope,
  items: ItemLoader,
  fused: FusedHit[],
  filter: StoreItemFilter,
  options: ProximityOptions,
): Promise<FusedHit[]> {
  const { seeds, radius, share, maxSeedChars } = options;
  if (seeds === 0 || radius === 0 || share === 0) return fused;
  const seedHits = fused.slice(0, seeds);
  const seedItems = new Map((await items.load(seedHits.map((h) => h.id))).map((i) => [i.id, i]));
  const lenders = seedHits.flatMap((hit) => {
    const seed = seedItems.get(hit.id);
    return seed && isSessionTurn(seed) && seed.content.length <= maxSeedChars ? [{ hit, seed }] : [];
  });
  if (lenders.length === 0) return fused;
  const around = await readTurnsAround(
    store,
    scope,
    lenders.map((l) => l.seed),
    radius,
    filter,
  );
  // The lifted turns are often returned: the search need not read them again.
  items.keep([...around.passing.values()]);
  const lent = new Map<string, { item: MemoryItem; amount: number; lender: number }>();
  for (const { hit, seed } of lenders) {
    for (const { item, distance } of reachedTurns(seed, around, radius)) {
      const entry = lent.get(item.id) ?? { item, amount: 0, lender: 0 };
      entry.amount += hit.score * share ** distance;
      entry.lender = Math.max(entry.lender, hit.score);
      lent.set(item.id, entry);
    }
  }
  if (lent.size === 0) return fused;
  const byId = new Map(fused.map((h) => [h.id, h]));
  const lifts = [...lent.values()]
    .flatMap(({ item, amount, lender }) => {
      const own = byId.get(item.id)?.score ?? 0;
      const offered = amount * Math.min(1, TYPICAL_TURN_CHARS / Math.max(item.content.length, 1));
      // Nearness is weaker evidence than a match: a turn is lifted to just below its best lender
      // at most, so that no later tie-break can put it ahead.
      const score = Math.min(own + offered, lender * (1 - LENDER_MARGIN));
      return score > own ? [{ id: item.id, score, lift: score - own }] : [];
    })
    .sort((a, b) => b.lift - a.lift || byCodeUnits(a.id, b.id));
  lifts.forEach(({ id, score, lift }, index) => {
    const hit = byId.get(id) ?? { id, score: 0, channels: {} };
    byId.set(id, {
      ...hit,
      score,
      channels: { ...hit.channels, proximity: { rank: index + 1, score: lift } },
    });
  });
  // A stable sort: hits the lift leaves tied keep fusion's order.
  return [...byId.values()].sort((a, b) => b.score - a.score);
}
