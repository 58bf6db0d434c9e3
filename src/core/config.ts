import fs from 'node:fs';
import path from 'node:path';
import envPaths from 'env-paths';
import { z } from 'zod';
import { MemcubeError } from './errors.js';
import { parseWith } from './validate.js';

export const openAICompatibleEmbedderSchema = z.strictObject({
  provider: z.literal('openai-compatible'),
  /** Base URL up to and including the API version, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`. */
  baseURL: z.url(),
  model: z.string().min(1),
  apiKey: z.string().optional(),
  /** Output dimension; discovered from the first response when not given. */
  dimensions: z.number().int().min(1).max(16_384).optional(),
  batchSize: z.number().int().min(1).max(2048).default(64),
  maxRetries: z.number().int().min(0).max(10).default(3),
  timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
});
export type OpenAICompatibleEmbedderConfig = z.output<typeof openAICompatibleEmbedderSchema>;

export const embedderConfigSchema = z.union([
  z.enum(['local', 'none']),
  // Discriminated, so an error names the bad field of the chosen provider rather than "invalid input".
  z.discriminatedUnion('provider', [
    z.strictObject({ provider: z.literal('local'), batchSize: z.number().int().min(1).max(512).default(32) }),
    z.strictObject({ provider: z.literal('none') }),
    openAICompatibleEmbedderSchema,
  ]),
]);
export type EmbedderConfig = z.input<typeof embedderConfigSchema>;

/** The most turns a context key may hold; a key made under any setting reaches no further back. */
export const MAX_CONTEXT_TURNS = 10;

export const ingestConfigSchema = z.strictObject({
  /** Index each turn with the turns before it in its session (an answer with its question). */
  contextKey: z.boolean().default(true),
  /** How many preceding turns of its session the context key may hold, nearest first. */
  contextTurns: z.number().int().min(1).max(MAX_CONTEXT_TURNS).default(3),
  /**
   * The context key's length in characters, over all its turns: chat turns are short, so the
   * turns before an answer fit (its question is often two turns back); a long turn fills it alone.
   */
  contextChars: z.number().int().min(0).max(100_000).default(400),
  /**
   * Index the dates a turn refers to as searchable keys ("yesterday" → 2023-05-07, May 2023, Sunday).
   * The dates are always resolved and kept on the item; indexing them measured neutral on LoCoMo and
   * 3 points worse on LongMemEval turn recall, so it is off by default.
   */
  dateKeys: z.boolean().default(false),
  /** Index the named entities of a turn. */
  entityKeys: z.boolean().default(true),
  /** Index a turn's hyphenated words written as one ("de-stress" → destress), as a question may write them. */
  compoundKeys: z.boolean().default(true),
});
export type IngestConfig = z.output<typeof ingestConfigSchema>;
export const DEFAULT_INGEST_CONFIG: IngestConfig = ingestConfigSchema.parse({});

export const retrievalConfigSchema = z.strictObject({
  /**
   * How channels are combined: reciprocal rank (`rrf`) or max-normalised scores (`score`). Score
   * fusion is better on LoCoMo with a down-weighted vector channel, rank fusion with equal weights
   * far better on LongMemEval, where the offline encoder is strong; rank fusion is the default.
   * `adaptive` chooses per query: score fusion when the vector ranking is flat (its decisiveness
   * below `vectorConfidenceGap`), rank fusion when it is decisive.
   */
  fusion: z.enum(['rrf', 'score', 'adaptive']).default('rrf'),
  /**
   * Reciprocal-rank-fusion constant: larger flattens the contribution of top ranks. 30, not the
   * usual 60: a channel's first hits count for more (LoCoMo MRR +0.02, any@5 +9 questions net,
   * all@budget2000 +2 net; LongMemEval turn_all@budget2000 +4, turn_all@10 −2; docs/benchmarks.md).
   */
  rrfK: z.number().min(1).max(1000).default(30),
  /**
   * Per-channel multiplier applied to each channel's RRF contribution; 0 switches a channel off.
   * `speaker` (off by default) ranks, by vector, only the turns of a speaker the query names; it
   * lifts LoCoMo's any@10 and MRR but costs about a point of all@budget2000 (docs/benchmarks.md).
   * `proximity` is the share of a best hit's score that each turn near it in its session receives,
   * per turn of distance (see `proximityRadius`). `related` searches the cube's words nearest in
   * meaning to the query's (see `relatedPerTerm`).
   */
  channelWeights: z
    .strictObject({
      lexical: z.number().min(0).default(1),
      vector: z.number().min(0).default(1),
      temporal: z.number().min(0).default(1),
      related: z.number().min(0).default(0.25),
      expansion: z.number().min(0).default(0.5),
      speaker: z.number().min(0).default(0),
      proximity: z.number().min(0).max(1).default(0.2),
    })
    .default({
      lexical: 1,
      vector: 1,
      temporal: 1,
      related: 0.25,
      expansion: 0.5,
      speaker: 0,
      proximity: 0.2,
    }),
  /** BM25 weights of the index columns: the turn itself, the turn it answers, derived keys. */
  lexicalWeights: z
    .strictObject({
      text: z.number().min(0).default(1),
      context: z.number().min(0).default(0.5),
      keys: z.number().min(0).default(0.5),
    })
    .default({ text: 1, context: 0.5, keys: 0.5 }),
  /** How many candidates each channel contributes before fusion. */
  channelDepth: z.number().int().min(10).max(2000).default(100),
  /** Turns on each side of a packed hit that `context()` adds when they fit; 0 = off. */
  neighbourRadius: z.number().int().min(0).max(5).default(2),
  /** A neighbour competes for the budget with this share of its hit's score (per turn of distance). */
  neighbourShare: z.number().min(0).max(1).default(0.8),
  /**
   * Only hits up to this many characters bring their neighbours: a short reply needs the turns
   * around it to make sense, a long turn stands on its own and its neighbours would spend the
   * budget that distinct hits need.
   */
  neighbourMaxHitChars: z.number().int().min(0).max(1_000_000).default(200),
  /**
   * Query-adaptive vector weight: the vector channel's weight is scaled by how decisive its ranking
   * is for this query, the relative gap (best − 10th best) / best of its cosines, divided by this
   * reference and capped at 1. The offline encoder ranks short chat turns almost flat (LoCoMo,
   * median gap 0.16) and topical questions decisively (LongMemEval, 0.24); 0 = fixed weight.
   */
  vectorConfidenceGap: z.number().min(0).max(1).default(0.2),
  /**
   * Turns of the sessions that gather the most evidence rank higher: each hit's score is multiplied
   * by 1 + sessionBoost × (its session's strength / the strongest session's), where a session's
   * strength is the sum of its three best fused scores among the top 100. 0 = off.
   */
  sessionBoost: z.number().min(0).max(10).default(0.2),
  /**
   * Session topics: in a chat with an assistant a session keeps to one need, so its user turns'
   * likeness to the question in meaning says how much the session is about it. Each hit's score
   * is multiplied by 1 + sessionTopicBoost × its session's topic score: the best cosine of the
   * session's user turns among the vector channel's hits, min-max normalised over the sessions
   * found there (1 for the best, 0 for the least and for a session with none found). Only the
   * user's turns without a speaker count (role `user`): a conversation between named people
   * wanders over many topics in one session. Rescales the 100 best hits (or the search's limit),
   * and nothing when fewer than two such sessions differ. Needs the vector channel (LongMemEval
   * session_all@5 +2 questions, turn_all@10 −3; LoCoMo, whose turns have speakers, unchanged).
   * 0 = off.
   */
  sessionTopicBoost: z.number().min(0).max(10).default(0.5),
  /**
   * Subject focus: a question about a person is answered by what that person said. When the query
   * names exactly one speaker of the best hits ("What did Melanie paint?"), the turns other speakers
   * said score × this factor (LoCoMo dev: 96% of the evidence of such questions is the named
   * speaker's; the other speaker, who names them while talking to them, had 43% of the top 5
   * hits). When it names none and asks in the first person, addressed to no one ("What did I
   * buy?"), the turns of roles other than the user's score × this factor. 1 = off.
   */
  speakerFocus: z.number().min(0).max(1).default(0.7),
  /**
   * In a chat between people, a turn that ends by asking ("How'd the kids like it?") asks the other
   * for their news and resembles the question a memory is searched with more than it answers it:
   * such turns (with a speaker; a user's question to an assistant carries the user's facts) score
   * × this factor (LoCoMo dev: 13% of them are evidence, against 29% of the other turns). 1 = off.
   */
  askingTurnFactor: z.number().min(0).max(1).default(0.8),
  /**
   * A memory no longer true by the time the question is about (its `validTo` set by an update, at
   * or before when the question is asked, or before the time it names) scores × this factor, so the
   * fact that replaced it ranks first; it stays findable. Not fitted: no benchmark sets an end.
   * 1 = off.
   */
  endedFactor: z.number().min(0).max(1).default(0.5),
  /**
   * The word channels search without the speakers' names the query gives. Every turn is indexed
   * with its speaker's name and the turns before it, so a name matches most of a conversation, and
   * most of all the turns said to that person ("Thanks, Melanie!"); who said what is the subject
   * focus's to read, from the turns' speakers. When the query writes (capitalised) the name of a
   * speaker of the best hits, the lexical and temporal channels, asked for or by default, run again
   * with its other words, and the expansion round then starts from those (a search without either
   * channel keeps every word). A query of names alone keeps
   * them. `false` = names are search words like any other.
   */
  dropSpeakerNames: z.boolean().default(true),
  /**
   * The hits of each lexical search (the lexical, related and expansion channels, the temporal
   * channel's word hits, and the speaker channel without vectors) that score under this fraction
   * of its best hit are left out before fusion. Such hits match little but words that most memories
   * hold (a speaker's name is indexed with each turn, and the expansion round searches the names
   * its seeds mention): SQLite's BM25 clamps the weight of a word in over half the rows to 10⁻⁶, and
   * PostgreSQL's IDF nears 0 for a word in nearly every row, yet reciprocal-rank fusion would rank
   * them by position alone (LoCoMo all@budget2000 +2 questions; any fraction from 0.001 to 0.05
   * gives the same). 0 = keep all.
   */
  lexicalScoreFloor: z.number().min(0).max(1).default(0.01),
  /**
   * The vector channel's hits whose cosine is under this fraction of its best are left out before
   * fusion. Rank fusion counts a hit by its place alone, so in a small cube the vector channel's
   * last hit, one that shares little meaning with the question, votes as much as its first (a
   * three-turn cube ranked a bakery tip, cosine 0.13, above "I moved to Berlin", 0.45, for "where
   * does Alice live?"). 0 = keep all.
   */
  vectorScoreFloor: z.number().min(0).max(1).default(0.3),
  /**
   * `context()` packs a line longer than `packTypicalTokens` at its score × (typical / tokens) to
   * this power: one long turn (LongMemEval has 2,000-token turns) would spend the budget that several
   * distinct evidence turns need. 0 = pack by score alone.
   */
  packLengthExponent: z.number().min(0).max(4).default(0.5),
  /** Lines up to this many tokens, chat turns with their prefix and id, are packed at full score. */
  packTypicalTokens: z.number().int().min(1).max(100_000).default(100),
  /**
   * `context()` prints a line's `[HH:MM]` (6 tokens) only when it differs from the line above under
   * the same heading: turns of one conversation often share a minute, and the saved tokens pack
   * more evidence (LoCoMo all@budget2000 +0.5 points, LongMemEval turn_all@budget2000 +1 question).
   * `false` prints it on every line.
   */
  contextTimesWhenChanged: z.boolean().default(true),
  /**
   * The temporal channel ranks the items of the window the query names by its words, then the
   * window's other items by vector: a question about "10 days ago" often shares no word with
   * what was said that day (LongMemEval turn_all@budget2000 +1 question, LoCoMo unchanged).
   * `false` ranks the window by words alone. `statedDates` then puts first the turns that say a
   * date inside the window.
   */
  temporalVector: z.boolean().default(true),
  /**
   * While the temporal channel runs, the words of a time the query counts from when it is asked
   * ("10 days ago", "last week") are not searched as words by any channel: in a memory the same
   * words count from when it was said, and they match every turn that says "days" or "week"
   * (LongMemEval session_all@5 +1 / −1, turn_all@10 +2 / −0; LoCoMo any@5 −3, whose questions
   * reuse the evidence's own phrase). A time written with a month's name or a year keeps its
   * words. Only that span of the query is left out. `false` searches them too.
   */
  dropTimeWords: z.boolean().default(true),
  /**
   * The temporal channel ranks first the turns that say a date inside the query's window ("I got a
   * smoker today", "last month I cleaned my sneakers", read from `item.derived.dates`), those said
   * in the window before those said later; then the window's other turns (LoCoMo any@5 +4 / −0,
   * MRR +15 / −1; LongMemEval turn_all@10 and session_all@10 +1). `false` ranks the turns said in
   * the window alone.
   */
  statedDates: z.boolean().default(true),
  /** Second round seeded by the entities of the first round's best hits, for multi-hop; 0 = off. */
  expansionSeeds: z.number().int().min(0).max(50).default(5),
  /**
   * Turn proximity: each of the best `proximitySeeds` hits that is a short turn (up to
   * `neighbourMaxHitChars`) lends `channelWeights.proximity`^d of its score to the turns within
   * `proximityRadius` of it in its session, so an answer a few turns from the turn that matches
   * the question's words ranks with it (LoCoMo any@10 +2 points, any@20 +3; LongMemEval one question
   * each way, docs/benchmarks.md). 0 = off.
   */
  proximityRadius: z.number().int().min(0).max(10).default(3),
  proximitySeeds: z.number().int().min(0).max(100).default(10),
  /**
   * The related-words channel (`channelWeights.related`) searches, for each query word, the
   * cube's words nearest to it in meaning by the embedder ("instruments" → "guitar", "piano"):
   * up to `relatedPerTerm` words with a cosine of at least `relatedMinSimilarity`, from a
   * vocabulary of at most `relatedMaxVocabulary` words (past 1,024 words a Hamming scan shortlists
   * the candidates, so the cost per query word stays near a millisecond).
   */
  relatedPerTerm: z.number().int().min(1).max(50).default(5),
  relatedMinSimilarity: z.number().min(0).max(1).default(0.65),
  relatedMaxVocabulary: z.number().int().min(1).max(200_000).default(20_000),
  /**
   * The related words searched read at most this many rows' postings in all, rarest words first
   * (SQLite's in-process index counts them): a common neighbour in a big cube matches a large
   * share of its rows, costs the most and tells the least. The cubes of LoCoMo and LongMemEval
   * (a few hundred turns each) never reach it.
   */
  relatedMaxPostings: z.number().int().min(0).max(100_000_000).default(20_000),
});
export const DEFAULT_RETRIEVAL_CONFIG: RetrievalConfig = retrievalConfigSchema.parse({});

export const limitsConfigSchema = z.strictObject({
  /** Longest content accepted for one item, in characters. */
  maxContentChars: z.number().int().min(1).max(10_000_000).default(32_000),
  /** Most messages accepted in one `add` call. */
  maxBatch: z.number().int().min(1).max(1_000_000).default(10_000),
});

export const memoryOSConfigSchema = z.strictObject({
  /**
   * SQLite database file, `:memory:`, or a `postgres://` / `postgresql://` URL (PostgreSQL with
   * pgvector). Defaults to `$MEMCUBE_DB` or the user data directory.
   */
  path: z.string().min(1).optional(),
  embedder: embedderConfigSchema.default('local'),
  /** Tenant whose cubes this handle reads and writes. */
  tenant: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'tenant ids use letters, digits, ".", "_" or "-"')
    .default('default'),
  /** Recorded as the actor of every change made through this handle. */
  actor: z.string().min(1).max(256).default('library'),
  /**
   * `full` fsyncs every commit, so an acknowledged write survives power loss;
   * `normal` survives a process crash but may lose the last commits on power loss.
   */
  durability: z.enum(['full', 'normal']).default('full'),
  /** For a `postgres://` path: connections in this process's pool (a server shares it across requests). */
  postgres: z
    .strictObject({ poolSize: z.number().int().min(1).max(1000).default(10) })
    .default({ poolSize: 10 }),
  limits: limitsConfigSchema.default({ maxContentChars: 32_000, maxBatch: 10_000 }),
  ingest: ingestConfigSchema.default(DEFAULT_INGEST_CONFIG),
  retrieval: retrievalConfigSchema.default(DEFAULT_RETRIEVAL_CONFIG),
});
export type MemoryOSConfig = z.input<typeof memoryOSConfigSchema>;
export type ResolvedConfig = z.output<typeof memoryOSConfigSchema>;
export type RetrievalConfig = z.output<typeof retrievalConfigSchema>;
export type LimitsConfig = z.output<typeof limitsConfigSchema>;

/** `$MEMCUBE_DB`, else `memory.db` in the platform's user data directory. */
export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MEMCUBE_DB) return env.MEMCUBE_DB;
  return path.join(envPaths('memcube', { suffix: '' }).data, 'memory.db');
}

/** What a config file may set: how memcube ingests, retrieves, limits input and syncs to disk. */
export const configFileSchema = memoryOSConfigSchema
  .pick({ ingest: true, retrieval: true, limits: true, durability: true, postgres: true })
  .partial();
export type ConfigFile = z.input<typeof configFileSchema>;

/** Reads a JSON config file such as `{ "retrieval": { "neighbourRadius": 0 } }`, checked field by field, as written. */
export function readConfigFile(file: string): ConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MemcubeError('invalid_config', `config file ${file}: ${(err as Error).message}`, {
      field: 'config',
    });
  }
  const elsewhere = Object.keys(SET_ELSEWHERE).find(
    (key) => typeof json === 'object' && json !== null && Object.hasOwn(json, key),
  );
  if (elsewhere) {
    throw new MemcubeError(
      'invalid_config',
      `invalid config: config.${elsewhere} is not set in a config file: ${SET_ELSEWHERE[elsewhere]}`,
      { field: `config.${elsewhere}` },
    );
  }
  parseWith(configFileSchema, json, { root: 'config', kind: 'config' });
  // As written, checked: `MemoryOS.open` fills in the defaults, and a record of the settings (an
  // eval's results) holds only what the file changed.
  return json as ConfigFile;
}

/** The settings `MemoryOS.open` takes that a config file does not, and where to give them. */
const SET_ELSEWHERE: Record<string, string> = {
  path: 'give the database with --db (or $MEMCUBE_DB)',
  embedder: 'give it with --embedder (or $MEMCUBE_EMBEDDER)',
  tenant: 'give it with --tenant (or $MEMCUBE_TENANT)',
  actor: "the CLI records its own actor (cli: and the user's name); in code, MemoryOS.open({ actor })",
};
