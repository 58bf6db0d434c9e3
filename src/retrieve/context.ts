import type { MemoryItem, SearchHit } from '../core/types.js';
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
  /** Ranked candidates that did not fit the budget. */
  omitted: number;
}

const HEADER = 'Relevant memories (oldest first; each line: [time | session | speaker (role) | id] text):';

function eventTime(item: MemoryItem): string {
  return item.validFrom ?? item.createdAt;
}

/** `2024-05-03 10:00 UTC`: minute precision is what a reader of the prompt needs. */
function formatTime(isoTime: string): string {
  return `${isoTime.slice(0, 10)} ${isoTime.slice(11, 16)} UTC`;
}

export function renderContextLine(item: MemoryItem): string {
  const who = item.speaker
    ? `${item.speaker}${item.role ? ` (${item.role})` : ''}`
    : (item.role ?? item.kind);
  const session = item.sessionId ? ` | session ${item.sessionId}` : '';
  return `[${formatTime(eventTime(item))}${session} | ${who} | id ${item.id}] ${item.content.replace(/\s*\n\s*/g, ' ')}`;
}

function chronological(a: MemoryItem, b: MemoryItem): number {
  return (
    eventTime(a).localeCompare(eventTime(b)) ||
    (a.sessionId ?? '').localeCompare(b.sessionId ?? '') ||
    (a.turnIndex ?? 0) - (b.turnIndex ?? 0) ||
    a.id.localeCompare(b.id)
  );
}

/**
 * Greedy packing by rank: take each candidate whose line still fits the budget (a long one
 * is skipped, a shorter one after it may fit), then print the chosen lines oldest first.
 */
export function packContext(ranked: SearchHit[], tokenBudget: number): ContextPack {
  const headerTokens = countTokens(HEADER) + 1;
  let used = headerTokens;
  const chosen: Array<{ hit: SearchHit; line: string; tokens: number }> = [];
  for (const hit of ranked) {
    const line = renderContextLine(hit.item);
    const tokens = countTokens(line) + 1; // + the newline
    if (used + tokens > tokenBudget) continue;
    used += tokens;
    chosen.push({ hit, line, tokens });
  }
  chosen.sort((a, b) => chronological(a.hit.item, b.hit.item));
  const text = chosen.length === 0 ? '' : [HEADER, ...chosen.map((c) => c.line)].join('\n');
  return {
    text,
    tokens: chosen.length === 0 ? 0 : countTokens(text),
    tokenBudget,
    tokenizer: TOKENIZER,
    items: chosen.map((c) => ({ id: c.hit.item.id, score: c.hit.score, tokens: c.tokens })),
    omitted: ranked.length - chosen.length,
  };
}
