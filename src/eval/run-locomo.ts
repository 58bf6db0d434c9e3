import { performance } from 'node:perf_hooks';
import { K_CUTOFFS, LOCOMO, QA_CONTEXT_BUDGET, SEARCH_DEPTH, TURN_SPACING_MS } from './benchmarks.js';
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
import {
  LOCOMO_CATEGORIES,
  type LocomoConversation,
  type LocomoQuestion,
  loadLocomo,
  parseEvidence,
} from './loaders/locomo.js';
import { allAtK, anyAtK, ndcgAtK, type Ranking, reciprocalRank } from './metrics.js';
import {
  type EvalResults,
  environment,
  type MetricValues,
  type QuestionResult,
  summarize,
  timingOf,
} from './results.js';

interface ScoredQuestion extends LocomoQuestion {
  id: string;
  evidenceIds: string[];
}

interface Exclusion {
  question: string;
  evidence: string[];
  unresolved: string[];
}

interface Plan {
  scored: ScoredQuestion[];
  notes: {
    adversarial: number;
    noEvidence: number;
    unresolved: Exclusion[];
    splitEntries: number;
    blankTurns: number;
  };
}

/**
 * Which questions are scored. Category 5 (adversarial) has no evidence to find. A question is
 * scored only when every evidence id names a turn of its conversation: all@k needs the whole
 * evidence set, so one unknown or malformed id makes the question unscoreable, and it is
 * excluded and reported rather than scored against a partial set.
 */
function plan(conversation: LocomoConversation): Plan {
  const turnIds = new Set(
    conversation.sessions.flatMap((s) => s.turns.filter((t) => !isBlank(t.content)).map((t) => t.diaId)),
  );
  const notes: Plan['notes'] = {
    adversarial: 0,
    noEvidence: 0,
    unresolved: [],
    splitEntries: 0,
    blankTurns: conversation.sessions.reduce(
      (n, s) => n + s.turns.filter((t) => isBlank(t.content)).length,
      0,
    ),
  };
  const scored: ScoredQuestion[] = [];
  conversation.qa.forEach((q, index) => {
    const id = `${conversation.sampleId}#${index}`;
    if (q.category === 5) {
      notes.adversarial++;
      return;
    }
    const { ids, malformed } = parseEvidence(q.evidence);
    notes.splitEntries += q.evidence.filter((e) => /[;,]/.test(e)).length;
    const unresolved = [...malformed, ...ids.filter((e) => !turnIds.has(e))];
    if (unresolved.length > 0) {
      notes.unresolved.push({ question: id, evidence: q.evidence, unresolved });
      return;
    }
    if (ids.length === 0) {
      notes.noEvidence++;
      return;
    }
    scored.push({ ...q, id, evidenceIds: ids });
  });
  return { scored, notes };
}

function metricsFor(r: Retrieval, units: UnitIndex, evidence: ReadonlySet<string>): MetricValues {
  const ranking: Ranking = r.hits.map((h) => units.of(h.item.id));
  const metrics: MetricValues = {};
  for (const k of K_CUTOFFS) metrics[`any@${k}`] = anyAtK(ranking, evidence, k);
  for (const k of K_CUTOFFS) metrics[`all@${k}`] = allAtK(ranking, evidence, k);
  for (const budget of LOCOMO.budgets) {
    const packed = r.packs.get(budget)?.items.map((item) => units.of(item.id)) ?? [];
    metrics[`all@budget${budget}`] = allAtK(packed, evidence, Infinity);
  }
  metrics['ndcg@10'] = ndcgAtK(ranking, evidence, 10, units.itemsCovering(evidence));
  metrics.mrr = reciprocalRank(ranking, evidence, SEARCH_DEPTH);
  return metrics;
}

/**
 * LoCoMo: each conversation goes into a fresh cube (sessions in order, real session times,
 * speakers, `metadata.diaId`), then each scored question is searched and packed into context.
 */
export async function runLocomo(options: EvalRunOptions): Promise<EvalResults> {
  const started = performance.now();
  const conversations = loadLocomo(options.data).slice(0, options.limit ?? Infinity);
  const channels = channelsFor(options.retriever, await options.embedder.dimensions(), options.memory);
  const plans = conversations.map(plan);
  const totalTurns = conversations.reduce(
    (n, c) => n + c.sessions.reduce((m, s) => m + s.turns.length, 0),
    0,
  );
  const progress = new ProgressCounter(
    totalTurns + plans.reduce((n, p) => n + p.scored.length, 0),
    options.onProgress,
  );
  const questions: QuestionResult[] = [];
  const queryMs: number[] = [];
  let ingestMs = 0;
  let mergedTurns = 0;

  for (const [ci, conversation] of conversations.entries()) {
    const { scored } = plans[ci] as Plan;
    await withFreshCube(
      options.embedder,
      async (cube) => {
        const units = new UnitIndex();
        for (const session of conversation.sessions) {
          const kept = session.turns
            .map((turn, i) => ({ turn, at: session.startMs + i * TURN_SPACING_MS }))
            .filter(({ turn }) => !isBlank(turn.content));
          if (kept.length > 0) {
            const t0 = performance.now();
            const { ids } = await cube.add(
              kept.map(({ turn, at }) => ({
                content: turn.content,
                role: 'user' as const,
                speaker: turn.speaker,
                at,
                metadata: { diaId: turn.diaId },
              })),
              { sessionId: `session_${session.number}` },
            );
            ingestMs += performance.now() - t0;
            units.record(
              ids,
              kept.map(({ turn }) => turn.diaId),
            );
          }
          await progress.add(session.turns.length);
        }
        mergedTurns += units.mergedItems();
        // Indexes built and the vocabulary's words embedded before the questions, as a live cube has them.
        const t0 = performance.now();
        await cube.warm();
        ingestMs += performance.now() - t0;

        // Questions come after the conversation: relative times in them resolve against its end.
        const askedAt = Math.max(
          ...conversation.sessions.map((s) => s.startMs + s.turns.length * TURN_SPACING_MS),
        );
        for (const q of scored) {
          const r = await retrieve(cube, q.question, channels.request, LOCOMO.budgets, askedAt);
          queryMs.push(r.searchMs);
          const evidence = new Set(q.evidenceIds);
          const result: QuestionResult = {
            id: q.id,
            category: LOCOMO_CATEGORIES[q.category] ?? String(q.category),
            question: q.question,
            gold: q.evidenceIds,
            retrieved: r.hits.slice(0, 10).flatMap((h) => units.of(h.item.id)),
            metrics: metricsFor(r, units, evidence),
          };
          if (options.qa) {
            await gradeQuestion(result, options.qa, {
              question: q.question,
              gold: q.answer ?? '',
              context: r.packs.get(QA_CONTEXT_BUDGET)?.text ?? '',
            });
          }
          questions.push(result);
          await progress.add(1);
        }
      },
      options.memory,
    );
  }

  const notes = plans.map((p) => p.notes);
  const unresolved = notes.flatMap((n) => n.unresolved);
  return {
    benchmark: 'locomo',
    data: options.data,
    config: runConfig(options, channels, LOCOMO.budgets),
    questions,
    metrics: summarize(LOCOMO, questions, options.qa !== undefined),
    timing: timingOf(ingestMs, queryMs, performance.now() - started),
    data_notes: {
      conversations: conversations.length,
      questions_total: conversations.reduce((n, c) => n + c.qa.length, 0),
      questions_scored: questions.length,
      excluded_adversarial: notes.reduce((n, x) => n + x.adversarial, 0),
      excluded_no_evidence: notes.reduce((n, x) => n + x.noEvidence, 0),
      excluded_unresolved_evidence: unresolved.length,
      unresolved_evidence: unresolved,
      evidence_entries_split: notes.reduce((n, x) => n + x.splitEntries, 0),
      blank_turns_skipped: notes.reduce((n, x) => n + x.blankTurns, 0),
      turns_merged_as_duplicates: mergedTurns,
      qa_ungraded: questions.filter((q) => q.qa && q.qa.j === null).length,
    },
    environment: environment(options.version),
  };
}
