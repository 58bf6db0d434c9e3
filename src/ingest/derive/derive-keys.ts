import { joinedCompounds } from '../../core/compounds.js';
import type { IngestConfig } from '../../core/config.js';
import { partyOf, type TurnSayer } from '../../core/turn-parties.js';
import type { DerivedKeys } from '../../core/types.js';
import type { IndexFields } from '../../store/store.js';
import { dateKeys, resolveEventDates } from './dates.js';
import { extractEntities } from './entities.js';

export interface TurnText extends TurnSayer {
  content: string;
}

/**
 * `Alice: I moved to Berlin`: the speaker's name makes a first-person turn findable by name (a
 * question naming a speaker searches its other words and ranks her turns first by its subject).
 */
export function speakerLine(turn: TurnText): string {
  return turn.speaker ? `${turn.speaker}: ${turn.content}` : turn.content;
}

/** Whether turns get a context key at all, so a caller can skip reading the turns before. */
export function hasContextKey(config: IngestConfig): boolean {
  return config.contextKey && config.contextChars > 0;
}

/**
 * The context key of `turn`: the turns before it (`before`, oldest first), nearest first until
 * `contextTurns` turns or `contextChars` characters are taken (the farthest one cut to fit),
 * one line each, oldest first. Null when there is none, when the key is off, or when every turn
 * it would hold is `turn`'s own party's: a turn answers only what someone else said.
 */
export function contextOf(turn: TurnText, before: readonly TurnText[], config: IngestConfig): string | null {
  if (!hasContextKey(config) || before.length === 0) return null;
  const party = partyOf(turn);
  const lines: string[] = [];
  let answers = false;
  let left = config.contextChars;
  for (const earlier of before.slice(-config.contextTurns).reverse()) {
    if (left <= 0) break;
    const line = speakerLine(earlier).slice(0, left);
    lines.unshift(line);
    left -= line.length + 1;
    answers ||= partyOf(earlier) !== party;
  }
  return answers ? lines.join('\n') : null;
}

/**
 * The keys an episode is indexed under besides its own words: the turns before it in the
 * session (an answer needs its question), the dates it refers to resolved against its time,
 * the entities it names, and its hyphenated words written as one ("de-stress" → destress).
 * The dates are always resolved and kept; each key can be switched off in the ingest config,
 * for ablations.
 */
export function deriveKeys(
  turn: TurnText,
  messageTime: number,
  before: readonly TurnText[],
  config: IngestConfig,
): { derived: DerivedKeys; index: IndexFields } {
  const context = contextOf(turn, before, config);
  const dates = resolveEventDates(turn.content, new Date(messageTime));
  const entities = config.entityKeys ? extractEntities(turn.content) : [];
  return {
    derived: { dates, entities, context },
    index: {
      text: speakerLine(turn),
      context: context ?? '',
      keys: [
        ...entities,
        ...(config.compoundKeys ? joinedCompounds(turn.content) : []),
        ...(config.dateKeys ? dates.map(dateKeys) : []),
      ].join(' '),
    },
  };
}
