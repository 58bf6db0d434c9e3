import type * as tokenizerModule from 'gpt-tokenizer';
import { LRUCache } from 'lru-cache';
import { lazyModule } from '../core/lazy-module.js';

const tokenizer = lazyModule<typeof tokenizerModule>('gpt-tokenizer');
const countO200k = (text: string): number => tokenizer().countTokens(text);

/** The tokenizer context budgets are counted with: OpenAI's o200k_base (GPT-4o family). */
export const TOKENIZER = 'o200k_base';

/** Shorter texts are counted afresh: caching them would cost about what counting does. */
const CACHE_FROM_CHARS = 256;
/**
 * Counts of long lines: `context()` counts every candidate line on each call, byte-pair encoding
 * is most of its time, and an agent's consecutive calls bring back many of the same memories.
 * Bounded by the characters held (about 16 MB), not only by entries: keys run to several KB.
 */
const counts = new LRUCache<string, number>({
  max: 20_000,
  maxSize: 8_000_000,
  sizeCalculation: (_count, text) => text.length,
});

export function countTokens(text: string): number {
  if (text.length < CACHE_FROM_CHARS) return countO200k(text);
  let count = counts.get(text);
  if (count === undefined) {
    count = countO200k(text);
    counts.set(text, count);
  }
  return count;
}

/** A text seen once (a whole packed context): counted without entering the cache of lines. */
export function countTokensOnce(text: string): number {
  return countO200k(text);
}
