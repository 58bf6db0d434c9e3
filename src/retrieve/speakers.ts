import type { ItemOrigin } from '../store/store.js';
import { lexicalTerms } from './query-terms.js';

/** Speakers among these whose name the query uses: "What do Melanie's kids like?" → Melanie. */
export function namedSpeakers(speakers: Iterable<string | null>, queryTerms: string[]): string[] {
  const terms = new Set(queryTerms);
  const named = new Set<string>();
  for (const speaker of speakers) {
    if (speaker && !named.has(speaker) && lexicalTerms(speaker).some((t) => terms.has(t))) named.add(speaker);
  }
  return [...named];
}

/** A ranked hit: its item id and score. */
interface Ranked {
  id: string;
  score: number;
}

/**
 * Questions about a person are answered by what that person said: when the query names exactly
 * one of the hits' speakers, and another speaker is among them, the other speakers' turns score
 * × `factor`. In a conversation the other side names that person too ("Congrats, Nate!") without
 * saying anything about them. Hits without a speaker keep their score. Hits must be ordered best
 * first; the result is re-sorted, stably.
 */
export function focusNamedSpeaker<T extends Ranked>(
  hits: T[],
  origins: Map<string, ItemOrigin>,
  queryTerms: string[],
  factor: number,
): T[] {
  if (factor >= 1) return hits;
  const speakers = new Set<string>();
  for (const hit of hits) {
    const speaker = origins.get(hit.id)?.speaker;
    if (speaker) speakers.add(speaker);
  }
  const named = namedSpeakers(speakers, queryTerms);
  const [focus] = named;
  if (named.length !== 1 || speakers.size < 2) return hits;
  return hits
    .map((hit) => {
      const speaker = origins.get(hit.id)?.speaker;
      return speaker && speaker !== focus ? { ...hit, score: hit.score * factor } : hit;
    })
    .sort((a, b) => b.score - a.score);
}
