import type { RetrievalConfig } from '../core/config.js';
import { InvalidInputError } from '../core/errors.js';
import type { ChannelName, ItemFilter, SearchHit } from '../core/types.js';
import type { Embedder } from '../embed/embedder.js';
import type { CubeScope, Store, StoreItemFilter } from '../store/store.js';
import { type ChannelResult, fuseReciprocalRank } from './fusion.js';
import { lexicalTerms } from './query-terms.js';

export interface SearchContext {
  store: Store;
  scope: CubeScope;
  /** Null when the cube has no vectors (embedder `none`). */
  embedder: Embedder | null;
  retrieval: RetrievalConfig;
}

export interface RankRequest {
  query: string;
  filter: StoreItemFilter;
  limit: number;
  channels?: ChannelName[];
}

/** Parsed filter (instants as epoch ms) → the store's filter type; absent fields stay absent. */
export function toStoreFilter(
  filter: Omit<ItemFilter, 'from' | 'to'> & { from?: number; to?: number },
): StoreItemFilter {
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as StoreItemFilter;
}

function chooseChannels(ctx: SearchContext, requested: ChannelName[] | undefined): ChannelName[] {
  const available: ChannelName[] = ctx.embedder ? ['lexical', 'vector'] : ['lexical'];
  if (!requested) return available;
  for (const channel of requested) {
    if (!available.includes(channel)) {
      throw new InvalidInputError(
        `channels: cube '${ctx.scope.cube}' has no vectors (embedder none), so channel '${channel}' is unavailable; use ["lexical"]`,
        'channels',
      );
    }
  }
  return [...new Set(requested)];
}

/** Runs the chosen channels in parallel, fuses them by reciprocal rank and loads the top items. */
export async function rankItems(ctx: SearchContext, request: RankRequest): Promise<SearchHit[]> {
  const query = request.query.trim();
  if (query === '') throw new InvalidInputError('query: empty; give the text to search for', 'query');
  const channels = chooseChannels(ctx, request.channels);
  const depth = Math.max(request.limit, ctx.retrieval.channelDepth);
  const weights = ctx.retrieval.channelWeights;

  const runs = channels.map(async (channel): Promise<ChannelResult> => {
    if (channel === 'lexical') {
      const hits = await ctx.store.searchLexical(ctx.scope, lexicalTerms(query), request.filter, depth);
      return { channel, weight: weights.lexical, hits };
    }
    const [vector] = await (ctx.embedder as Embedder).embed([query]);
    const hits = vector ? await ctx.store.searchVector(ctx.scope, vector, request.filter, depth) : [];
    return { channel, weight: weights.vector, hits };
  });
  const fused = fuseReciprocalRank(await Promise.all(runs), ctx.retrieval.rrfK).slice(0, request.limit);
  const items = await ctx.store.getItems(
    ctx.scope,
    fused.map((h) => h.id),
  );
  const byId = new Map(items.map((item) => [item.id, item]));
  return fused.flatMap((hit) => {
    const item = byId.get(hit.id);
    return item ? [{ item, score: hit.score, channels: hit.channels }] : [];
  });
}
