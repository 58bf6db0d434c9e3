import { z } from 'zod';
import { parseDataset, readJsonFile } from './dataset-file.js';

/** LoCoMo's own category labels (its evaluation code); 5 is adversarial: no answer in the conversation. */
export const LOCOMO_CATEGORIES: Readonly<Record<number, string>> = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
  5: 'adversarial',
};

export interface LocomoTurn {
  /** The dataset's dialogue id, `D<session>:<turn>`. */
  diaId: string;
  speaker: string;
  /** The turn's text, with an image turn's BLIP caption appended: the caption is what the image says. */
  content: string;
}

export interface LocomoSession {
  /** N of `session_N`. */
  number: number;
  /** `session_N_date_time` as epoch milliseconds (the dataset gives no zone; read as UTC). */
  startMs: number;
  turns: LocomoTurn[];
}

export interface LocomoQuestion {
  question: string;
  /** Absent for adversarial questions, which carry `adversarial_answer` instead. */
  answer: string | null;
  category: number;
  /** The raw evidence entries; see `parseEvidence`. */
  evidence: string[];
}

export interface LocomoConversation {
  sampleId: string;
  speakers: [string, string];
  sessions: LocomoSession[];
  qa: LocomoQuestion[];
}

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

const LOCOMO_DATE = /^(\d{1,2}):(\d{2})\s*(am|pm) on (\d{1,2}) ([a-z]+),? (\d{4})$/i;

/**
 * Parses LoCoMo's session time, e.g. `1:56 pm on 8 May, 2023`, as UTC; null when it is not
 * exactly that shape or names an impossible date (a strict parser: a guess would shift every
 * event time of the conversation silently).
 */
export function parseLocomoDateTime(text: string): number | null {
  const m = LOCOMO_DATE.exec(text.trim());
  if (!m) return null;
  const [, hh, mm, ampm, dd, monthName, yyyy] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const month = MONTHS.indexOf(monthName.toLowerCase());
  const hour12 = Number(hh);
  const minute = Number(mm);
  const day = Number(dd);
  const year = Number(yyyy);
  if (month < 0 || hour12 < 1 || hour12 > 12 || minute > 59) return null;
  const hour = (hour12 % 12) + (ampm.toLowerCase() === 'pm' ? 12 : 0);
  const ms = Date.UTC(year, month, day, hour, minute);
  // Date.UTC rolls 31 June over into July; a real date survives the round trip.
  if (new Date(ms).getUTCDate() !== day) return null;
  return ms;
}

const DIA_ID = /^D(\d+):(\d+)$/;

/**
 * Evidence entries as the dataset writes them: usually one id each, but some hold several
 * (`"D8:6; D9:17"`), so each entry is split on `;` and `,` and trimmed. An id that is not
 * exactly `D<n>:<n>` is returned as malformed rather than guessed at.
 */
export function parseEvidence(entries: string[]): { ids: string[]; malformed: string[] } {
  const ids = new Set<string>();
  const malformed: string[] = [];
  for (const entry of entries) {
    for (const part of entry.split(/[;,]/)) {
      const id = part.trim();
      if (id === '') continue;
      if (DIA_ID.test(id)) ids.add(id);
      else malformed.push(id);
    }
  }
  return { ids: [...ids], malformed };
}

const turnSchema = z.looseObject({
  speaker: z.string().trim().min(1),
  dia_id: z.string().min(1),
  text: z.string(),
  blip_caption: z.string().optional(),
});

const questionSchema = z.looseObject({
  question: z.string().min(1),
  // A few answers are numbers (a year); adversarial questions have none.
  answer: z.union([z.string(), z.number()]).nullish(),
  evidence: z.array(z.string()),
  category: z.number().int().min(1).max(5),
});

function turnContent(turn: z.output<typeof turnSchema>): string {
  const caption = turn.blip_caption?.trim();
  return caption ? `${turn.text.trim()} [image: ${caption}]`.trim() : turn.text;
}

const SESSION_KEY = /^session_(\d+)$/;

const conversationSchema = z
  .looseObject({ speaker_a: z.string().min(1), speaker_b: z.string().min(1) })
  .transform((conversation, ctx) => {
    const sessions: LocomoSession[] = [];
    for (const [key, value] of Object.entries(conversation)) {
      const match = SESSION_KEY.exec(key);
      if (!match) continue;
      const turns = z.array(turnSchema).safeParse(value);
      if (!turns.success) {
        for (const issue of turns.error.issues) {
          ctx.addIssue({ code: 'custom', path: [key, ...issue.path], message: issue.message });
        }
        continue;
      }
      const dateKey = `${key}_date_time`;
      const date = conversation[dateKey];
      const startMs = typeof date === 'string' ? parseLocomoDateTime(date) : null;
      if (startMs === null) {
        ctx.addIssue({
          code: 'custom',
          path: [dateKey],
          message: `expected a session time like "1:56 pm on 8 May, 2023", got ${JSON.stringify(date)}`,
        });
        continue;
      }
      sessions.push({
        number: Number(match[1]),
        startMs,
        turns: turns.data.map((t) => ({ diaId: t.dia_id, speaker: t.speaker, content: turnContent(t) })),
      });
    }
    if (sessions.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'no session_N turn lists in the conversation' });
    }
    sessions.sort((a, b) => a.number - b.number);
    return { speakers: [conversation.speaker_a, conversation.speaker_b] as [string, string], sessions };
  });

export const locomoFileSchema = z
  .array(
    z.looseObject({
      sample_id: z.string().min(1),
      conversation: conversationSchema,
      qa: z.array(questionSchema),
    }),
  )
  .min(1, 'expected at least one conversation');

/** Loads a LoCoMo file (`.json` or `.json.gz`, the original schema), validated. */
export function loadLocomo(file: string): LocomoConversation[] {
  const parsed = parseDataset(locomoFileSchema, readJsonFile(file), file, 'LoCoMo');
  return parsed.map((c) => ({
    sampleId: c.sample_id,
    speakers: c.conversation.speakers,
    sessions: c.conversation.sessions,
    qa: c.qa.map((q) => ({
      question: q.question,
      answer: q.answer === undefined || q.answer === null ? null : String(q.answer),
      category: q.category,
      evidence: q.evidence,
    })),
  }));
}
