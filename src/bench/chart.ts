import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchRow } from './results.js';

type Panel = Extract<TopLevelSpec, { hconcat: unknown }>['hconcat'][number];

function panel(title: string, yTitle: string, rows: BenchRow[], y: (r: BenchRow) => number | null): Panel {
  const values = rows.flatMap((r) => {
    const v = y(r);
    return v !== null && v > 0 ? [{ system: r.system, size: r.size, value: v }] : [];
  });
  return {
    title,
    width: 280,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'size', type: 'quantitative', title: 'items in the cube', scale: { type: 'log' } },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { type: 'log' } },
      color: { field: 'system', type: 'nominal', title: 'system', sort: ['memcube', 'mem0'] },
    },
  };
}

/** Search latency (p50, p99) and ingest rate against cube size, log scales, one line per system. */
export async function benchChartSvg(rows: BenchRow[]): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'memcube bench: latency and ingest against size (excluding embedding)',
    background: 'white',
    hconcat: [
      panel('search p50', 'ms', rows, (r) => r.search_p50_ms),
      panel('search p99', 'ms', rows, (r) => r.search_p99_ms),
      panel('bulk ingest', 'items/s', rows, (r) => r.ingest_per_s),
    ],
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
