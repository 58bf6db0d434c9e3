import fs from 'node:fs';
import path from 'node:path';
import { BENCHMARKS, QA_METRIC_KEYS } from './benchmarks.js';
import { type LabelledRun, recallChartSvg } from './chart.js';
import type { EvalResults, MetricGroup } from './results.js';

export const REPORT_FILE = 'report.md';
export const CHART_FILE = 'recall.svg';

const fmt = (value: number | null | undefined): string =>
  typeof value === 'number' ? value.toFixed(3) : '—';

function metricKeys(results: EvalResults): string[] {
  const keys = [...BENCHMARKS[results.benchmark].metricKeys];
  return results.config.qa ? [...keys, ...QA_METRIC_KEYS] : keys;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function metricRow(label: string, group: MetricGroup | undefined, keys: string[]): string[] {
  return [label, String(group?.count ?? 0), ...keys.map((k) => fmt(group?.[k]))];
}

/**
 * Labels for the runs: the retriever when that tells them apart, else the retriever with the
 * run's directory name.
 */
export function labelRuns(runs: Array<{ dir: string; results: EvalResults }>): LabelledRun[] {
  const seen = new Map<string, number>();
  for (const { results } of runs)
    seen.set(results.config.retriever, (seen.get(results.config.retriever) ?? 0) + 1);
  return runs.map(({ dir, results }) => ({
    label:
      (seen.get(results.config.retriever) ?? 0) > 1
        ? `${results.config.retriever} (${path.basename(path.resolve(dir))})`
        : results.config.retriever,
    results,
  }));
}

function notesList(notes: Record<string, unknown>): string {
  return Object.entries(notes)
    .map(
      ([key, value]) =>
        `- ${key}: ${typeof value === 'object' ? `\`${JSON.stringify(value)}\`` : String(value)}`,
    )
    .join('\n');
}

/** The Markdown report: overall and per-category tables (one row per run), config, timing, data notes. */
export function renderReport(runs: LabelledRun[]): string {
  const first = runs[0];
  if (!first) throw new Error('renderReport needs at least one run');
  const keys = metricKeys(first.results);
  const categories = [...new Set(runs.flatMap((r) => Object.keys(r.results.metrics.byCategory)))];
  const header = ['run', 'questions', ...keys];
  const sections = [
    `# memcube eval: ${first.results.benchmark}`,
    `Data: \`${first.results.data}\`. Metric definitions: docs/benchmarks.md in the memcube repository.`,
    `![overall recall against k and against the token budget](${CHART_FILE})`,
    '## Overall',
    table(
      header,
      runs.map((r) => metricRow(r.label, r.results.metrics.overall, keys)),
    ),
    '## By category',
    ...categories.flatMap((category) => [
      `### ${category}`,
      table(
        header,
        runs.map((r) => metricRow(r.label, r.results.metrics.byCategory[category], keys)),
      ),
    ]),
    '## Configuration',
    table(
      [
        'run',
        'retriever',
        'channels',
        'embedder',
        'search depth',
        'budgets',
        'limit',
        'qa',
        'embedding cache',
        'settings changed',
      ],
      runs.map(({ label, results: { config } }) => [
        label,
        config.retriever,
        config.channels.join('+'),
        config.embedder,
        String(config.searchDepth),
        config.budgets.join(', '),
        config.limit === null ? 'all' : String(config.limit),
        config.qa ? 'yes' : 'no',
        config.embeddingCache ? `\`${config.embeddingCache}\`` : 'none',
        // An ablation's `--config`, so its row says what it switched (older results carry none).
        config.memory && Object.keys(config.memory).length > 0
          ? `\`${JSON.stringify(config.memory)}\``
          : 'none',
      ]),
    ),
    '## Timing',
    table(
      ['run', 'ingest (s)', 'query p50 (ms)', 'query p95 (ms)', 'total (s)'],
      runs.map(({ label, results: { timing } }) => [
        label,
        String(timing.ingest_s),
        String(timing.query_p50_ms),
        String(timing.query_p95_ms),
        String(timing.total_s),
      ]),
    ),
    '## Data notes',
    ...runs.flatMap((r) => [`### ${r.label}`, notesList(r.results.data_notes)]),
    '## Environment',
    notesList(first.results.environment),
  ];
  return `${sections.join('\n\n')}\n`;
}

/** Writes `report.md` and the recall chart `recall.svg` into `dir`; returns both paths. */
export async function writeReport(
  dir: string,
  runs: LabelledRun[],
): Promise<{ report: string; chart: string }> {
  fs.mkdirSync(dir, { recursive: true });
  const report = path.join(dir, REPORT_FILE);
  const chart = path.join(dir, CHART_FILE);
  fs.writeFileSync(chart, await recallChartSvg(runs));
  fs.writeFileSync(report, renderReport(runs));
  return { report, chart };
}

/** A plain-text summary for the terminal: overall and each category, every metric. */
export function summaryTable(results: EvalResults): string {
  const keys = metricKeys(results);
  const rows = [
    metricRow('overall', results.metrics.overall, keys),
    ...Object.entries(results.metrics.byCategory).map(([c, g]) => metricRow(c, g, keys)),
  ];
  const header = ['', 'n', ...keys];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
