import { z } from 'zod';
import { parseDataset, readJsonFile } from './dataset-file.js';

export interface LongMemEvalTurn {
  role: 'user' | 'assistant';
  content: string;
  /** The dataset marks the turns that hold the answer (`has_answer`). */
  hasAnswer: boolean;
}

export interface LongMemEvalSession {
  id: string;
  /** `haystack_dates[i]` as epoch milliseconds (read as UTC). */
  startMs: number;
  turns: LongMemEvalTurn[];
}

export interface LongMemEvalQuestion {
  id: string;
  type: string;
  question: string;
  answer: string;
  /** `question_date` as written, e.g. `2023/05/30 (Tue) 23:40`; when the question is asked. */
  askedAt: string | null;
  /** Abstention questions (id suffix `_abs`) have no answer in the haystack. */
  abstention: boolean;
  sessions: LongMemEvalSession[];
  answerSessionIds: string[];
}

const LME_DATE = /^(\d{4})\/(\d{2})\/(\d{2}) \([A-Za-z]{3}\) (\d{2}):(\d{2})$/;

/** Parses LongMemEval's `2023/05/20 (Sat) 02:21` as UTC; null for anything else or an impossible date. */
export function parseLongMemEvalDate(text: string): number | null {
  const m = LME_DATE.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59) return null;
  const ms = Date.UTC(year, month - 1, day, hour, minute);
  if (new Date(ms).getUTCDate() !== day) return null;
  return ms;
}

const turnSchema = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  has_answer: z.boolean().optional(),
});

const dateSchema = z.string().transform((text, ctx) => {
  const ms = parseLongMemEvalDate(text);
  if (ms === null) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a date like "2023/05/20 (Sat) 02:21", got ${JSON.stringify(text)}`,
    });
    return z.NEVER;
  }
  return ms;
});

const questionSchema = z
  .looseObject({
    question_id: z.string().min(1),
    question_type: z.string().min(1),
    question: z.string().min(1),
    answer: z.union([z.string(), z.number()]),
    question_date: z.string().optional(),
    haystack_session_ids: z.array(z.string().min(1)),
    haystack_dates: z.array(dateSchema),
    haystack_sessions: z.array(z.array(turnSchema)),
    answer_session_ids: z.array(z.string()),
  })
  .superRefine((q, ctx) => {
    const n = q.haystack_session_ids.length;
    if (q.haystack_dates.length !== n || q.haystack_sessions.length !== n) {
      ctx.addIssue({
        code: 'custom',
        path: ['haystack_sessions'],
        message: `haystack_session_ids, haystack_dates and haystack_sessions must be the same length (${n}, ${q.haystack_dates.length}, ${q.haystack_sessions.length})`,
      });
    }
  });

export const longMemEvalFileSchema = z.array(questionSchema).min(1, 'expected at least one question');

/** Loads a LongMemEval file (`.json` or `.json.gz`, `_s` / `_m` / oracle schema), validated. */
export function loadLongMemEval(file: string): LongMemEvalQuestion[] {
  const parsed = parseDataset(longMemEvalFileSchema, readJsonFile(file), file, 'LongMemEval');
  return parsed.map((q) => ({
    id: q.question_id,
    type: q.question_type,
    question: q.question,
    answer: String(q.answer),
    askedAt: q.question_date ?? null,
    abstention: q.question_id.endsWith('_abs'),
    sessions: q.haystack_session_ids.map((id, i) => ({
      id,
      startMs: q.haystack_dates[i] as number,
      turns: (q.haystack_sessions[i] ?? []).map((t) => ({
        role: t.role,
        content: t.content,
        hasAnswer: t.has_answer === true,
      })),
    })),
    answerSessionIds: q.answer_session_ids,
  }));
}
