import type { MemoryItem } from '../core/types.js';

/** A bracketed note closing a turn ("[image: a dog on a couch]") is not part of what was said. */
const TRAILING_NOTE = /\s*\[[^\]]*\]\s*$/u;
/** A question mark, then only closing quotes, brackets, spaces or emoji. */
const ENDS_WITH_QUESTION = /\?(?:[\s"'”’»)\p{Extended_Pictographic}]|\u200d|\ufe0f)*$/u;

/** Whether a turn ends by asking: "Wow, a pottery class! How'd the kids like it?" */
export function endsAsking(content: string): boolean {
  return ENDS_WITH_QUESTION.test(content.replace(TRAILING_NOTE, ''));
}

/** A ranked hit: its item id and score. */
interface Ranked {
  id: string;
  score: number;
}

/**
 * In a chat between people, a turn that ends by asking ("How'd the kids like it?") asks the other
 * for their news: it resembles the question a memory is searched with, in words and in meaning,
 * more than it answers it. Such turns score × `factor`; only turns with a speaker, since a user's
 * question to an assistant is the user's request and carries the user's facts. Items must hold
 * every hit of `hits`; the result is re-sorted, stably. A lowered hit carries `asking`, its factor.
 */
export function lowerAskingTurns<T extends Ranked>(
  hits: T[],
  items: Map<string, MemoryItem>,
  factor: number,
): Array<T & { asking?: number }> {
  if (factor >= 1) return hits;
  return hits
    .map((hit) => {
      const item = items.get(hit.id);
      return item?.speaker && endsAsking(item.content)
        ? { ...hit, score: hit.score * factor, asking: factor }
        : hit;
    })
    .sort((a, b) => b.score - a.score);
}
