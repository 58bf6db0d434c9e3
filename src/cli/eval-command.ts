import fs from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { readConfigFile } from '../core/config.js';
import { createEmbedder } from '../embed/factory.js';
import { defaultEmbeddingCachePath, openEvalEmbedder } from '../eval/embedder.js';
import { type EvalRunOptions, RETRIEVERS, type Retriever } from '../eval/harness.js';
import type { QaGrader } from '../eval/qa.js';
import { type EvalResults, readResults, writeResults } from '../eval/results.js';
import { embedderFromFlag } from './embedder-flag.js';
import { withProgress } from './progress.js';
import { UsageError } from './usage-error.js';

interface GlobalOptions {
  embedder: 'local' | 'none' | 'openai-compatible';
  json: boolean;
  /** The global `--config` file: retrieval and ingest settings to evaluate instead of the defaults. */
  config?: string;
}

interface RunFlags {
  data: string;
  retriever: Retriever;
  out?: string;
  limit?: number;
  /** A path, false for `--no-cache`, undefined for the default location. */
  cache?: string | false;
  qa?: boolean;
}

const VERSION = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  .version as string;

const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/**
 * The global `--embedder` flag (commander has already checked it is one of these) as an
 * embedder object, so one instance, and one cache, serves every database of the run.
 */
// The runners, the report (vega) and QA mode (the AI SDK) are imported on use: together they
// take a good part of a second to load, which every other memcube command would pay for.
type Runner = (options: EvalRunOptions) => Promise<EvalResults>;
const RUNNERS: Record<EvalResults['benchmark'], () => Promise<Runner>> = {
  locomo: async () => (await import('../eval/run-locomo.js')).runLocomo,
  longmemeval: async () => (await import('../eval/run-longmemeval.js')).runLongMemEval,
};

const loadReport = () => import('../eval/report.js');

/** QA mode's grader on the model configured in MEMCUBE_LLM_*. */
async function qaGrader(): Promise<QaGrader> {
  const [{ createQaGrader }, { createLanguageModel, llmConfigFromEnv }] = await Promise.all([
    import('../eval/qa.js'),
    import('../llm/model.js'),
  ]);
  return createQaGrader({ answer: createLanguageModel(llmConfigFromEnv()) });
}

const UNITS = {
  locomo: 'conversations',
  longmemeval: 'questions',
} as const;

function addRunCommand(parent: Command, benchmark: EvalResults['benchmark'], description: string): void {
  parent
    .command(benchmark)
    .description(description)
    .requiredOption('--data <file>', 'the dataset file (.json or .json.gz)')
    .addOption(
      new Option('--retriever <name>', 'channels: bm25 (lexical), vector, or hybrid (memcube default)')
        .choices([...RETRIEVERS])
        .default('hybrid'),
    )
    .option('-o, --out <dir>', `output directory (default: .eval-out/${benchmark}-<retriever>)`)
    .option('--limit <n>', `only the first N ${UNITS[benchmark]}`, positiveInt)
    .option('--cache <path>', `embedding cache database (default: ${defaultEmbeddingCachePath()})`)
    .option('--no-cache', 'embed everything afresh and keep nothing on disk')
    .option(
      '--qa',
      'also answer each question from context() with the LLM in MEMCUBE_LLM_BASE_URL / _MODEL / _API_KEY and grade it (J, F1, BLEU-1)',
    )
    .addHelpText(
      'after',
      '\nThe embedder is the global --embedder flag (local, none, openai-compatible).\n' +
        `Writes DIR/results.json, DIR/report.md and DIR/recall.svg.\n` +
        `Example:\n  memcube eval ${benchmark} --data ../shared/datasets/... --retriever bm25 --embedder none --out .eval-out/${benchmark}-bm25`,
    )
    .action(async (flags: RunFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions & RunFlags;
      const base = createEmbedder(embedderFromFlag(g.embedder));
      const qa = flags.qa ? await qaGrader() : undefined;
      const run = await RUNNERS[benchmark]();
      const cachePath = flags.cache === false ? null : (flags.cache ?? defaultEmbeddingCachePath());
      const evalEmbedder = openEvalEmbedder(base, cachePath);
      let results: EvalResults;
      try {
        results = await withProgress(
          `${benchmark}: turns ingested + questions answered`,
          g.json,
          (onProgress) =>
            run({
              data: flags.data,
              retriever: flags.retriever,
              embedder: evalEmbedder.embedder,
              embeddingCache: evalEmbedder.cachePath,
              limit: flags.limit,
              qa,
              version: VERSION,
              onProgress,
              ...(g.config ? { memory: readConfigFile(g.config) } : {}),
            }),
        );
      } finally {
        await evalEmbedder.close();
      }
      const out = flags.out ?? path.join('.eval-out', `${benchmark}-${flags.retriever}`);
      const resultsFile = writeResults(out, results);
      const { labelRuns, summaryTable, writeReport } = await loadReport();
      const { report, chart } = await writeReport(out, labelRuns([{ dir: out, results }]));
      if (g.json) {
        print(JSON.stringify(results, null, 2));
        return;
      }
      print(summaryTable(results));
      print(
        `\ningest ${results.timing.ingest_s} s, query p50 ${results.timing.query_p50_ms} ms, p95 ${results.timing.query_p95_ms} ms`,
      );
      process.stderr.write(`wrote ${resultsFile}, ${report}, ${chart}\n`);
    });
}

/** `memcube eval locomo | longmemeval | report`: retrieval quality, measured offline. */
export function registerEvalCommands(program: Command): void {
  const evalCommand = program
    .command('eval')
    .description('measure retrieval quality on LoCoMo and LongMemEval (offline; --qa adds LLM answers)');
  addRunCommand(
    evalCommand,
    'locomo',
    'LoCoMo: each conversation in a fresh cube; evidence-turn recall at k, at token budgets, nDCG, MRR',
  );
  addRunCommand(
    evalCommand,
    'longmemeval',
    "LongMemEval: each question's haystack in a fresh cube; answer-session and answer-turn recall",
  );
  evalCommand
    .command('report')
    .description('one report and recall chart over several runs of the same benchmark (one line per run)')
    .argument('<dirs...>', 'directories written by memcube eval locomo / longmemeval')
    .option('-o, --out <dir>', 'where to write report.md and recall.svg', path.join('.eval-out', 'report'))
    .action(async (dirs: string[], flags: { out: string }) => {
      const runs = dirs.map((dir) => ({ dir, results: readResults(dir) }));
      const benchmarks = [...new Set(runs.map((r) => r.results.benchmark))];
      if (benchmarks.length > 1) {
        throw new UsageError(
          `the runs are of different benchmarks (${benchmarks.join(', ')}); report one benchmark at a time`,
          'dirs',
        );
      }
      const { labelRuns, writeReport } = await loadReport();
      const { report, chart } = await writeReport(flags.out, labelRuns(runs));
      print(`wrote ${report} and ${chart}`);
    });
}
