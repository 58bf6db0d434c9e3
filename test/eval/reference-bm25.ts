import fs from 'node:fs';
import { eng } from 'stopword';

/**
 * A plain textbook BM25 over single LoCoMo turns, written independently of memcube (no FTS5,
 * no stemming, no loader of ours) so that a broken eval harness cannot hide behind plausible
 * numbers: each turn is "speaker text [caption]", lowercased, split into letter/digit runs,
 * stopwords removed; BM25 with k1 = 1.2, b = 0.75 and idf = ln(1 + (N - n + 0.5) / (n + 0.5)).
 */

const STOPWORDS = new Set(eng);

export function tokenize(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((t) => !STOPWORDS.has(t));
}

export class Bm25 {
  private readonly docs: Array<Map<string, number>>;
  private readonly lengths: number[];
  private readonly avgLength: number;
  private readonly docFreq = new Map<string, number>();
  private readonly k1: number;
  private readonly b: number;

  constructor(documents: string[][], k1 = 1.2, b = 0.75) {
    this.k1 = k1;
    this.b = b;
    this.docs = documents.map((tokens) => {
      const tf = new Map<string, number>();
      for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const t of tf.keys()) this.docFreq.set(t, (this.docFreq.get(t) ?? 0) + 1);
      return tf;
    });
    this.lengths = documents.map((d) => d.length);
    this.avgLength = this.lengths.reduce((a, c) => a + c, 0) / Math.max(1, documents.length);
  }

  private idf(term: string): number {
    const n = this.docFreq.get(term) ?? 0;
    const total = this.docs.length;
    return Math.log(1 + (total - n + 0.5) / (n + 0.5));
  }

  /** Indices of the documents matching any query term, best first (ties: earlier document first). */
  rank(query: string[]): number[] {
    const scores = this.docs.map((tf, i) => {
      let score = 0;
      for (const term of query) {
        const f = tf.get(term) ?? 0;
        if (f === 0) continue;
        const norm = 1 - this.b + (this.b * (this.lengths[i] ?? 0)) / this.avgLength;
        score += this.idf(term) * ((f * (this.k1 + 1)) / (f + this.k1 * norm));
      }
      return { i, score };
    });
    return scores
      .filter((s) => s.score > 0)
      .sort((x, y) => y.score - x.score || x.i - y.i)
      .map((s) => s.i);
  }
}

interface RawTurn {
  speaker: string;
  dia_id: string;
  text: string;
  blip_caption?: string;
}

interface RawConversation {
  conversation: Record<string, unknown>;
  qa: Array<{ question: string; evidence: string[]; category: number }>;
}

/**
 * all@10 over LoCoMo's categories 1-4: a question counts when it has evidence and every
 * evidence id (entries split on ";" and ",") is a turn of its conversation.
 */
export function referenceAllAt10(file: string): { questions: number; allAt10: number } {
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as RawConversation[];
  let questions = 0;
  let hits = 0;
  for (const { conversation, qa } of data) {
    const turns = Object.entries(conversation)
      .filter(([key, value]) => /^session_\d+$/.test(key) && Array.isArray(value))
      .flatMap(([, value]) => value as RawTurn[]);
    const index = new Bm25(turns.map((t) => tokenize(`${t.speaker} ${t.text} ${t.blip_caption ?? ''}`)));
    const ids = new Set(turns.map((t) => t.dia_id));
    for (const q of qa) {
      if (q.category === 5) continue;
      const evidence = q.evidence
        .flatMap((e) => e.split(/[;,]/).map((s) => s.trim()))
        .filter((s) => s !== '');
      if (evidence.length === 0 || !evidence.every((e) => ids.has(e))) continue;
      const top = new Set(
        index
          .rank(tokenize(q.question))
          .slice(0, 10)
          .map((i) => turns[i]?.dia_id),
      );
      questions++;
      if (evidence.every((e) => top.has(e))) hits++;
    }
  }
  return { questions, allAt10: hits / questions };
}
