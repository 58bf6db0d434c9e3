import nlp from 'compromise';

/** At most this many entities per item: a long document should not flood its keys. */
const MAX_ENTITIES = 32;

/**
 * Named entities (people, places, organisations) and acronyms of a text, in order of
 * appearance, without duplicates, trailing punctuation removed.
 */
export function extractEntities(text: string): string[] {
  const doc = nlp(text);
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
