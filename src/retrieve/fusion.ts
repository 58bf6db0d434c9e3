import { byCodeUnits } from '../core/order.js';
import type { ChannelName, ChannelScore } from '../core/types.js';
import type { ScoredId } from '../store/store.js';

export interface ChannelResult {
  channel: ChannelName;
  weight: number;
  hits: ScoredId[];
}

export interface FusedHit {
  id: string;
  score: number;
  channels: Partial<Record<ChannelName, ChannelScore>>;
}

/**
 * Reciprocal-rank fusion (Cormack et al. 2009): each channel adds weight / (k + rank).
 * Ranks, unlike raw BM25 and cosine scores, are comparable across channels.
 * Ties break by the best single-channel rank, then by id, so results are deterministic.
 */
export function fuseReciprocalRank(results: ChannelResult[], k: number): FusedHit[] {
  const fused = new Map<string, FusedHit & { bestRank: number }>();
  for (const { channel, weight, hits } of results) {
    hits.forEach((hit, index) => {
      const rank = index + 1;
      let entry = fused.get(hit.id);
      if (!entry) {
        entry = { id: hit.id, score: 0, channels: {}, bestRank: rank };
        fused.set(hit.id, entry);
      }
      entry.score += weight / (k + rank);
      entry.channels[channel] = { rank, score: hit.score };
      entry.bestRank = Math.min(entry.bestRank, rank);
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.bestRank - b.bestRank || byCodeUnits(a.id, b.id))
    .map(({ bestRank: _bestRank, ...hit }) => hit);
}

/**
 * Score fusion (CombSUM over max-normalised scores): each channel's scores are divided by its
 * best score, weighted, and summed. Unlike ranks, scores keep how far apart hits are, so a
 * weak channel's long tail of near-ties cannot outvote a strong channel's clear winner.
 */
export function fuseScores(results: ChannelResult[]): FusedHit[] {
  const fused = new Map<string, FusedHit>();
  for (const { channel, weight, hits } of results) {
    const top = hits[0]?.score ?? 0;
    hits.forEach((hit, index) => {
      let entry = fused.get(hit.id);
      if (!entry) {
        entry = { id: hit.id, score: 0, channels: {} };
        fused.set(hit.id, entry);
      }
      entry.score += top > 0 ? (weight * Math.max(hit.score, 0)) / top : 0;
      entry.channels[channel] = { rank: index + 1, score: hit.score };
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score || byCodeUnits(a.id, b.id));
}

/** The cut-off whose score a channel's best is compared with, to tell a clear winner from a flat ranking. */
const DECISIVENESS_CUTOFF = 10;

/**
 * How decisive a ranking is: (best − 10th best) / best, in [0, 1] for positive scores; 0 when
 * there is nothing to compare. A flat ranking (many near-ties) is a weak vote.
 */
export function decisiveness(hits: ScoredId[]): number {
  const best = hits[0]?.score ?? 0;
  const kth = hits[Math.min(DECISIVENESS_CUTOFF, hits.length) - 1]?.score ?? best;
  return best > 0 ? Math.max(0, (best - kth) / best) : 0;
}

/**
 * The results with the vector channel's hits under `floor` × its best score left out: far below
 * the best, a hit shares little meaning with the query, yet rank fusion would count its place.
 */
export function withVectorFloor(results: ChannelResult[], floor: number): ChannelResult[] {
  return results.map((r) => (r.channel === 'vector' ? { ...r, hits: aboveFloor(r.hits, floor) } : r));
}

/** The hits scoring at least `fraction` of the best one (hits arrive best first); all for 0. */
export function aboveFloor(hits: ScoredId[], fraction: number): ScoredId[] {
  const best = hits[0]?.score ?? 0;
  return fraction > 0 && best > 0 ? hits.filter((h) => h.score >= fraction * best) : hits;
}

/**
 * Score fusion when the vector channel ranks flat (decisiveness below `flatBelow`), rank fusion
 * otherwise. Ranks turn a flat channel's near-ties into full votes that outvote the lexical
 * channel's clear winners; a decisive vector ranking is worth its ranks. Flatness is read from all
 * its hits, before `vectorFloor` (`withVectorFloor`) leaves some out of the vote.
 */
export function fuseAdaptive(
  results: ChannelResult[],
  k: number,
  flatBelow: number,
  vectorFloor = 0,
): FusedHit[] {
  const vector = results.find((r) => r.channel === 'vector');
  const flat = vector !== undefined && decisiveness(vector.hits) < flatBelow;
  const voting = withVectorFloor(results, vectorFloor);
  return flat ? fuseScores(voting) : fuseReciprocalRank(voting, k);
}
