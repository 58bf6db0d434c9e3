/** The eval's only door into memcube: the public `MemoryOS` / `Cube` API. */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type ConfigFile, retrievalConfigSchema } from '../core/config.js';
import { InvalidInputError } from '../core/errors.js';
import type { ChannelName, SearchHit } from '../core/types.js';
import type { Embedder } from '../embed/embedder.js';
import type { Cube } from '../os/cube.js';
import { MemoryOS } from '../os/memory-os.js';
import type { ContextPack } from '../retrieve/context.js';
import { defaultChannels } from '../retrieve/search.js';
import { SEARCH_DEPTH } from './benchmarks.js';
import type { QaGrader, QaInput } from './qa.js';
import type { QuestionResult, RunConfig } from './results.js';

export const RETRIEVERS = ['hybrid', 'bm25', 'vector'] as const;
export type Retriever = (typeof RETRIEVERS)[number];

export interface ChannelChoice {
  /** What `search` / `context` are given; undefined lets memcube use its default channels. */
  request: ChannelName[] | undefined;
  /** The channels that actually run, for the record. */
  effective: ChannelName[];
}

/**
 * bm25 = the lexical channel alone, vector = the vector channel alone, hybrid = memcube's default:
 * every channel the retrieval config runs.
 */
export function channelsFor(
  retriever: Retriever,
  embedderDimensions: number,
  memory: ConfigFile = {},
): ChannelChoice {
  const hasVectors = embedderDimensions > 0;
  switch (retriever) {
    case 'bm25':
      return { request: ['lexical'], effective: ['lexical'] };
    case 'vector':
      if (!hasVectors) {
        throw new InvalidInputError(
          '--retriever vector needs an embedder that produces vectors, but --embedder none is lexical-only; use --embedder local, or --retriever bm25',
          'retriever',
        );
      }
      return { request: ['vector'], effective: ['vector'] };
    case 'hybrid':
      return {
        request: undefined,
        effective: defaultChannels(retrievalConfigSchema.parse(memory.retrieval ?? {}), hasVectors),
      };
  }
}

/** Blank turns cannot be stored (memcube refuses empty content); the runners skip and count them. */
export const isBlank = (text: string): boolean => text.trim() === '';

/** Dataset turns can be far longer than an agent message (LongMemEval has 76,000-character turns). */
const MAX_CONTENT_CHARS = 1_000_000;

/**
 * Runs `fn` on a cube in a fresh in-memory database, closed afterwards. Fresh per conversation
 * (or question) on purpose: FTS5's bm25() takes its corpus statistics from the whole table, which
 * every cube of a database shares, so cubes in one database would change each other's scores.
 */
export async function withFreshCube<T>(
  embedder: Embedder,
  fn: (cube: Cube) => Promise<T>,
  overrides: ConfigFile = {},
): Promise<T> {
  const memory = await MemoryOS.open({
    ...overrides,
    path: ':memory:',
    embedder,
    actor: 'memcube-eval',
    durability: 'normal',
    limits: { maxContentChars: MAX_CONTENT_CHARS },
  });
  try {
    return await fn(await memory.cube('eval'));
  } finally {
    await memory.close();
  }
}

export interface Retrieval {
  /** The top `SEARCH_DEPTH` items, best first. */
  hits: SearchHit[];
  searchMs: number;
  /** `context()` for each token budget. */
  packs: Map<number, ContextPack>;
}

/** One question: a timed `search`, then `context` at each budget, all on the same channels. */
export async function retrieve(
  cube: Cube,
  question: string,
  channels: ChannelName[] | undefined,
  budgets: readonly number[],
  asOf?: number,
): Promise<Retrieval> {
  // `asOf`: when the question is asked, so "last week" in it means the week before then.
  const channelOption = { ...(channels ? { channels } : {}), ...(asOf === undefined ? {} : { asOf }) };
  const started = performance.now();
  const hits = await cube.search(question, { limit: SEARCH_DEPTH, ...channelOption });
  const searchMs = performance.now() - started;
  const packs = new Map<number, ContextPack>();
  for (const budget of budgets) {
    packs.set(budget, await cube.context(question, { tokenBudget: budget, ...channelOption }));
  }
  return { hits, searchMs, packs };
}

/** Maps memcube item ids back to the dataset units (turn ids) they were added from. */
export class UnitIndex {
  private readonly units = new Map<string, string[]>();

  /** Records `add`'s ids, one per message in order; a duplicate message maps to the earlier item. */
  record(ids: readonly string[], unitsInOrder: readonly string[]): void {
    ids.forEach((id, i) => {
      const unit = unitsInOrder[i];
      if (unit === undefined) return;
      const list = this.units.get(id);
      if (list) list.push(unit);
      else this.units.set(id, [unit]);
    });
  }

  of(id: string): string[] {
    return this.units.get(id) ?? [];
  }

  /** How many items stand for at least one of these units: the ideal hit count for nDCG. */
  itemsCovering(relevant: ReadonlySet<string>): number {
    let n = 0;
    for (const list of this.units.values()) if (list.some((u) => relevant.has(u))) n++;
    return n;
  }

  /** Items that stand for more than one unit (identical turns stored once). */
  mergedItems(): number {
    let n = 0;
    for (const list of this.units.values()) if (list.length > 1) n++;
    return n;
  }
}

/** What both benchmark runners take. */
export interface EvalRunOptions {
  data: string;
  retriever: Retriever;
  /** Used for every fresh database of the run; wrap it in the on-disk cache first (see embedder.ts). */
  embedder: Embedder;
  embeddingCache: string | null;
  /** Only the first N conversations / questions of the file. */
  limit?: number;
  /** QA mode: answer and judge each scored question. */
  qa?: QaGrader;
  /** memcube's version, for the record. */
  version: string;
  /** Ingest and retrieval settings to run with instead of the defaults (ablations, tuning). */
  memory?: ConfigFile;
  /** Work done so far: turns ingested plus questions answered. */
  onProgress?: (done: number, total: number) => void;
}

/** Counts units of work and tells `onProgress`. */
export class ProgressCounter {
  private done = 0;
  private readonly total: number;
  private readonly onProgress: EvalRunOptions['onProgress'];

  constructor(total: number, onProgress: EvalRunOptions['onProgress']) {
    this.total = total;
    this.onProgress = onProgress;
  }

  async add(units: number): Promise<void> {
    this.done += units;
    this.onProgress?.(this.done, this.total);
    // The store is synchronous underneath, so a run would otherwise never leave the microtask
    // queue and a progress bar's redraw timer would not fire until the very end.
    await yieldToEventLoop();
  }
}

/** The run's `config` record. */
export function runConfig(
  options: EvalRunOptions,
  channels: ChannelChoice,
  budgets: readonly number[],
): RunConfig {
  return {
    retriever: options.retriever,
    channels: channels.effective,
    embedder: options.embedder.id,
    searchDepth: SEARCH_DEPTH,
    budgets: [...budgets],
    limit: options.limit ?? null,
    qa: options.qa !== undefined,
    embeddingCache: options.embeddingCache,
    memory: options.memory ?? {},
  };
}

/** QA mode: answers and grades the question, adding `j`, `f1` and `bleu1` to its metrics. */
export async function gradeQuestion(result: QuestionResult, grader: QaGrader, input: QaInput): Promise<void> {
  const qa = await grader.grade(input);
  result.qa = qa;
  Object.assign(result.metrics, { j: qa.j, f1: qa.f1, bleu1: qa.bleu1 });
}
