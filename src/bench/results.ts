import type { SystemName } from './systems.js';

export interface MachineInfo {
  cpu: string;
  cpus: number;
  memory_gb: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: above 0 means other work shared the cores. */
  load_average_at_start: number;
}

/** One system at one size; latencies exclude embedding the query, ingest excludes embedding the items. */
export interface BenchRow {
  system: SystemName;
  size: number;
  /** Bulk load through the store's insert path: embedding and key derivation excluded. */
  ingest_per_s: number;
  /** The public add call on session chunks: key derivation included, embedding excluded. */
  add_path_per_s: number;
  add_p50_ms: number;
  add_p95_ms: number;
  add_p99_ms: number;
  search_p50_ms: number;
  search_p95_ms: number;
  search_p99_ms: number;
  /** Top 10 among the user's turns (`roles: ['user']`); null when the system has no role filter. */
  filtered_search_p50_ms: number | null;
  filtered_search_p95_ms: number | null;
  context_p50_ms: number | null;
  context_p99_ms: number | null;
  rss_mb: number;
  ingest_rss_mb: number;
  db_mb: number;
  /** Recall@10 of the approximate vector index against exact search; null when search is exact. */
  ann_recall_at_10: number | null;
  /** Time to build that index from SQLite on a cube's first search after opening. */
  ann_build_ms: number | null;
}

export interface BenchReport {
  machine: MachineInfo;
  command: string;
  corpus: string;
  queries: number;
  embedding: {
    model: string;
    ms_per_text: number;
    /** How item and query vectors were obtained, as the figures exclude embedding. */
    vectors: string;
  };
  results: BenchRow[];
}

/** Figures compared in the memcube/peer ratios: lower is better for all but ingest. */
export const RATIO_FIGURES = [
  'ingest_per_s',
  'add_path_per_s',
  'add_p50_ms',
  'search_p50_ms',
  'search_p95_ms',
  'search_p99_ms',
  'rss_mb',
  'db_mb',
] as const;

export interface Ratio {
  size: number;
  figure: (typeof RATIO_FIGURES)[number];
  /** memcube's figure divided by the peer's. */
  ratio: number;
}

export function ratios(rows: BenchRow[], peer: SystemName): Ratio[] {
  return rows
    .filter((r) => r.system === 'memcube')
    .flatMap((mine) => {
      const theirs = rows.find((r) => r.system === peer && r.size === mine.size);
      if (!theirs) return [];
      return RATIO_FIGURES.flatMap((figure) =>
        theirs[figure] > 0
          ? [{ size: mine.size, figure, ratio: +(mine[figure] / theirs[figure]).toFixed(3) }]
          : [],
      );
    });
}
