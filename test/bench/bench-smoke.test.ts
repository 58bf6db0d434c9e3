import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/bench/results.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-bench-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// The code path only: one tiny size on generated text; no figure is judged, only its shape.
describe('memcube bench', () => {
  it('runs memcube at 1,000 items, writes bench.json and the chart, and keeps the database', () => {
    const out = path.join(work, 'out');
    const result = spawnSync(
      process.execPath,
      [
        CLI,
        '--json',
        'bench',
        '--sizes',
        '1000',
        '--queries',
        '20',
        '--warmup',
        '2',
        '--add-samples',
        '10',
        '--path-samples',
        '20',
        '--datasets',
        path.join(work, 'no-datasets'),
        '--cache',
        path.join(work, 'cache.db'),
        '--out',
        out,
        '--keep',
      ],
      { encoding: 'utf8', timeout: 240_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'bench.json'), 'utf8')) as BenchReport;
    expect(JSON.parse(result.stdout).results).toEqual(report.results);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.corpus).toBe('generated sentences');
    expect(report.embedding.ms_per_text).toBeGreaterThan(0);
    expect(report.results).toHaveLength(1);
    const [row] = report.results;
    expect(row).toMatchObject({ system: 'memcube', size: 1000 });
    // The index is forced on for the recall check even below the size where search uses it.
    expect(row?.ann_recall_at_10).toBeGreaterThan(0.5);
    expect(row?.ann_recall_at_10).toBeLessThanOrEqual(1);
    expect(row?.ann_build_ms).toBeGreaterThanOrEqual(0);
    for (const figure of [
      row?.ingest_per_s,
      row?.add_path_per_s,
      row?.add_p50_ms,
      row?.search_p50_ms,
      row?.filtered_search_p50_ms,
      row?.context_p50_ms,
      row?.rss_mb,
      row?.db_mb,
    ]) {
      expect(figure).toBeGreaterThan(0);
    }
    expect(row?.search_p50_ms).toBeLessThanOrEqual(row?.search_p99_ms ?? 0);
    expect(row?.filtered_search_p50_ms).toBeLessThanOrEqual(row?.filtered_search_p95_ms ?? 0);
    expect(fs.readFileSync(path.join(out, 'bench.svg'), 'utf8')).toContain('<svg');
    // --keep: the cube's database stays for inspection.
    expect(fs.statSync(path.join(out, 'databases', 'memcube-1000', 'memcube.db')).size).toBeGreaterThan(0);
  }, 300_000);
});
