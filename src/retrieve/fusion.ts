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
    .sort((a, b) => b.score - a.score || a.bestRank - b.bestRank || a.id.localeCompare(b.id))
    .map(({ bestRank: _bestRank, ...hit }) => hit);
}
