import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { InvalidInputError } from '../core/errors.js';
import { type BenchmarkSpec, QA_METRIC_KEYS } from './benchmarks.js';
import { parseDataset, readJsonFile } from './loaders/dataset-file.js';
import type { QaOutcome } from './qa.js';

/** A question's metric values; null where the metric does not apply (no answer turns marked). */
export type MetricValues = Record<string, number | null>;

export interface QuestionResult {
  /** `conv-26#12` (LoCoMo: conversation and QA index) or the LongMemEval question id. */
  id: string;
  category: string;
  question: string;
  /** The gold units: evidence dialogue ids, or answer session ids. */
  gold: string[];
  /** The gold-unit view of the top 10 retrieved items (dialogue ids, or sessions in order). */
  retrieved: string[];
  metrics: MetricValues;
  qa?: QaOutcome;
}

/** `count` questions and the mean of each metric over the questions where it applies. */
export type MetricGroup = { count: number } & Record<string, number | null>;

export interface MetricsSummary {
  overall: MetricGroup;
  byCategory: Record<string, MetricGroup>;
}

export interface RunConfig {
  retriever: string;
  /** The channels searched; the `hybrid` retriever passes none and gets memcube's default. */
  channels: string[];
  embedder: string;
  searchDepth: number;
  budgets: number[];
  limit: number | null;
  qa: boolean;
  /** The on-disk embedding cache, or null. Cached vectors are the same vectors, only not recomputed. */
  embeddingCache: string | null;
  /** Ingest and retrieval settings that differ from memcube's defaults (empty for a default run). */
  memory: Record<string, unknown>;
}

export interface Timing {
  /** Wall time of all `cube.add` calls (embedding included). */
  ingest_s: number;
  /** Latency of one `cube.search(question, { limit: 50 })`. */
  query_p50_ms: number;
  query_p95_ms: number;
  total_s: number;
}

export interface EvalResults {
  benchmark: BenchmarkSpec['name'];
  data: string;
  config: RunConfig;
  questions: QuestionResult[];
  metrics: MetricsSummary;
  timing: Timing;
  /** What the data needed: exclusions, malformed evidence, merged duplicates (see docs/benchmarks.md). */
  data_notes: Record<string, unknown>;
  environment: Record<string, string | number>;
}

const round = (value: number, digits = 4): number => Number(value.toFixed(digits));

function mean(values: number[]): number | null {
  if (values.length === 0) return null;
  return round(values.reduce((a, b) => a + b, 0) / values.length);
}

function group(questions: QuestionResult[], keys: readonly string[]): MetricGroup {
  const out: MetricGroup = { count: questions.length };
  for (const key of keys) {
    const values = questions.flatMap((q) => {
      const v = q.metrics[key];
      return typeof v === 'number' ? [v] : [];
    });
    out[key] = mean(values);
  }
  return out;
}

/** Means overall and per category (known categories in the benchmark's order, others after, sorted). */
export function summarize(spec: BenchmarkSpec, questions: QuestionResult[], withQa: boolean): MetricsSummary {
  const keys = withQa ? [...spec.metricKeys, ...QA_METRIC_KEYS] : spec.metricKeys;
  const present = new Set(questions.map((q) => q.category));
  const order = [
    ...spec.categories.filter((c) => present.has(c)),
    ...[...present].filter((c) => !spec.categories.includes(c)).sort(),
  ];
  return {
    overall: group(questions, keys),
    byCategory: Object.fromEntries(
      order.map((c) => [
        c,
        group(
          questions.filter((q) => q.category === c),
          keys,
        ),
      ]),
    ),
  };
}

/** Nearest-rank percentile (p in 0..100) of the values; 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return round(sorted[rank - 1] as number, 2);
}

export function timingOf(ingestMs: number, queryMs: number[], totalMs: number): Timing {
  return {
    ingest_s: round(ingestMs / 1000, 2),
    query_p50_ms: percentile(queryMs, 50),
    query_p95_ms: percentile(queryMs, 95),
    total_s: round(totalMs / 1000, 2),
  };
}

/** The machine a run was measured on, so numbers and timings can be compared honestly. */
export function environment(version: string): Record<string, string | number> {
  return {
    memcube: version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memory_gb: round(os.totalmem() / 2 ** 30, 1),
  };
}

export const RESULTS_FILE = 'results.json';

export function writeResults(dir: string, results: EvalResults): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, RESULTS_FILE);
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

const metricGroupSchema = z.looseObject({ count: z.number() }).catchall(z.number().nullable());

// Only what the report reads is checked; the rest is carried through as written.
const resultsSchema = z.looseObject({
  benchmark: z.enum(['locomo', 'longmemeval']),
  data: z.string(),
  config: z.looseObject({ retriever: z.string(), embedder: z.string() }),
  questions: z.array(z.unknown()),
  metrics: z.object({ overall: metricGroupSchema, byCategory: z.record(z.string(), metricGroupSchema) }),
  timing: z.looseObject({ ingest_s: z.number(), query_p50_ms: z.number(), query_p95_ms: z.number() }),
});

/** Reads `DIR/results.json` written by `memcube eval`. */
export function readResults(dir: string): EvalResults {
  const file = path.join(dir, RESULTS_FILE);
  if (!fs.existsSync(file)) {
    throw new InvalidInputError(
      `${dir}: no ${RESULTS_FILE} here; give a directory written by memcube eval`,
      'dir',
    );
  }
  return parseDataset(
    resultsSchema,
    readJsonFile(file),
    file,
    'memcube eval results',
  ) as unknown as EvalResults;
}
