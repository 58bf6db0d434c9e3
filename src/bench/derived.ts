import { DEFAULT_INGEST_CONFIG } from '../core/config.js';
import type { DerivedKeys } from '../core/types.js';
import { deriveKeys } from '../ingest/derive/derive-keys.js';
import type { ProgressCallback } from '../os/memory-os.js';
import type { IndexFields } from '../store/store.js';
import type { Corpus } from './corpus.js';

export interface TurnKeys {
  index: IndexFields;
  derived: DerivedKeys;
}

/**
 * The keys `add` derives for each distinct corpus turn (entities, dates, the preceding turns), with
 * the default ingest settings. Computed once per run: entity extraction costs milliseconds per
 * long turn, which would make a million-item load take hours, so the bulk load is timed without it
 * (like embedding) and the full `add` path is timed on its own.
 */
export function deriveCorpusKeys(corpus: Corpus, onProgress: ProgressCallback = () => {}): TurnKeys[] {
  const out: TurnKeys[] = [];
  const { contextTurns } = DEFAULT_INGEST_CONFIG;
  corpus.turns.forEach((turn, i) => {
    const previous = corpus.turns
      .slice(Math.max(0, i - contextTurns), i)
      .filter((before) => before.session === turn.session)
      .map((before) => ({ content: before.content, speaker: null, role: before.role }));
    out.push(
      deriveKeys(
        { content: turn.content, speaker: null, role: turn.role },
        turn.at,
        previous,
        DEFAULT_INGEST_CONFIG,
      ),
    );
    if ((i + 1) % 500 === 0 || i + 1 === corpus.turns.length) onProgress(i + 1, corpus.turns.length);
  });
  return out;
}

/** A cycled copy's keys: its original's, with the copy's own text. */
export function copyKeys(keys: TurnKeys, content: string): TurnKeys {
  return { index: { ...keys.index, text: content }, derived: keys.derived };
}
