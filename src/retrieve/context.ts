import { shortId } from '../core/ids.js';
import type { MemoryItem } from '../core/types.js';
import { countTokens, TOKENIZER } from './tokens.js';

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

/** Items of one day and one session share a heading, so a line need not repeat them. */
function groupKey(item: MemoryItem): string {
  return `${eventTime(item).slice(0, 10)}\u0000${item.sessionId ?? ''}`;
}

export function renderGroupHeading(item: MemoryItem): string {
  const time = eventTime(item);
  const day = WEEKDAY[new Date(time).getUTCDay()];
  return `## ${time.slice(0, 10)} (${day})${item.sessionId ? ` · session ${item.sessionId}` : ''}`;
}

/** `[10:00] Alice: I moved to Berlin. #742a9a0df595`: the short id costs 8 tokens where the UUID costs 26. */
export function renderContextLine(item: MemoryItem): string {
  const who = item.speaker ?? item.role ?? item.kind;
  return `[${eventTime(item).slice(11, 16)}] ${who}: ${item.content.replace(/\s*\n\s*/g, ' ')} #${shortId(item.id)}`;
}

function chronological(a: MemoryItem, b: MemoryItem): number {
  return (
    eventTime(a).localeCompare(eventTime(b)) ||
    (a.sessionId ?? '').localeCompare(b.sessionId ?? '') ||
    (a.turnIndex ?? 0) - (b.turnIndex ?? 0) ||
    a.id.localeCompare(b.id)
  );
}

function render(items: MemoryItem[]): string {
  const lines = [HEADER];
  let group: string | null = null;
  for (const item of [...items].sort(chronological)) {
    const key = groupKey(item);
    if (key !== group) {
      lines.push(renderGroupHeading(item));
      group = key;
    }
    lines.push(renderContextLine(item));
  }
  return lines.join('\n');
}

/** How line length weighs on packing priority; exponent 0 packs by score alone. */
export interface LengthPenalty {
  exponent: number;
  /** Lines up to this many tokens are packed at full score. */
  typicalTokens: number;
}

const NO_LENGTH_PENALTY: LengthPenalty = { exponent: 0, typicalTokens: 1 };

/** Score × (typical / tokens)^exponent for a line longer than typical: a long line costs the budget of several. */
function priority(score: number, tokens: number, penalty: LengthPenalty): number {
  return score * Math.min(1, penalty.typicalTokens / tokens) ** penalty.exponent;
}

/**
 * Greedy packing by priority (the score, lowered for long lines): take each candidate whose line
 * (and heading, for a new group) still fits the budget; a long one is skipped and a shorter one
 * after it may fit. The chosen items are printed oldest first, grouped by day and session.
 */
export function packContext(
  candidates: PackCandidate[],
  tokenBudget: number,
  lengthPenalty: LengthPenalty = NO_LENGTH_PENALTY,
): ContextPack {
  const ordered = candidates
    .map((c) => {
      const tokens = countTokens(renderContextLine(c.item)) + 1;
      return { ...c, tokens, priority: priority(c.score, tokens, lengthPenalty) };
    })
    .sort((a, b) => b.priority - a.priority);
  const groups = new Set<string>();
  let used = countTokens(HEADER) + 1;
  const chosen: Array<PackCandidate & { tokens: number }> = [];
  for (const { priority: _priority, ...candidate } of ordered) {
    const key = groupKey(candidate.item);
    const heading = groups.has(key) ? 0 : countTokens(renderGroupHeading(candidate.item)) + 1;
    const { tokens } = candidate;
    if (used + heading + tokens > tokenBudget) continue;
    used += heading + tokens;
    groups.add(key);
    chosen.push(candidate);
  }
  // Tokens of joined text can differ by a few from the sum of its parts; never exceed the budget.
  let text = chosen.length ? render(chosen.map((c) => c.item)) : '';
  while (chosen.length && countTokens(text) > tokenBudget) {
    chosen.pop();
    text = chosen.length ? render(chosen.map((c) => c.item)) : '';
  }
  const inOrder = [...chosen].sort((a, b) => chronological(a.item, b.item));
  return {
    text,
    tokens: text ? countTokens(text) : 0,
    tokenBudget,
    tokenizer: TOKENIZER,
    items: inOrder.map((c) => ({ id: c.item.id, score: c.score, tokens: c.tokens })),
    omitted: ordered.length - chosen.length,
  };
}
