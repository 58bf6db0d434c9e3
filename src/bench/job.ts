import type { LatencySummary } from './stats.js';
import type { SystemName, VectorIndexFigures } from './systems.js';

/** One child process's work: one system, one size, one phase. */
export interface BenchJob {
  system: SystemName;
  size: number;
  /** The directory holding this system's databases for this size. */
  dir: string;
  phase: 'ingest' | 'query';
  datasets: string;
  cachePath: string;
  /** Distinct corpus turns; larger sizes cycle through them. */
  distinct: number;
  /** JSON file with the derived keys of the distinct turns (see derived.ts). */
  keysFile: string;
  queries: number;
  warmup: number;
  /** Items added one call each, at the end of ingest, for the single-add latency. */
  addSamples: number;
  /** Items added through the public add call, in session chunks, for the full-path ingest rate. */
  pathSamples: number;
}

export interface IngestFigures {
  ingest_per_s: number;
  add_path_per_s: number;
  add_ms: LatencySummary;
  ingest_rss_mb: number;
  /** Texts whose vectors were not ready beforehand and went to the model during ingest. */
  embedded_during_run: number;
}

export interface QueryFigures {
  search_ms: LatencySummary;
  filtered_search_ms: LatencySummary | null;
  context_ms: LatencySummary | null;
  rss_mb: number;
  vector_index: VectorIndexFigures | null;
}

export type WorkerMessage =
  | { type: 'progress'; label: string; done: number; total: number }
  | { type: 'ingest'; figures: IngestFigures }
  | { type: 'query'; figures: QueryFigures };
