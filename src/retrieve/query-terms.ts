import { eng } from 'stopword';
import { lowerCase } from '../core/accents.js';
import { joinedCompounds } from '../core/compounds.js';

/** Question scaffolding the stock English list lacks; it carries no topic in a memory query. */
const QUESTION_WORDS = [
  'when',
  'does',
  'doing',
  'done',
  'why',
  'whom',
  'whose',
  'its',
  'just',
  'so',
  'tell',
  'know',
  'she',
  'will',
];
const STOPWORDS = new Set([...eng, ...QUESTION_WORDS]);

/** Whether a lower-cased word is a stopword or question scaffolding: no topic of its own. */
export function isStopword(word: string): boolean {
  return STOPWORDS.has(word);
}

/** Unicode letters and digits, keeping inner apostrophes out so "Alice's" gives "alice" and "s". */
const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Lowercased, de-duplicated content words of a query, in order of appearance, then its
 * hyphenated words written as one ("de-stress" also finds "destress"). Stemming is left to the
 * store's full-text tokenizer so index and query agree.
 */
export function lexicalTerms(query: string): string[] {
  const terms: string[] = [];
  const seen = new Set<string>();
  const words = [...lowerCase(query).matchAll(WORD)].map((m) => m[0]);
  for (const word of [...words, ...joinedCompounds(query)]) {
    if (word.length < 2 && !/\p{N}/u.test(word)) continue;
    if (STOPWORDS.has(word) || seen.has(word)) continue;
    seen.add(word);
    terms.push(word);
  }
  return terms;
}
