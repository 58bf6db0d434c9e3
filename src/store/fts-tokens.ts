import { stemmer } from 'stemmer';
import { foldLatinAccents } from '../core/accents.js';

/**
 * The full-text table's tokenizer (`porter unicode61 remove_diacritics 2`) in JavaScript, so the
 * in-process lexical index finds exactly the terms FTS5 would: runs of letters, digits and
 * private-use characters; Latin diacritics removed; case folded; the Porter stemmer applied to
 * tokens of 3 to 64 characters. Checked against FTS5 in the tests. Two known differences: FTS5's
 * Porter stemmer reads UTF-8 bytes, so a word still non-ASCII once folded ("straße") may stem
 * differently (the lexical index sends such query terms to FTS5); and SQLite's
 * character tables predate recent Unicode, so FTS5 counts some emoji as tokens; on LongMemEval
 * turns about 1 row in 1,000 then differs in length by a token or two, which moves BM25 scores
 * by about one part in a million. No query term is ever such a symbol. Outside `sqlite/` because
 * the related-words channel reads which words an item adds to a cube's vocabulary the same way.
 */
/**
 * The combining marks unicode61 counts as diacritics: inside a token they neither split it nor
 * survive folding ("re\u0301sume\u0301" is one token, "resume"). Other marks split tokens.
 */
const DIACRITICS = '\u0300-\u0304\u0306-\u030C\u030F\u0311\u031B\u0323-\u0328\u032D\u032E\u0330\u0331';
const TOKEN = new RegExp(`[\\p{L}\\p{N}\\p{Co}][\\p{L}\\p{N}\\p{Co}${DIACRITICS}]*`, 'gu');
const DIACRITIC = new RegExp(`[${DIACRITICS}]`, 'gu');
const PORTER_MIN = 3;
const PORTER_MAX = 64;

/** Raw token → term; the vocabulary of a corpus is far smaller than its token count. */
const termCache = new Map<string, string>();
const TERM_CACHE_MAX = 200_000;

function foldCase(token: string): string {
  // unicode61 folds final sigma to sigma; toLowerCase keeps them apart.
  return foldLatinAccents(token.replace(DIACRITIC, '')).toLowerCase().replaceAll('ς', 'σ');
}

/**
 * A copy of the string that shares no memory with the text it was cut from: V8 keeps a long
 * substring as a view of its whole parent, so a token kept as a map key would keep its row's
 * text alive.
 */
export function detached(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** The index term FTS5 stores for one token. */
export function ftsTerm(token: string): string {
  let term = termCache.get(token);
  if (term === undefined) {
    const folded = foldCase(token);
    term = folded.length >= PORTER_MIN && folded.length <= PORTER_MAX ? stemmer(folded) : folded;
    if (termCache.size >= TERM_CACHE_MAX) termCache.clear();
    term = detached(term);
    termCache.set(detached(token), term);
  }
  return term;
}

/** Letters only, 3 to 32 of them: what a vocabulary word is (no numbers, ids, initials). */
const VOCABULARY_WORD = /^\p{L}{3,32}$/u;

/**
 * The vocabulary word a token is, unstemmed, with case and accents folded as the index folds them
 * ("Paintings" gives "paintings"); null for a token that is not a word of 3 to 32 letters.
 */
export function vocabularyWord(token: string): string | null {
  const folded = foldCase(token);
  return VOCABULARY_WORD.test(folded) ? detached(folded) : null;
}

/** The distinct vocabulary words of some texts, in order of first use. */
export function vocabularyWords(texts: string[]): string[] {
  const words = new Set<string>();
  for (const text of texts) {
    for (const token of ftsTokens(text)) {
      const word = vocabularyWord(token);
      if (word !== null) words.add(word);
    }
  }
  return [...words];
}

/** The raw tokens of a text, before folding and stemming. */
export function ftsTokens(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

/** Every token's term, in order (duplicates kept: their count is the term frequency). */
export function ftsTerms(text: string): string[] {
  return ftsTokens(text).map(ftsTerm);
}
