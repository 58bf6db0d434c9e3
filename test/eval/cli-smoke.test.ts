import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCOMO, LONGMEMEVAL } from '../../src/eval/benchmarks.js';
import type { EvalResults } from '../../src/eval/results.js';
import { CliSandbox, expectMemcubeError, expectMemcubeUsageError, expectUsageError } from '../cli/helpers.js';
import { LOCOMO_MINI, LONGMEMEVAL_MINI } from './fixtures.js';

// The CI smoke: both benchmark commands and the report, through the built binary, on the mini datasets.
describe('memcube eval (built CLI, mini datasets)', () => {
  let sb: CliSandbox;
  beforeAll(() => {
    sb = new CliSandbox();
  });
  afterAll(() => sb.cleanup());

  const read = (dir: string): EvalResults =>
    JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8'));

  function expectOutputs(dir: string, metricKeys: readonly string[]): EvalResults {
    const results = read(dir);
    expect(Object.keys(results)).toEqual([
      'benchmark',
      'data',
      'config',
      'questions',
      'metrics',
      'timing',
      'data_notes',
      'environment',
    ]);
    expect(Object.keys(results.metrics.overall)).toEqual(['count', ...metricKeys]);
    for (const group of Object.values(results.metrics.byCategory)) {
      expect(Object.keys(group)).toEqual(['count', ...metricKeys]);
    }
    expect(Object.keys(results.timing)).toEqual(['ingest_s', 'query_p50_ms', 'query_p95_ms', 'total_s']);
    expect(fs.readFileSync(path.join(dir, 'report.md'), 'utf8')).toContain('## By category');
    expect(fs.readFileSync(path.join(dir, 'recall.svg'), 'utf8')).toMatch(/^<svg[^>]*>/);
    return results;
  }

  it('eval locomo --retriever bm25 --embedder none writes results.json, report.md and the chart', () => {
    const out = sb.path('locomo-bm25');
    const result = sb.ok(['eval', 'locomo', '--data', LOCOMO_MINI, '--retriever', 'bm25', '--out', out], {
      db: null,
    });
    expect(result.stdout).toMatch(/^\s+n\s+any@5/);
    expect(result.stdout).toMatch(/\noverall\s+6\s+0\.833/);
    expect(result.stderr).toContain(`wrote ${path.join(out, 'results.json')}`);
    const results = expectOutputs(out, LOCOMO.metricKeys);
    expect(results).toMatchObject({
      benchmark: 'locomo',
      data: LOCOMO_MINI,
      config: { retriever: 'bm25', channels: ['lexical'], embedder: 'none', embeddingCache: null },
    });
    expect(Object.keys(results.metrics.byCategory)).toEqual([
      'multi-hop',
      'temporal',
      'open-domain',
      'single-hop',
    ]);
  });

  it('eval longmemeval (hybrid, local embedder) fills the embedding cache it is given', () => {
    const out = sb.path('lme-hybrid');
    const cache = sb.path('cache/embeddings.db');
    sb.ok(['eval', 'longmemeval', '--data', LONGMEMEVAL_MINI, '--cache', cache, '--out', out], {
      db: null,
      embedder: 'local',
    });
    const results = expectOutputs(out, LONGMEMEVAL.metricKeys);
    expect(results.config).toMatchObject({
      retriever: 'hybrid',
      // The sandbox's plain retrieval config runs no second round.
      channels: ['lexical', 'vector', 'temporal'],
      embedder: 'local:use-lite',
      embeddingCache: cache,
    });
    expect(results.metrics.overall.count).toBe(3);
    expect(fs.statSync(cache).size).toBeGreaterThan(0);
  });

  it('--json prints results.json; --limit takes the first N', () => {
    const out = sb.path('lme-bm25');
    const printed = sb.json<EvalResults>(
      [
        'eval',
        'longmemeval',
        '--data',
        LONGMEMEVAL_MINI,
        '--retriever',
        'bm25',
        '--limit',
        '2',
        '--out',
        out,
      ],
      { db: null },
    );
    expect(printed).toEqual(read(out));
    expect(printed.data_notes).toMatchObject({ questions_total: 2, questions_scored: 2 });
  });

  it('eval report draws one line per run', () => {
    const out = sb.path('report');
    sb.ok(['eval', 'locomo', '--data', LOCOMO_MINI, '--out', sb.path('locomo-hybrid')], { db: null });
    const result = sb.ok(['eval', 'report', sb.path('locomo-bm25'), sb.path('locomo-hybrid'), '--out', out], {
      db: null,
    });
    expect(result.stdout).toContain('recall.svg');
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('| bm25 | 6 |');
    expect(report).toContain('| hybrid | 6 |');
    // The config table says what each run's --config changed (the sandbox's plain retrieval).
    expect(report).toContain('settings changed |');
    expect(report).toMatch(/^\| hybrid \| hybrid \|.*\| `\{"ingest":\{[^`]*\},"retrieval":\{[^`]*\}` \|$/m);
    // Only what the file changed: no default of a section it leaves out, or of a key it does not set.
    expect(report).not.toContain('"limits"');
    expect(report).not.toContain('"endedFactor"');
    const svg = fs.readFileSync(path.join(out, 'recall.svg'), 'utf8');
    expect(svg).toContain('bm25');
    expect(svg).toContain('hybrid');
  });

  it('explains what is wrong', () => {
    // Options that clash are a command line to fix: exit 2.
    expectMemcubeUsageError(
      sb.run(['eval', 'locomo', '--data', LOCOMO_MINI, '--retriever', 'vector', '--out', sb.path('x')], {
        db: null,
      }),
      '--retriever vector needs an embedder',
    );
    expectMemcubeError(
      sb.run(['eval', 'locomo', '--data', sb.path('missing.json')], { db: null }),
      'missing.json: no such file',
    );
    expectMemcubeError(
      sb.run(['eval', 'locomo', '--data', LONGMEMEVAL_MINI, '--out', sb.path('x')], { db: null }),
      'not a valid LoCoMo file',
    );
    expectMemcubeUsageError(
      sb.run(['eval', 'report', sb.path('locomo-bm25'), sb.path('lme-bm25')], { db: null }),
      'different benchmarks',
    );
    expectUsageError(
      sb.run(['eval', 'locomo'], { db: null }),
      "required option '--data <file>' not specified",
    );
    expectUsageError(
      sb.run(['eval', 'locomo', '--data', LOCOMO_MINI, '--retriever', 'bm42'], { db: null }),
      "argument 'bm42' is invalid",
    );
  });
});
