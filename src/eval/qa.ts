import { generateText, type LanguageModel, NoObjectGeneratedError, Output } from 'ai';
import { z } from 'zod';
import { bleu1, tokenF1 } from './qa-scores.js';

/** One question answered from memory and graded. */
export interface QaOutcome {
  answer: string;
  /** The judge's verdict; null when its reply could not be read (then `j` is null too). */
  label: 'CORRECT' | 'WRONG' | null;
  /** 1 for CORRECT, 0 for WRONG: the mean over questions is the J score. */
  j: number | null;
  f1: number;
  bleu1: number;
  judgeError?: string;
}

export interface QaInput {
  question: string;
  gold: string;
  /** The prompt-ready memory block `context()` returned. */
  context: string;
  /** When the question is asked, if the dataset says (LongMemEval's `question_date`). */
  askedAt?: string;
}

export interface QaGrader {
  grade(input: QaInput): Promise<QaOutcome>;
}

/** Short answers on purpose: the gold answers are short phrases, and F1 / BLEU-1 punish padding. */
export function answerPrompt(input: Omit<QaInput, 'gold'>): string {
  return [
    'You answer questions about past conversations using only the memories below.',
    'Each memory line gives when it was said, the session, the speaker and what was said.',
    '',
    'Memories:',
    input.context.trim() === '' ? '(no memories found)' : input.context,
    '',
    ...(input.askedAt ? [`The question is asked on ${input.askedAt}.`] : []),
    'Resolve relative times ("yesterday", "last week") against the time of the memory that uses them.',
    'Answer with a short phrase of at most six words; if the memories do not say, answer "unknown".',
    '',
    `Question: ${input.question}`,
    'Answer:',
  ].join('\n');
}

/**
 * The LoCoMo / Mem0 judging protocol: the judge sees the question, the gold answer and the
 * generated answer, grades generously (same topic, or same date in any format, counts as
 * CORRECT), and replies with a JSON object whose `label` is CORRECT or WRONG.
 */
export function judgePrompt(question: string, gold: string, answer: string): string {
  return [
    "Label a generated answer to a question as 'CORRECT' or 'WRONG'. You are given:",
    '  (1) a question that one person asks another about their earlier conversations,',
    "  (2) the 'gold' (ground truth) answer,",
    '  (3) a generated answer.',
    '',
    'The gold answer is usually a short phrase naming the topic asked about. The generated answer may be',
    'much longer; be generous: if it is about the same thing as the gold answer, it is CORRECT.',
    'For questions about time the gold answer is a date, month, year or period. The generated answer may',
    'be longer or use relative references ("last Tuesday", "next month"); if it refers to the same date or',
    'period it is CORRECT, whatever the format ("May 7th" and "7 May" are the same date).',
    '',
    `Question: ${question}`,
    `Gold answer: ${gold}`,
    `Generated answer: ${answer}`,
    '',
    'Reply with a JSON object with one key, "label", whose value is "CORRECT" or "WRONG".',
  ].join('\n');
}

const judgeSchema = z.object({ label: z.enum(['CORRECT', 'WRONG']) });

/**
 * Answers with `models.answer` and judges with `models.judge` (the same model unless given),
 * both at temperature 0. A judge reply that is not the expected JSON leaves the question
 * ungraded rather than guessing a label; a failing model call fails the run.
 */
export function createQaGrader(models: { answer: LanguageModel; judge?: LanguageModel }): QaGrader {
  const judge = models.judge ?? models.answer;
  return {
    async grade(input) {
      const { text } = await generateText({
        model: models.answer,
        prompt: answerPrompt(input),
        temperature: 0,
      });
      const answer = text.trim();
      const scores = { answer, f1: tokenF1(answer, input.gold), bleu1: bleu1(answer, input.gold) };
      try {
        const { output } = await generateText({
          model: judge,
          prompt: judgePrompt(input.question, input.gold, answer),
          output: Output.object({ schema: judgeSchema }),
          temperature: 0,
        });
        return { ...scores, label: output.label, j: output.label === 'CORRECT' ? 1 : 0 };
      } catch (err) {
        if (!NoObjectGeneratedError.isInstance(err)) throw err;
        return { ...scores, label: null, j: null, judgeError: err.message };
      }
    },
  };
}
