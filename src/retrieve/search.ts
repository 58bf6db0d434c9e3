import type { RetrievalConfig } from '../core/config.js';
import { InvalidInputError } from '../core/errors.js';
import {
  type ChannelName,
  type HitFactors,
  hitFactors,
  type ItemFilter,
  type MemoryItem,
  type SearchHit,
} from '../core/types.js';
import type { Embedder } from '../embed/embedder.js';
import type { CubeScope, LexicalNarrowing, ScoredId, Store, StoreItemFilter } from '../store/store.js';
import { lowerAskingTurns } from './asking.js';
import { lowerEndedFacts, timeAskedAbout } from './ended.js';
import {
  aboveFloor,
  type ChannelResult,
  decisiveness,
  type FusedHit,
  fuseAdaptive,
  fuseReciprocalRank,
  fuseScores,
  withVectorFloor,
} from './fusion.js';
import { ItemLoader } from './item-loader.js';
import { OriginReader } from './origin-reader.js';
import { liftNeighbours } from './proximity.js';
import { lexicalTerms } from './query-terms.js';
import { endOfDay, OPEN_START, parseQueryTime, statedSpan, type TimeWindow } from './query-time.js';
import { relatedWords, type WordVectors, withinPostingBudget } from './related-words.js';
import { boostSessions, boostSessionTopics, SESSION_POOL, sessionTopics } from './sessions.js';
import {
  capitalisedTerms,
  focusOnSubject,
  isNameTerm,
  namedSpeakers,
  nameTerms,
  SUBJECT_POOL,
  speakerNamesIn,
} from './speakers.js';

export interface SearchContext {
  store: Store;
  scope: CubeScope;
  /** Null when the cube has no vectors (embedder `none`). */
  embedder: Embedder | null;
  retrieval: RetrievalConfig;
  /** The cube's words with their vectors, for the related-words channel; null without vectors. */
  vocabulary: WordVectors | null;
}

export interface RankRequest {
  query: string;
  filter: StoreItemFilter;
  limit: number;
  channels?: ChannelName[];
  /** When the question is asked; relative times in the query ("last week") resolve against it. */
  asOf?: number;
}

/** Parsed filter (instants as epoch ms) → the store's filter type; absent fields stay absent. */
export function toStoreFilter(
  filter: Omit<ItemFilter, 'from' | 'to'> & { from?: number; to?: number },
): StoreItemFilter {
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as StoreItemFilter;
}

const CHANNELS: ChannelName[] = [
  'lexical',
  'vector',
  'temporal',
  'related',
  'expansion',
  'speaker',
  'proximity',
];
/** Seeded by the first round's best hits: no seeds, no second round. */
const SECOND_ROUND: ChannelName[] = ['expansion', 'speaker'];
/** Channels that rank by the query's words (the temporal one inside its time window). */
const WORD_CHANNELS: ChannelName[] = ['lexical', 'temporal'];
/** Channels that need the embedder. */
const MEANING_CHANNELS: ChannelName[] = ['vector', 'related'];
/** Run once the query's words are known (less the speakers' names), with the first round. */
const AFTER_WORDS: ChannelName[] = ['related'];
/** Applied to the fused ranking rather than fused into it. */
const AFTER_FUSION: ChannelName[] = ['proximity'];

/** Whether a channel has the seeds and reach it needs to run at all. */
function canRun(channel: ChannelName, retrieval: RetrievalConfig, hasVectors: boolean): boolean {
  if (MEANING_CHANNELS.includes(channel)) return hasVectors;
  if (SECOND_ROUND.includes(channel)) return retrieval.expansionSeeds > 0;
  if (channel === 'proximity') return retrieval.proximitySeeds > 0 && retrieval.proximityRadius > 0;
  return true;
}

/** The channels a search runs by default: weighted above zero, and able to run on this cube. */
export function defaultChannels(retrieval: RetrievalConfig, hasVectors: boolean): ChannelName[] {
  return CHANNELS.filter((c) => retrieval.channelWeights[c] > 0 && canRun(c, retrieval, hasVectors));
}

function chooseChannels(ctx: SearchContext, requested: ChannelName[] | undefined): ChannelName[] {
  if (!requested) return defaultChannels(ctx.retrieval, ctx.embedder !== null);
  for (const channel of requested) {
    if (MEANING_CHANNELS.includes(channel) && !ctx.embedder) {
      throw new InvalidInputError(
        `channels: cube '${ctx.scope.cube}' has no vectors (embedder none), so channel '${channel}' is unavailable; use ["lexical"]`,
        'channels',
      );
    }
  }
  return [...new Set(requested)];
}

/**
 * The filter narrowed to the question's time window; null when the window spans every memory of the
 * cube, which is no constraint: the temporal channel would only count the other channels twice.
 */
async function windowFilter(
  ctx: SearchContext,
  filter: StoreItemFilter,
  window: TimeWindow,
): Promise<StoreItemFilter | null> {
  const span = await ctx.store.eventSpan(ctx.scope);
  if (span && window.from <= span.first && window.to > span.last) return null;
  return within(filter, window.from, window.to);
}

/** Narrows a filter to a time window, keeping any narrower bounds the caller gave. */
function within(filter: StoreItemFilter, from: number, to: number): StoreItemFilter {
  return { ...filter, from: Math.max(filter.from ?? from, from), to: Math.min(filter.to ?? to, to) };
}

/**
 * `first`, then the hits of `then` it lacks, up to `limit`. Their scores (cosines, at most 1) are
 * multiplied by `first`'s last score, so the list stays ordered and `first`'s hits stay ahead.
 */
function appendBelow(first: ScoredId[], then: ScoredId[], limit: number): ScoredId[] {
  const seen = new Set(first.map((h) => h.id));
  const floor = first.at(-1)?.score ?? 1;
  const extra = then.filter((h) => !seen.has(h.id)).map((h) => ({ id: h.id, score: h.score * floor }));
  return [...first, ...extra].slice(0, limit);
}

/**
 * The query's words outside its time expression when that counts from the moment the question is
 * asked ("10 days ago", "last week"): the same words in a memory count from when it was said, so
 * they match turns about other days ("days", "week"). A time written with a month's name or a
 * year ("in May 2023") keeps its words, which mean the same in any turn. The expression's span is
 * cut, not its words, so a word said elsewhere in the query stays. A question that is only its
 * time ("What did I do last week?") searches no words when the window's memories are ranked by
 * meaning (`byMeaning`), which then answer it: its time's words would find other weeks.
 */
function wordsOutsideTime(query: string, window: TimeWindow, terms: string[], byMeaning: boolean): string[] {
  if (!window.relative) return terms;
  const kept = lexicalTerms(
    `${query.slice(0, window.index)} ${query.slice(window.index + window.text.length)}`,
  );
  return kept.length > 0 || byMeaning ? kept : terms;
}

/**
 * The groups one after another, each scaled to score under the last hit before it (its best at
 * 0.99 of that hit's score), so that fusion by score keeps the order as fusion by rank does.
 */
function stacked(groups: ScoredId[][]): ScoredId[] {
  const out: ScoredId[] = [];
  for (const group of groups) {
    const top = group[0]?.score ?? 0;
    const floor = out.at(-1)?.score;
    const scale = floor === undefined || top < floor || top <= 0 ? 1 : (0.99 * floor) / top;
    for (const hit of group) out.push({ id: hit.id, score: hit.score * scale });
  }
  return out;
}

/** Hits said after the question's window, and before it, that the temporal channel reads the dates of. */
const LATER_HITS = 30;

/**
 * The hits that say a date inside the window ("I got a smoker today"): they are about that time.
 * A stated month or year is inside when it overlaps the window, or, with `whole`, when it lies
 * within it: a plan said before ("next month the dentist visit is due") is about the window only
 * if it names no more than the window.
 */
async function statingDateIn(
  items: ItemLoader,
  window: TimeWindow,
  hits: ScoredId[],
  whole = false,
): Promise<Set<string>> {
  const loaded = await items.load(hits.map((h) => h.id));
  const inside = ({ date, span }: MemoryItem['derived']['dates'][number]) => {
    const stated = statedSpan(date, span);
    return whole
      ? stated.from >= window.from && stated.to <= window.to
      : stated.from < window.to && stated.to > window.from;
  };
  return new Set(loaded.filter((item) => item.derived.dates.some(inside)).map((i) => i.id));
}

/** Words of the best hits' entities that the query lacks: the second hop of a multi-hop question. */
function expansionTerms(seeds: MemoryItem[], queryTerms: string[]): string[] {
  const known = new Set(queryTerms);
  const extra = new Set<string>();
  for (const item of seeds) {
    for (const term of lexicalTerms(item.derived.entities.join(' '))) {
      if (!known.has(term)) extra.add(term);
    }
  }
  return [...extra];
}

/**
 * The vector channel's weight multiplier: its ranking's decisiveness against the reference, at
 * most 1. A lone hit (a cube or filter of one item) has nothing to be flat against: it counts in
 * full, rather than scoring 0.
 */
function confidence(hits: ScoredId[], reference: number): number {
  if (hits.length === 1) return 1;
  return reference > 0 ? Math.min(1, decisiveness(hits) / reference) : 1;
}

/**
 * Runs the chosen channels (the word channels again without the speakers' names the query gives,
 * and a second, entity-seeded round for multi-hop questions), fuses them by normalised score or
 * reciprocal rank, lifts the turns near the best short hits, focuses on the question's subject,
 * lowers the turns that end by asking and the facts no longer true, boosts the turns of the
 * strongest sessions and of the sessions whose user turns mean most what the question asks, and
 * loads the top items.
 */
export async function rankItems(ctx: SearchContext, request: RankRequest): Promise<SearchHit[]> {
  const query = request.query.trim();
  if (query === '') throw new InvalidInputError('query: empty; give the text to search for', 'query');
  const channels = chooseChannels(ctx, request.channels);
  const { channelDepth, channelWeights: weights, lexicalWeights } = ctx.retrieval;
  const depth = Math.max(request.limit, channelDepth);
  const askedAt = new Date(request.asOf ?? Date.now()).getTime();
  // The time the question names, for the temporal channel and for what was still true then.
  const named =
    channels.includes('temporal') || ctx.retrieval.endedFactor < 1
      ? parseQueryTime(query, new Date(askedAt))
      : null;
  const asked = channels.includes('temporal') ? named : null;
  const window = asked ? await windowFilter(ctx, request.filter, asked) : null;
  // Every word of the query names speakers and subjects; the words searched leave out its time.
  const terms = lexicalTerms(query);
  // With no words left, the window's memories by meaning answer; without vectors, the words stay.
  const byMeaning = ctx.retrieval.temporalVector && ctx.embedder !== null;
  const searched =
    asked && ctx.retrieval.dropTimeWords ? wordsOutsideTime(query, asked, terms, byMeaning) : terms;
  const items = new ItemLoader(ctx.store, ctx.scope);
  const lexical = async (
    filter: StoreItemFilter,
    words: string[],
    limit = depth,
    narrowing?: LexicalNarrowing,
  ) =>
    aboveFloor(
      await ctx.store.searchLexical(ctx.scope, words, filter, limit, lexicalWeights, narrowing),
      ctx.retrieval.lexicalScoreFloor,
    );

  let queryVector: Promise<Float32Array | undefined> | undefined;
  const embedQuery = () => {
    queryVector ??= (ctx.embedder as Embedder).embed([query]).then((v) => v[0]);
    return queryVector;
  };

  // The window's hits by words, then by meaning below them; the meaning's ranking is found once
  // (the word channels run again without the speakers' names).
  let windowByMeaning: Promise<ScoredId[]> | undefined;
  const temporal = async (words: string[]): Promise<ScoredId[]> => {
    if (!window || !asked) return [];
    let inWindow = await lexical(window, words);
    if (ctx.retrieval.temporalVector && ctx.embedder) {
      windowByMeaning ??= embedQuery().then((v) =>
        v ? ctx.store.searchVector(ctx.scope, v, window, depth) : [],
      );
      inWindow = appendBelow(inWindow, await windowByMeaning, depth);
    }
    if (!ctx.retrieval.statedDates) return inWindow;
    // What was said later about that time ("last month I cleaned my sneakers"), up to the day the
    // question is asked, counts too, and what was said before it of plans for it ("I booked the
    // dentist for next Friday"): their best hits by the words, by the time's own words for a
    // question that is only its time ("What did I do 10 days ago?"), kept only if the dates they
    // state fall in the window. Ranking all of that time by meaning as well, or reading more of
    // its hits, found no more of the benchmarks' evidence, and each hit read is an item loaded
    // (the 1M bench's p99).
    const stated = words.length > 0 ? words : terms;
    const askedDayEnd = endOfDay(askedAt);
    const [later, earlier] = await Promise.all([
      asked.to < askedDayEnd
        ? lexical(within(request.filter, asked.to, askedDayEnd), stated, LATER_HITS)
        : Promise.resolve([]),
      asked.from > OPEN_START
        ? lexical(within(request.filter, OPEN_START, asked.from), stated, LATER_HITS)
        : Promise.resolve([]),
    ]);
    const [stating, planned] = await Promise.all([
      statingDateIn(items, asked, [...inWindow, ...later]),
      statingDateIn(items, asked, earlier, true),
    ]);
    const says = (h: ScoredId) => stating.has(h.id);
    return stacked([
      inWindow.filter(says),
      later.filter(says),
      earlier.filter((h) => planned.has(h.id)),
      inWindow.filter((h) => !says(h)),
    ]).slice(0, depth);
  };
  const wordHits = (channel: ChannelName, words: string[]) =>
    channel === 'temporal' ? temporal(words) : lexical(request.filter, words);

  // The cube's new words are read (with their cached vectors) while the first round runs.
  const vocabulary = channels.includes('related') ? ctx.vocabulary : null;
  const vocabularyRead = vocabulary?.update();
  // Awaited below; until then a failure must not surface as an unhandled rejection.
  vocabularyRead?.catch(() => undefined);
  const first = channels.filter(
    (c) => !SECOND_ROUND.includes(c) && !AFTER_FUSION.includes(c) && !AFTER_WORDS.includes(c),
  );
  // The word channels wait one turn of the event loop when vectors are searched too: a query vector
  // at hand (cached) is then searched first, and the store can rescore its candidates on another
  // core while the words are scored here; a slower embedder still overlaps the words as before.
  const wordsFirst = !first.includes('vector');
  const firstRound = first.map(async (channel): Promise<ChannelResult> => {
    const weight = weights[channel];
    if (channel !== 'vector' && !wordsFirst) await new Promise((resolve) => setImmediate(resolve));
    if (WORD_CHANNELS.includes(channel)) return { channel, weight, hits: await wordHits(channel, searched) };
    const vector = await embedQuery();
    const hits = vector ? await ctx.store.searchVector(ctx.scope, vector, request.filter, depth) : [];
    return { channel, weight: weight * confidence(hits, ctx.retrieval.vectorConfidenceGap), hits };
  });
  const results = await Promise.all(firstRound);
  const { fusion, rrfK, vectorConfidenceGap, vectorScoreFloor } = ctx.retrieval;
  // The vector channel's hits far below its best cast no vote; all of them still set its weight
  // (how decisive it is) and which sessions' user turns are nearest the question (session topics).
  const fuse = (all: ChannelResult[]) =>
    fusion === 'score'
      ? fuseScores(withVectorFloor(all, vectorScoreFloor))
      : fusion === 'adaptive'
        ? fuseAdaptive(all, rrfK, vectorConfidenceGap, vectorScoreFloor)
        : fuseReciprocalRank(withVectorFloor(all, vectorScoreFloor), rrfK);
  let fused = fuse(results);

  const origins = new OriginReader(ctx.store, ctx.scope);
  // The words the word channels search: the query's, less the names it gives the best hits' speakers.
  let words = searched;
  const written = ctx.retrieval.dropSpeakerNames ? capitalisedTerms(query) : [];
  if (written.length > 0 && searched.length > 1 && first.some((c) => WORD_CHANNELS.includes(c))) {
    const pool = await origins.of(fused.slice(0, SUBJECT_POOL).map((h) => h.id));
    const names = speakerNamesIn(written, pool.values());
    const kept = searched.filter((t) => !names.has(t));
    if (kept.length > 0 && kept.length < searched.length) {
      words = kept;
      await Promise.all(
        results.map(async (result, i) => {
          if (WORD_CHANNELS.includes(result.channel)) {
            results[i] = { ...result, hits: await wordHits(result.channel, words) };
          }
        }),
      );
      fused = fuse(results);
    }
  }

  if (vocabulary && ctx.embedder) {
    await vocabularyRead;
    // The speakers' names the query gives are not words to find neighbours of, nor neighbours.
    const related = await withinPostingBudget(
      ctx.store,
      ctx.scope,
      await relatedWords(vocabulary, ctx.embedder, words, terms, {
        perTerm: ctx.retrieval.relatedPerTerm,
        minSimilarity: ctx.retrieval.relatedMinSimilarity,
      }),
      ctx.retrieval.relatedMaxPostings,
    );
    if (related.length > 0) {
      results.push({
        channel: 'related',
        weight: weights.related,
        hits: await lexical(request.filter, related),
      });
      fused = fuse(results);
    }
  }

  // The rows the query's words find alone, the lexical channel has ranked already (the expansion's
  // floor is at least its floor); searched again are the rows holding a seed's word. When the words
  // found nothing, the seeds are the vector channel's guesses, and a round seeded by their names
  // lifts whichever guess names something (a small cube's "allergies" found the Berlin line).
  const alone = results.find((r) => r.channel === 'lexical')?.hits;
  const secondRound = channels.filter(
    (c) => SECOND_ROUND.includes(c) && (c !== 'expansion' || alone?.length !== 0),
  );
  if (secondRound.length > 0 && ctx.retrieval.expansionSeeds > 0) {
    const seeds = await items.load(fused.slice(0, ctx.retrieval.expansionSeeds).map((h) => h.id));
    const extra = expansionTerms(seeds, terms);
    if (secondRound.includes('expansion') && extra.length > 0) {
      const narrowing = alone ? { foundBy: extra, alone } : undefined;
      const hits = await lexical(request.filter, [...words, ...extra], depth, narrowing);
      results.push({ channel: 'expansion', weight: weights.expansion, hits });
    }
    const speakers = namedSpeakers(
      seeds.map((s) => s.speaker),
      terms,
    );
    if (secondRound.includes('speaker') && speakers.length > 0) {
      // Within the named speaker's own turns the name itself tells nothing; rank by the rest.
      const filter = { ...request.filter, speakers: request.filter.speakers ?? speakers };
      const vector = ctx.embedder ? await embedQuery() : undefined;
      const named = nameTerms(speakers);
      const hits = vector
        ? await ctx.store.searchVector(ctx.scope, vector, filter, depth)
        : await lexical(
            filter,
            searched.filter((t) => !isNameTerm(named, t)),
          );
      results.push({ channel: 'speaker', weight: weights.speaker, hits });
    }
    fused = fuse(results);
  }

  if (channels.includes('proximity')) {
    fused = await liftNeighbours(ctx.store, ctx.scope, items, fused, request.filter, {
      seeds: ctx.retrieval.proximitySeeds,
      radius: ctx.retrieval.proximityRadius,
      share: weights.proximity,
      maxSeedChars: ctx.retrieval.neighbourMaxHitChars,
    });
  }

  // The speakers' names, the subject focus and the session boosts read just the sessions and
  // speakers of their pools (the topics', the vector channel's hits; this runs on every agent
  // turn); the asking turns need the text of the pool's turns that have a speaker.
  const { sessionBoost, sessionTopicBoost, speakerFocus, askingTurnFactor, endedFactor } = ctx.retrieval;
  // The vector channel's hits set the sessions' topics; one hit has no other to compare with.
  const vectorHits = results.find((r) => r.channel === 'vector')?.hits ?? [];
  const topicHits = sessionTopicBoost > 0 && vectorHits.length > 1 ? vectorHits : undefined;
  let ranked: Array<FusedHit & HitFactors> = fused;
  if (sessionBoost > 0 || speakerFocus < 1 || askingTurnFactor < 1 || endedFactor < 1 || topicHits) {
    const pool = fused.slice(0, Math.max(request.limit, SESSION_POOL));
    const ids = pool.map((h) => h.id);
    // One read for both pools, which are mostly the same items.
    const poolOrigins = await origins.of(topicHits ? [...ids, ...topicHits.map((h) => h.id)] : ids);
    const focused = focusOnSubject(pool, poolOrigins, query, terms, speakerFocus);
    // Only turns with a speaker can be lowered: a cube of roles alone reads no text here.
    const spoken = askingTurnFactor < 1 ? ids.filter((id) => poolOrigins.get(id)?.speaker) : [];
    const lowered =
      spoken.length > 0
        ? lowerAskingTurns(
            focused,
            new Map((await items.load(spoken)).map((i) => [i.id, i])),
            askingTurnFactor,
          )
        : focused;
    const current = lowerEndedFacts(lowered, poolOrigins, timeAskedAbout(named, askedAt), endedFactor);
    ranked = boostSessions(current, poolOrigins, sessionBoost);
    if (topicHits) {
      ranked = boostSessionTopics(
        ranked,
        poolOrigins,
        sessionTopics(topicHits, poolOrigins),
        sessionTopicBoost,
      );
    }
  }
  const top = ranked.slice(0, request.limit);
  const loaded = new Map((await items.load(top.map((h) => h.id))).map((i) => [i.id, i]));
  return top.flatMap((hit) => {
    const item = loaded.get(hit.id);
    if (!item) return [];
    return [
      {
        item,
        score: hit.score,
        channels: hit.channels,
        ...hitFactors(hit),
      },
    ];
  });
}
