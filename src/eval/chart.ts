import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { BENCHMARKS, type BenchmarkSpec } from './benchmarks.js';
import type { EvalResults } from './results.js';

export interface LabelledRun {
  label: string;
  results: EvalResults;
}

interface Point {
  run: string;
  x: number;
  recall: number;
}

function points(runs: LabelledRun[], pick: (spec: BenchmarkSpec) => BenchmarkSpec['chart']['k']): Point[] {
  return runs.flatMap(({ label, results }) =>
    pick(BENCHMARKS[results.benchmark]).flatMap(([x, key]) => {
      const recall = results.metrics.overall[key];
      return typeof recall === 'number' ? [{ run: label, x, recall }] : [];
    }),
  );
}

type Panel = Extract<TopLevelSpec, { hconcat: unknown }>['hconcat'][number];

function panel(title: string, xTitle: string, values: Point[], runOrder: string[]): Panel {
  return {
    title,
    width: 300,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'ordinal', title: xTitle, axis: { labelAngle: 0 } },
      y: { field: 'recall', type: 'quantitative', title: 'recall', scale: { domain: [0, 1] } },
      // Legend and colours in the order the runs were given, not alphabetical.
      color: { field: 'run', type: 'nominal', title: 'run', sort: runOrder },
    },
  };
}

/**
 * Overall recall of each run as an SVG image, two panels: recall against the cut-off k and
 * against the context token budget, one line per run. Rendered headless (no browser, no canvas).
 */
export async function recallChartSvg(runs: LabelledRun[]): Promise<string> {
  const first = runs[0];
  if (!first) throw new Error('recallChartSvg needs at least one run');
  const spec = BENCHMARKS[first.results.benchmark];
  const order = runs.map((r) => r.label);
  const top: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `memcube eval ${spec.name}: overall recall`,
    background: 'white',
    hconcat: [
      panel(
        spec.chart.kTitle,
        'k',
        points(runs, (s) => s.chart.k),
        order,
      ),
      panel(
        spec.chart.budgetTitle,
        'token budget (o200k_base)',
        points(runs, (s) => s.chart.budget),
        order,
      ),
    ],
  };
  const view = new View(parse(compile(top).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
