import { performance } from 'node:perf_hooks';
import type { Cube } from '../os/cube.js';
import { LONGMEMEVAL, QA_CONTEXT_BUDGET, TURN_SPACING_MS } from './benchmarks.js';
import {
  channelsFor,
  type EvalRunOptions,
  gradeQuestion,
  isBlank,
  ProgressCounter,
  type Retrieval,
  retrieve,
  runConfig,
  UnitIndex,
  withFreshCube,
} from './harness.js';
import { type LongMemEvalQuestion, loadLongMemEval, parseLongMemEvalDate } from './loaders/longmemeval.js';
import { allAtK, anyAtK, distinctUnits, ndcgAtK, type Ranking } from './metrics.js';
import {
  type EvalResults,
  environment,
  type MetricValues,
  type QuestionResult,
  summarize,
  timingOf,
} from './results.js';

/** The one budget LongMemEval is measured at (`turn_all@budget2000`). */
const TURN_BUDGET = 2000;

/** What one haystack looks like once ingested: which item stands for which turns, and where each turn sits. */
interface Haystack {
  units: UnitIndex;
  /** Turn unit (`s<session index>:t<turn index>`) → dataset session id. */
  sessionOf: Map<string, string>;
  answerTurns: Set<string>;
}

function turnUnit(sessionIndex: number, turnIndex: number): string {
  return `s${sessionIndex}:t${turnIndex}`;
}

/** The retrieved items as turn units, and as sessions: each session once, at the rank of its first item. */
function rankings(r: Retrieval, haystack: Haystack): { turns: Ranking; sessions: Ranking } {
  const turns = r.hits.map((h) => haystack.units.of(h.item.id));
  const sessions = distinctUnits(turns.map((units) => units.map((t) => haystack.sessionOf.get(t) ?? t)));
  return { turns, sessions };
}

function metricsFor(r: Retrieval, haystack: Haystack, answerSessions: ReadonlySet<string>): MetricValues {
  const { units, answerTurns } = haystack;
  const { turns: turnRanking, sessions: sessionRanking } = rankings(r, haystack);
  const metrics: MetricValues = {
    'session_any@5': anyAtK(sessionRanking, answerSessions, 5),
    'session_all@5': allAtK(sessionRanking, answerSessions, 5),
    'session_any@10': anyAtK(sessionRanking, answerSessions, 10),
    'session_all@10': allAtK(sessionRanking, answerSessions, 10),
  };
  // Turn-level metrics need marked answer turns; a question without any gets null, not 0.
  const hasTurns = answerTurns.size > 0;
  const packed = r.packs.get(TURN_BUDGET)?.items.map((item) => units.of(item.id)) ?? [];
  metrics['turn_any@10'] = hasTurns ? anyAtK(turnRanking, answerTurns, 10) : null;
  metrics['turn_all@10'] = hasTurns ? allAtK(turnRanking, answerTurns, 10) : null;
  metrics['turn_all@budget2000'] = hasTurns ? allAtK(packed, answerTurns, Infinity) : null;
  metrics['ndcg@10'] = hasTurns
    ? ndcgAtK(turnRanking, answerTurns, 10, units.itemsCovering(answerTurns))
    : null;
  return metrics;
}

/**
 * LongMemEval: each question's haystack goes into a fresh cube (sessions in haystack order, the
 * haystack dates as event times, roles, `metadata.turnIndex` / `hasAnswer`), then the question is
 * searched and packed into context. Abstention questions (`_abs`) have no evidence and are skipped.
 */
export async function runLongMemEval(options: EvalRunOptions): Promise<EvalResults> {
  const started = performance.now();
  const all = loadLongMemEval(options.data).slice(0, options.limit ?? Infinity);
  const scored = all.filter((q) => !q.abstention);
  const channels = channelsFor(options.retriever, await options.embedder.dimensions(), options.memory);
  const progress = new ProgressCounter(
    scored.reduce((n, q) => n + q.sessions.reduce((m, s) => m + s.turns.length, 0) + 1, 0),
    options.onProgress,
  );
  const questions: QuestionResult[] = [];
  const queryMs: number[] = [];
  let ingestMs = 0;
  let mergedTurns = 0;
  let blankTurns = 0;

  const ingest = async (q: LongMemEvalQuestion, cube: Cube): Promise<Haystack> => {
    const haystack: Haystack = { units: new UnitIndex(), sessionOf: new Map(), answerTurns: new Set() };
    for (const [si, session] of q.sessions.entries()) {
      const kept = session.turns
        .map((turn, ti) => ({ turn, ti, unit: turnUnit(si, ti) }))
        .filter(({ turn }) => !isBlank(turn.content));
      blankTurns += session.turns.length - kept.length;
      for (const { turn, unit } of kept) {
        haystack.sessionOf.set(unit, session.id);
        if (turn.hasAnswer) haystack.answerTurns.add(unit);
      }
      if (kept.length > 0) {
        const t0 = performance.now();
        // A haystack may repeat a session id; the copy's identical turns are stored once if it has the
        // same date (a copy on another day is said again, new evidence).
        const { ids } = await cube.add(
          kept.map(({ turn, ti }) => ({
            content: turn.content,
            role: turn.role,
            at: session.startMs + ti * TURN_SPACING_MS,
            metadata: { turnIndex: ti, hasAnswer: turn.hasAnswer },
          })),
          { sessionId: session.id },
        );
        ingestMs += performance.now() - t0;
        haystack.units.record(
          ids,
          kept.map((k) => k.unit),
        );
      }
      await progress.add(session.turns.length);
    }
    // Indexes built and the vocabulary's words embedded before the question, as a live cube has them.
    const t0 = performance.now();
    await cube.warm();
    ingestMs += performance.now() - t0;
    return haystack;
  };

  for (const q of scored) {
    await withFreshCube(
      options.embedder,
      async (cube) => {
        const haystack = await ingest(q, cube);
        mergedTurns += haystack.units.mergedItems();
        const asOf = q.askedAt === null ? undefined : (parseLongMemEvalDate(q.askedAt) ?? undefined);
        const r = await retrieve(cube, q.question, channels.request, LONGMEMEVAL.budgets, asOf);
        queryMs.push(r.searchMs);
        const metrics = metricsFor(r, haystack, new Set(q.answerSessionIds));
        const result: QuestionResult = {
          id: q.id,
          category: q.type,
          question: q.question,
          gold: q.answerSessionIds,
          retrieved: rankings(r, haystack).sessions.slice(0, 10).flat(),
          metrics,
        };
        if (options.qa) {
          await gradeQuestion(result, options.qa, {
            question: q.question,
            gold: q.answer,
            context: r.packs.get(QA_CONTEXT_BUDGET)?.text ?? '',
            ...(q.askedAt ? { askedAt: q.askedAt } : {}),
          });
        }
        questions.push(result);
        await progress.add(1);
      },
      options.memory,
    );
  }

  return {
    benchmark: 'longmemeval',
    data: options.data,
    config: runConfig(options, channels, LONGMEMEVAL.budgets),
    questions,
    metrics: summarize(LONGMEMEVAL, questions, options.qa !== undefined),
    timing: timingOf(ingestMs, queryMs, performance.now() - started),
    data_notes: {
      questions_total: all.length,
      questions_scored: questions.length,
      excluded_abstention: all.length - scored.length,
      questions_with_repeated_session_ids: scored.filter(
        (q) => new Set(q.sessions.map((s) => s.id)).size !== q.sessions.length,
      ).length,
      questions_without_answer_turns: questions.filter((q) => q.metrics['turn_all@10'] === null).length,
      blank_turns_skipped: blankTurns,
      turns_merged_as_duplicates: mergedTurns,
      qa_ungraded: questions.filter((q) => q.qa && q.qa.j === null).length,
    },
    environment: environment(options.version),
  };
}
