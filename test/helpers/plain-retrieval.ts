import type { MemoryOSConfig } from '../../src/core/config.js';

/**
 * memcube's channels without derived keys, the entity-seeded second round or neighbour packing:
 * plain BM25 (and vectors) over single turns. Tests of the API's semantics (filters, lifecycle,
 * formats) and of the eval harness use it, so that tuning retrieval does not move what they check.
 */
export const PLAIN_RETRIEVAL: Pick<MemoryOSConfig, 'ingest' | 'retrieval'> = {
  ingest: { contextKey: false, dateKeys: false, entityKeys: false },
  retrieval: { neighbourRadius: 0, expansionSeeds: 0 },
};
