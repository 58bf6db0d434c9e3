/** Precomposed Latin letters, the ones that may carry an accent ("é", "ñ", "ş"). */
const LATIN_WITH_MARKS = /[\u00C0-\u024F\u1E00-\u1EFF]/g;
const MARKS = /\p{M}/gu;

/**
 * Latin letters without their accents ("José" → "Jose"), other scripts untouched, as the SQLite
 * full-text tokenizer folds them: a query may write a name without the accent its speaker has.
 */
export function foldLatinAccents(text: string): string {
  return text.replace(LATIN_WITH_MARKS, (c) => c.normalize('NFD').replace(MARKS, ''));
}

/**
 * Lower case as the full-text index folds it: "İstanbul" becomes "istanbul", where `toLowerCase`
 * gives "i" and a combining dot, at which a search's word pattern would split the word.
 */
export function lowerCase(text: string): string {
  return text.toLowerCase().replace(/i\u0307/g, 'i');
}
