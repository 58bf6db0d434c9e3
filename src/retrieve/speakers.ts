import { foldLatinAccents } from '../core/accents.js';
import type { SubjectFocus } from '../core/types.js';
import type { ItemOrigin } from '../store/store.js';
import { lexicalTerms } from './query-terms.js';

/** The search words of speakers' names, accents folded: "José" is named by "Jose" too. */
export function nameTerms(speakers: Iterable<string>): Set<string> {
  return new Set([...speakers].flatMap((s) => lexicalTerms(s).map(foldLatinAccents)));
}

/** Whether a query's search word is one of these `nameTerms`. */
export function isNameTerm(names: Set<string>, term: string): boolean {
  return names.has(foldLatinAccents(term));
}

/** Speakers among these whose name the query uses: "What do Melanie's kids like?" → Melanie. */
export function namedSpeakers(speakers: Iterable<string | null>, queryTerms: string[]): string[] {
  const named: string[] = [];
  for (const speaker of new Set(speakers)) {
    if (!speaker) continue;
    const names = nameTerms([speaker]);
    if (queryTerms.some((t) => isNameTerm(names, t))) named.push(speaker);
  }
  return named;
}

/** Words written with a capital letter, hyphenated ones whole ("Mary-Jane"): how a question writes a name. */
const CAPITALISED = /\p{Lu}[\p{L}\p{N}]*(?:-[\p{L}\p{N}]+)*/gu;

/** The search words of the words a query writes capitalised: where a question names someone. */
export function capitalisedTerms(query: string): string[] {
  return lexicalTerms([...query.matchAll(CAPITALISED)].map((m) => m[0]).join(' '));
}

/**
 * The search words that name a speaker of these origins, among `written` (the query's
 * `capitalisedTerms`): capitalised only, so a speaker called Bill leaves "the restaurant bill" alone.
 */
export function speakerNamesIn(written: string[], origins: Iterable<ItemOrigin>): Set<string> {
  const names = nameTerms(
    namedSpeakers(
      [...origins].map((o) => o.speaker),
      written,
    ),
  );
  return new Set(written.filter((t) => isNameTerm(names, t)));
}

const WORD = /[\p{L}\p{N}]+/gu;
const FIRST_PERSON = new Set(['i', 'me', 'my', 'mine', 'myself']);
const SECOND_PERSON = new Set(['you', 'your', 'yours', 'yourself']);

/**
 * Whether the query asks about its asker: first person ("What did I buy?"), and not addressed to
 * anyone ("What did you recommend to me?" is about the assistant's turns as much as the user's).
 */
export function asksAboutAsker(query: string): boolean {
  const words = new Set([...query.toLowerCase().matchAll(WORD)].map((m) => m[0]));
  return [...FIRST_PERSON].some((w) => words.has(w)) && ![...SECOND_PERSON].some((w) => words.has(w));
}

/** The subject and the speakers' names are read from this many of the best hits, whatever the search's limit. */
export const SUBJECT_POOL = 100;

/** Who a question is about, among the hits' origins: a named speaker, or the user (role) asking about themselves. */
type Subject = { speaker: string } | { role: 'user' };

/**
 * A named speaker, or the asker: never both, as "What did I tell Nate?" is about the asker and Nate
 * alike. "Part I" reads as first person; a first name two speakers share names neither.
 */
function subjectOf(query: string, queryTerms: string[], origins: ItemOrigin[]): Subject | null {
  const speakers = new Set(origins.flatMap((o) => (o.speaker ? [o.speaker] : [])));
  const named = namedSpeakers(speakers, queryTerms);
  const asker = asksAboutAsker(query);
  const [speaker] = named;
  if (speaker !== undefined && named.length === 1 && !asker) return { speaker };
  if (named.length > 0 || !asker) return null;
  // Only when the user's turns are among the hits: otherwise the focus would just lower the rest.
  return origins.some((o) => o.role === 'user') ? { role: 'user' } : null;
}

/** A ranked hit: its item id and score. */
interface Ranked {
  id: string;
  score: number;
}

/**
 * A question about a person is answered by what that person said. When the query names exactly
 * one of the hits' speakers, the other speakers' turns score × `factor`: in a conversation the
 * other side names that person too ("Congrats, Nate!") without saying anything about them. When
 * it names none and asks in the first person ("What did I buy?"), the turns of roles other than
 * the user's (the assistant's long answers) score × `factor`. The subject must be among the 100
 * best hits; hits without a speaker or role keep their score. A lowered hit carries `focus`,
 * saying why. Hits must be ordered best first; the result is re-sorted, stably.
 */
export function focusOnSubject<T extends Ranked>(
  hits: T[],
  origins: Map<string, ItemOrigin>,
  query: string,
  queryTerms: string[],
  factor: number,
): Array<T & { focus?: SubjectFocus }> {
  if (factor >= 1) return hits;
  const subject = subjectOf(
    query,
    queryTerms,
    hits.slice(0, SUBJECT_POOL).flatMap((h) => origins.get(h.id) ?? []),
  );
  if (!subject) return hits;
  const focus: SubjectFocus =
    'speaker' in subject
      ? { subject: 'speaker', name: subject.speaker, factor }
      : { subject: 'role', name: subject.role, factor };
  const other = (o: ItemOrigin | undefined): boolean =>
    'speaker' in subject
      ? o?.speaker != null && o.speaker !== subject.speaker
      : o?.role != null && o.role !== subject.role;
  return hits
    .map((hit) => (other(origins.get(hit.id)) ? { ...hit, score: hit.score * factor, focus } : hit))
    .sort((a, b) => b.score - a.score);
}
