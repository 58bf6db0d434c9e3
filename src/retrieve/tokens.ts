import { countTokens as countO200k } from 'gpt-tokenizer';

/** The tokenizer context budgets are counted with: OpenAI's o200k_base (GPT-4o family). */
export const TOKENIZER = 'o200k_base';

export function countTokens(text: string): number {
  return countO200k(text);
}
