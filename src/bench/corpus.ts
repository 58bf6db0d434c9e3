import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One conversational turn of the benchmark corpus, before it is cycled to the wanted size. */
export interface CorpusTurn {
  content: string;
  role: 'user' | 'assistant';
  session: string;
  /** Epoch milliseconds. */
  at: number;
}

export interface Corpus {
  /** Distinct turns, in conversation order. */
  turns: CorpusTurn[];
  /** Questions in the style of the turns, used as search queries. */
  questions: string[];
  source: string;
}

/** Long assistant answers are cut here, as an application would chunk them. */
const MAX_TURN_CHARS = 4000;
const DAY_MS = 86_400_000;

interface LongMemEvalRecord {
  question: string;
  haystack_dates: string[];
  haystack_session_ids: string[];
  haystack_sessions: Array<Array<{ role: 'user' | 'assistant'; content: string }>>;
}

interface LocomoRecord {
  qa: Array<{ question: string }>;
}

/** The LongMemEval dev haystacks: each distinct non-blank turn once, and the questions. */
function longMemEvalCorpus(file: string): Corpus {
  const data = JSON.parse(gunzipSync(fs.readFileSync(file)).toString('utf8')) as LongMemEvalRecord[];
  const seen = new Set<string>();
  const turns: CorpusTurn[] = [];
  for (const q of data) {
    q.haystack_sessions.forEach((session, s) => {
      const day = (q.haystack_dates[s] ?? '2023/01/01').slice(0, 10).replaceAll('/', '-');
      const start = Date.parse(`${day}T12:00:00Z`);
      session.forEach((m, t) => {
        const content = m.content.slice(0, MAX_TURN_CHARS).trim();
        if (content.trim() === '' || seen.has(content)) return;
        seen.add(content);
        turns.push({
          content,
          role: m.role,
          session: q.haystack_session_ids[s] ?? `s${s}`,
          at: start + t * 60_000,
        });
      });
    });
  }
  return {
    turns,
    questions: data.map((q) => q.question),
    source: 'LongMemEval dev haystack turns (distinct, non-blank), cycled',
  };
}

function locomoQuestions(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as LocomoRecord[];
  return data.flatMap((c) => c.qa.map((q) => q.question));
}

const TOPICS = [
  'hiking',
  'cooking',
  'a new job',
  'the dentist',
  'moving house',
  'a concert',
  'my sister',
  'the garden',
];
const VERBS = ['talked about', 'planned', 'worried about', 'enjoyed', 'asked for advice on', 'finished'];

/** Distinct generated turns at most: larger sizes cycle them, as they cycle the real corpus. */
const GENERATED_DISTINCT = 300;

/** Generated chat turns when the datasets are absent (CI, a fresh clone). */
export function generatedCorpus(size: number): Corpus {
  const turns = Array.from({ length: Math.min(size, GENERATED_DISTINCT) }, (_, i): CorpusTurn => {
    const topic = TOPICS[i % TOPICS.length] as string;
    const other = TOPICS[(i * 7 + 3) % TOPICS.length] as string;
    const verb = VERBS[(i * 5) % VERBS.length] as string;
    return {
      content: `Turn ${i}: I ${verb} ${topic} and then ${other} on day ${i % 365}.`,
      role: i % 2 ? 'assistant' : 'user',
      session: `s${Math.floor(i / 20)}`,
      at: Date.UTC(2023, 0, 1) + Math.floor(i / 20) * DAY_MS + (i % 20) * 60_000,
    };
  });
  const questions = TOPICS.flatMap((t) => VERBS.map((v) => `when I ${v} ${t}, what did I say?`));
  return { turns, questions, source: 'generated sentences' };
}

/** LongMemEval dev turns (+ LoCoMo questions) when `datasets` holds them, else generated sentences. */
export function loadCorpus(datasets: string, fallbackSize: number): Corpus {
  const file = `${datasets}/longmemeval/longmemeval_s_dev100.json.gz`;
  if (!fs.existsSync(file)) return generatedCorpus(fallbackSize);
  const corpus = longMemEvalCorpus(file);
  return {
    ...corpus,
    questions: [...corpus.questions, ...locomoQuestions(`${datasets}/locomo/locomo_dev5.json`)],
  };
}

/** The corpus with only its first `distinct` turns, which larger runs cycle through. */
export function limitCorpus(corpus: Corpus, distinct: number): Corpus {
  return { ...corpus, turns: corpus.turns.slice(0, distinct) };
}

/** Item `i` of a corpus cycled to any size. */
export interface BenchItem {
  content: string;
  role: 'user' | 'assistant';
  session: string;
  at: number;
  /** Index of the distinct turn it copies. */
  base: number;
  /** 0 for the first pass over the corpus, then 1, 2, ... */
  copy: number;
}

/**
 * Later passes over the corpus get a marker in the text (so dedupe keeps every item), their own
 * session ids, and times shifted a year per pass, as more users with similar conversations would.
 */
export function benchItem(corpus: Corpus, i: number): BenchItem {
  const base = i % corpus.turns.length;
  const copy = Math.floor(i / corpus.turns.length);
  const t = corpus.turns[base] as CorpusTurn;
  if (copy === 0) return { ...t, base, copy };
  return {
    content: `${t.content} [${copy}]`,
    role: t.role,
    session: `${t.session}~${copy}`,
    at: t.at + copy * 365 * DAY_MS,
    base,
    copy,
  };
}

/** `count` queries, cycling the corpus questions. */
export function benchQueries(corpus: Corpus, count: number): string[] {
  return Array.from({ length: count }, (_, i) => corpus.questions[i % corpus.questions.length] as string);
}
