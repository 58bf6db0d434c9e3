/**
 * Retrieval metrics as pure functions. A ranking is a list of retrieved items, best first, each
 * given as the gold units it stands for (dataset turn ids, or session ids). An item usually
 * stands for one unit; it stands for several when memcube stored identical turns once, and for
 * none when it matches nothing in the dataset.
 */
export type Ranking = ReadonlyArray<ReadonlyArray<string>>;

function isHit(units: ReadonlyArray<string>, relevant: ReadonlySet<string>): boolean {
  return units.some((u) => relevant.has(u));
}

/** 1 when at least one relevant unit is among the first k items, else 0. */
export function anyAtK(ranking: Ranking, relevant: ReadonlySet<string>, k: number): number {
  return ranking.slice(0, k).some((units) => isHit(units, relevant)) ? 1 : 0;
}

/** 1 when every relevant unit is among the first k items (k = Infinity: anywhere in the list), else 0. */
export function allAtK(ranking: Ranking, relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  const covered = new Set(ranking.slice(0, k).flat());
  for (const unit of relevant) if (!covered.has(unit)) return 0;
  return 1;
}

/**
 * nDCG@k with binary relevance: DCG = Σ rel_i / log2(i + 1) over ranks i = 1..k, where rel_i is 1
 * when the item at rank i stands for a relevant unit. The ideal ranking puts
 * min(idealHits, k) relevant items first; `idealHits` is how many distinct items of the corpus
 * are relevant, which equals the number of relevant units unless some were stored as one item.
 */
export function ndcgAtK(
  ranking: Ranking,
  relevant: ReadonlySet<string>,
  k: number,
  idealHits = relevant.size,
): number {
  const ideal = Math.min(idealHits, k);
  if (ideal === 0) return 0;
  let dcg = 0;
  ranking.slice(0, k).forEach((units, i) => {
    if (isHit(units, relevant)) dcg += 1 / Math.log2(i + 2);
  });
  let idcg = 0;
  for (let i = 0; i < ideal; i++) idcg += 1 / Math.log2(i + 2);
  return dcg / idcg;
}

/** 1 / rank of the first item that stands for a relevant unit, within the first `depth` items; 0 if none. */
export function reciprocalRank(ranking: Ranking, relevant: ReadonlySet<string>, depth = Infinity): number {
  const index = ranking.slice(0, depth).findIndex((units) => isHit(units, relevant));
  return index < 0 ? 0 : 1 / (index + 1);
}

/**
 * Re-ranks at a coarser level: each item's units in order, each unit kept at its first
 * appearance. Turns mapped to their sessions give the session ranking.
 */
export function distinctUnits(ranking: Ranking): string[][] {
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const units of ranking) {
    for (const unit of units) {
      if (seen.has(unit)) continue;
      seen.add(unit);
      out.push([unit]);
    }
  }
  return out;
}
