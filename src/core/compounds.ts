import { lowerCase } from './accents.js';

/** Two or more runs of letters joined by hyphens: "de-stress", "self-care", "non-stop". */
const HYPHENATED = /\p{L}+(?:-\p{L}+)+/gu;

/**
 * Hyphenated words written as one ("de-stress" → destress), each once, lower case. The full-text
 * tokenizer splits a hyphenated word into its parts, so "destress" in a question would never
 * meet "de-stress" in a turn, nor the other way round, without the joined form on one side.
 */
export function joinedCompounds(text: string): string[] {
  const out = new Set<string>();
  for (const match of lowerCase(text).matchAll(HYPHENATED)) out.add(match[0].replace(/-/g, ''));
  return [...out];
}
