import { shortId } from '../core/ids.js';
import { byCodeUnits } from '../core/order.js';
import type { MemoryItem } from '../core/types.js';
import { countTokens, countTokensOnce, TOKENIZER } from './tokens.js';

export interface ContextItem {
  id: string;
  score: number;
  tokens: number;
}

export interface ContextPack {
  /** Prompt-ready memory block; every line cites its item id. */
  text: string;
  tokens: number;
  tokenBudget: number;
  tokenizer: string;
  /** The packed items, in the chronological order they appear in `text`. */
  items: ContextItem[];
  /** Candidates that did not fit the budget. */
  omitted: number;
}

/** An item offered for packing, with the priority it is packed by. */
export interface PackCandidate {
  item: MemoryItem;
  score: number;
}

const HEADER = "Relevant memories, oldest first, grouped by day and session; #… is the memory's short id.";
const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function eventTime(item: MemoryItem): string {
  return item.validFrom ?? item.createdAt;
}

/** `HH:MM`, the precision a context line prints. */
function minuteOf(item: MemoryItem): string {
  return eventTime(item).slice(11, 16);
}

/** Items of one day and one session share a heading, so a line need not repeat them. */
function groupKey(item: MemoryItem): string {
  return `${eventTime(item).slice(0, 10)}\u0000${item.sessionId ?? ''}`;
}

export function renderGroupHeading(item: MemoryItem): string {
  const time = eventTime(item);
  const day = WEEKDAY[new Date(time).getUTCDay()];
  return `## ${time.slice(0, 10)} (${day})${item.sessionId ? ` · session ${item.sessionId}` : ''}`;
}

/**
 * `[10:00] Alice: I moved to Berlin. #742a9a0df595`: the short id costs 8 tokens where the UUID
 * costs 26. Without `withTime` the `[10:00] ` (6 tokens) is left out. A memory marked as no
 * longer true from some day says so, `(until 2024-06-10)`, so a reader can tell a replaced fact
 * from the current one; one that is not active (a context asked for other statuses) says that
 * too: `(deleted) #742a9a0df595`.
 */
export function renderContextLine(item: MemoryItem, withTime = true): string {
  const who = item.speaker ?? item.role ?? item.kind;
  const time = withTime ? `[${minuteOf(item)}] ` : '';
  const until = item.validTo ? ` (until ${item.validTo.slice(0, 10)})` : '';
  const status = item.status === 'active' ? '' : ` (${item.status})`;
  return `${time}${who}: ${item.content.replace(/\s*\n\s*/g, ' ')}${until}${status} #${shortId(item.id)}`;
}

function chronological(a: MemoryItem, b: MemoryItem): number {
  return (
    byCodeUnits(eventTime(a), eventTime(b)) ||
    byCodeUnits(a.sessionId ?? '', b.sessionId ?? '') ||
    (a.turnIndex ?? 0) - (b.turnIndex ?? 0) ||
    byCodeUnits(a.id, b.id)
  );
}

/** Whether a line prints its time: always, or only when the line above in its group shows another. */
function showsTime(item: MemoryItem, above: MemoryItem | undefined, timesWhenChanged: boolean): boolean {
  return !timesWhenChanged || above === undefined || minuteOf(above) !== minuteOf(item);
}

/** The text, oldest first, grouped by day and session, and the ids of the lines that print their time. */
function render(items: MemoryItem[], timesWhenChanged: boolean): { text: string; timed: Set<string> } {
  const text = [HEADER];
  const timed = new Set<string>();
  let group: string | null = null;
  let above: MemoryItem | undefined;
  for (const item of [...items].sort(chronological)) {
    const key = groupKey(item);
    if (key !== group) {
      text.push(renderGroupHeading(item));
      group = key;
      above = undefined;
    }
    const withTime = showsTime(item, above, timesWhenChanged);
    text.push(renderContextLine(item, withTime));
    if (withTime) timed.add(item.id);
    above = item;
  }
  return { text: text.join('\n'), timed };
}

/** How line length weighs on packing priority; exponent 0 packs by score alone. */
export interface LengthPenalty {
  exponent: number;
  /** Lines up to this many tokens are packed at full score. */
  typicalTokens: number;
}

export interface PackOptions {
  lengthPenalty?: LengthPenalty;
  /** Print a line's time only when it differs from the line above under the same heading. */
  timesWhenChanged?: boolean;
}

const NO_LENGTH_PENALTY: LengthPenalty = { exponent: 0, typicalTokens: 1 };

/** Score × (typical / tokens)^exponent for a line longer than typical: a long line costs the budget of several. */
function priority(score: number, tokens: number, penalty: LengthPenalty): number {
  return score * Math.min(1, penalty.typicalTokens / tokens) ** penalty.exponent;
}

/** A candidate with the tokens of its line (and newline) with and without the time. */
interface Sized extends PackCandidate {
  timed: number;
  untimed: number;
}

function lineCost(c: Sized, above: Sized | undefined, timesWhenChanged: boolean): number {
  return showsTime(c.item, above?.item, timesWhenChanged) ? c.timed : c.untimed;
}

/**
 * The tokens that adding `c` to its chronologically sorted group costs: its own line, and the
 * change to the next line's, which may now share `c`'s time or no longer share the one above.
 * Returns where `c` goes in the group.
 */
function insertionCost(group: Sized[], c: Sized, timesWhenChanged: boolean): { cost: number; at: number } {
  let at = group.findIndex((g) => chronological(g.item, c.item) > 0);
  if (at < 0) at = group.length;
  const above = group[at - 1];
  const below = group[at];
  let cost = lineCost(c, above, timesWhenChanged);
  if (below) cost += lineCost(below, c, timesWhenChanged) - lineCost(below, above, timesWhenChanged);
  return { cost, at };
}

/**
 * Greedy packing by priority (the score, lowered for long lines): take each candidate whose line
 * (and heading, for a new group) still fits the budget; a long one is skipped and a shorter one
 * after it may fit. The chosen items are printed oldest first, grouped by day and session.
 */
export function packContext(
  candidates: PackCandidate[],
  tokenBudget: number,
  options: PackOptions = {},
): ContextPack {
  const penalty = options.lengthPenalty ?? NO_LENGTH_PENALTY;
  const timesWhenChanged = options.timesWhenChanged ?? false;
  const ordered = candidates
    .map((c): Sized & { priority: number } => {
      const timed = countTokens(renderContextLine(c.item)) + 1;
      const untimed = timesWhenChanged ? countTokens(renderContextLine(c.item, false)) + 1 : timed;
      return { ...c, timed, untimed, priority: priority(c.score, timed, penalty) };
    })
    .sort((a, b) => b.priority - a.priority);
  const groups = new Map<string, Sized[]>();
  let used = countTokens(HEADER) + 1;
  const chosen: Sized[] = [];
  for (const candidate of ordered) {
    const key = groupKey(candidate.item);
    const group = groups.get(key);
    const heading = group ? 0 : countTokens(renderGroupHeading(candidate.item)) + 1;
    const { cost, at } = insertionCost(group ?? [], candidate, timesWhenChanged);
    if (used + heading + cost > tokenBudget) continue;
    used += heading + cost;
    if (group) group.splice(at, 0, candidate);
    else groups.set(key, [candidate]);
    chosen.push(candidate);
  }
  // Tokens of joined text can differ by a few from the sum of its parts; never exceed the budget.
  const renderChosen = () =>
    render(
      chosen.map((c) => c.item),
      timesWhenChanged,
    );
  let rendered = renderChosen();
  let tokens = countTokensOnce(rendered.text);
  while (chosen.length && tokens > tokenBudget) {
    chosen.pop();
    rendered = renderChosen();
    tokens = countTokensOnce(rendered.text);
  }
  const text = chosen.length ? rendered.text : '';
  const inOrder = [...chosen].sort((a, b) => chronological(a.item, b.item));
  return {
    text,
    tokens: text ? tokens : 0,
    tokenBudget,
    tokenizer: TOKENIZER,
    items: inOrder.map((c) => ({
      id: c.item.id,
      score: c.score,
      tokens: rendered.timed.has(c.item.id) ? c.timed : c.untimed,
    })),
    omitted: ordered.length - chosen.length,
  };
}
