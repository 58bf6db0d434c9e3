import type { MemoryOSConfig } from '../../src/core/config.js';

/**
 * memcube's channels without derived keys, the entity-seeded second round, the related-words
 * channel, turn proximity, neighbour packing, the adaptive vector weight, the session boosts, the
 * speaker focus, speakers' names left out of the words, the word channels' floor, asking turns
 * lowered, the packing length penalty, context lines without repeated times, the temporal
 * channel's vector ranking and stated dates, or the query's time left out of its words: plain BM25
 * (and vectors) over single turns. Tests of the API's semantics (filters, lifecycle, formats) and
 * of the eval harness use it, so that tuning retrieval does not move what they check.
 */
export const PLAIN_RETRIEVAL: Pick<MemoryOSConfig, 'ingest' | 'retrieval'> = {
  ingest: { contextKey: false, dateKeys: false, entityKeys: false, compoundKeys: false },
  retrieval: {
    channelWeights: { proximity: 0, related: 0 },
    neighbourRadius: 0,
    expansionSeeds: 0,
    vectorConfidenceGap: 0,
    sessionBoost: 0,
    sessionTopicBoost: 0,
    speakerFocus: 1,
    dropSpeakerNames: false,
    lexicalScoreFloor: 0,
    vectorScoreFloor: 0,
    askingTurnFactor: 1,
    packLengthExponent: 0,
    contextTimesWhenChanged: false,
    temporalVector: false,
    dropTimeWords: false,
    statedDates: false,
  },
};
