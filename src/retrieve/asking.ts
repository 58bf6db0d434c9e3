import type { MemoryItem } from '../core/types.js';

/** A bracketed note closing a turn ("[image: a dog on a couch]") is not part of what was said. */
const TRAILING_NOTE = /\[[^[\]]*\]\s*$/u;
/**
 * A question mark (or a full-width one, or "?!"), then only spaces, closing quotes, ")" (also of
 * ":)"), or emoji, skin tones, flags and keycaps included.
 */
const ENDS_WITH_QUESTION =
  /[?？][!?？]*(?:[\s"'”’»):;]|\u200d|\ufe0f|\u20e3|\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|[\u{E0020}-\u{E007F}])*$/u;

/** How much of a turn's end is read for its question mark: the pattern is tried at every position. */
const TAIL_CHARS = 64;

/** Whether a turn ends by asking: "Wow, a pottery class! How'd the kids like it?" */
export function endsAsking(content: string): boolean {
  return ENDS_WITH_QUESTION.test(content.replace(TRAILING_NOTE, '').slice(-TAIL_CHARS));
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
 * question to an assistant is the user's request and carries the user's facts. A hit whose item is
 * not in `items` keeps its score. The result is re-sorted, stably; a lowered hit carries `asking`,
 * its factor.
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
