import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-expansion-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const PEOPLE = ['Adrianne Lenker', 'Lucy Dacus', 'Phoebe Bridgers', 'Julien Baker'];
const CITIES = ['Lisbon', 'Chicago', 'Toronto', 'Melbourne'];
const TOPICS = ['the new album', 'a tour in Spain', 'songwriting', 'the band', 'a quiet guitar part'];

/**
 * Turns naming a singer in a city (the seeds, whose cities the expansion adds), turns naming a
 * city alone (found by the added words), and turns sharing only the question's words.
 */
function turns(): Array<{ content: string }> {
  return Array.from({ length: 150 }, (_, i) => ({
    content:
      i % 3 === 0
        ? `We talked about ${PEOPLE[i % 4]} in ${CITIES[i % 4]} and ${TOPICS[i % 5]} (note ${i}).`
        : i % 3 === 1
          ? `The festival in ${CITIES[(i + 1) % 4]} had ${TOPICS[i % 5]} (note ${i}).`
          : `Our previous conversation was about ${TOPICS[i % 5]}${i % 2 ? ', as I said' : ''} (note ${i}).`,
  }));
}

/** The expansion channel's ranks and scores, by content, for one question. */
async function expansion(memory: MemoryOS, query: string) {
  const cube = await memory.cube('music');
  const hits = await cube.search(query, { limit: 100, channels: ['lexical', 'expansion'] });
  return hits
    .filter((h) => h.channels.expansion)
    .map((h) => ({ id: h.item.id, rank: h.channels.expansion?.rank, score: h.channels.expansion?.score }))
    .sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
}

describe('the expansion channel', () => {
  it("searches again only the rows holding a seed's entity, and ranks as a search of every row would", async () => {
    const file = path.join(tmp, 'expansion.db');
    const indexed = await MemoryOS.open({ path: file, embedder: 'none', retrieval: { expansionSeeds: 3 } });
    // The same file read through FTS5 alone: no in-process index narrows its searches.
    const ftsStore = SqliteStore.open(file, {
      indexMinItems: Number.POSITIVE_INFINITY,
      smallLexicalBytes: 0,
    });
    const fts = await MemoryOS.open({ store: ftsStore, embedder: 'none', retrieval: { expansionSeeds: 3 } });
    try {
      await (await indexed.createCube('music')).add(turns());
      for (const query of [
        'What did I say about Adrianne Lenker in our previous conversation?',
        'What did Phoebe Bridgers say about the new album?',
      ]) {
        const narrowed = await expansion(indexed, query);
        const everyRow = await expansion(fts, query);
        expect(narrowed.length).toBeGreaterThan(10);
        expect(narrowed.map((h) => h.id)).toEqual(everyRow.map((h) => h.id));
        for (const [i, hit] of narrowed.entries()) expect(hit.score).toBeCloseTo(everyRow[i]?.score ?? 0, 9);
      }
    } finally {
      await indexed.close();
      await fts.close();
      await ftsStore.close();
    }
  });
});
