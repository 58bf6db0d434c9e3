import type nlpModule from 'compromise';
import { lazyModule } from '../../core/lazy-module.js';

const nlp = lazyModule<typeof nlpModule>('compromise');

/** At most this many entities per item: a long document should not flood its keys. */
const MAX_ENTITIES = 32;
/**
 * Only the head of a long text is parsed: tagging whole LongMemEval turns made key derivation
 * 7.0 ms per turn, their first 1,000 characters 4.0 ms (bench/derive.ts); every word stays
 * searchable in the text column.
 */
const MAX_SCANNED_CHARS = 1_000;

/**
 * Named entities (people, places, organisations) and acronyms of the head of a text, in order
 * of appearance, without duplicates, trailing punctuation removed.
 */
export function extractEntities(text: string): string[] {
  const doc = nlp()(text.slice(0, MAX_SCANNED_CHARS));
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of [...doc.topics().out('array'), ...doc.acronyms().out('array')] as string[]) {
    const entity = raw.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '').trim();
    const key = entity.toLowerCase();
    if (entity.length < 2 || seen.has(key)) continue;
    seen.add(key);
    out.push(entity);
    if (out.length >= MAX_ENTITIES) break;
  }
  return out;
}
