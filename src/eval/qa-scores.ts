/** Answer tokens: lowercased runs of letters and digits, so punctuation and case never count. */
export function answerTokens(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

function counts(tokens: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of tokens) out.set(t, (out.get(t) ?? 0) + 1);
  return out;
}

/** Tokens the two sides share, each counted at most as often as it occurs on both sides. */
function overlap(prediction: string[], gold: string[]): number {
  const goldCounts = counts(gold);
  let shared = 0;
  for (const [token, n] of counts(prediction)) shared += Math.min(n, goldCounts.get(token) ?? 0);
  return shared;
}

/** Token-level F1 between a generated and a gold answer (the SQuAD / LoCoMo measure, without stemming). */
export function tokenF1(prediction: string, gold: string): number {
  const p = answerTokens(prediction);
  const g = answerTokens(gold);
  if (p.length === 0 || g.length === 0) return p.length === g.length ? 1 : 0;
  const shared = overlap(p, g);
  if (shared === 0) return 0;
  const precision = shared / p.length;
  const recall = shared / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * BLEU-1 against one reference: clipped unigram precision times the brevity penalty
 * exp(1 - r/c) when the candidate (c tokens) is shorter than the reference (r tokens).
 */
export function bleu1(prediction: string, gold: string): number {
  const p = answerTokens(prediction);
  const g = answerTokens(gold);
  if (p.length === 0 || g.length === 0) return 0;
  const precision = overlap(p, g) / p.length;
  const brevity = p.length > g.length ? 1 : Math.exp(1 - g.length / p.length);
  return brevity * precision;
}
