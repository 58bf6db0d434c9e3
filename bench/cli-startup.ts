/**
 * Wall time of short CLI commands, the start-up an agent calling `memcube` on every turn pays:
 * `--version`, `--help`, `list` and `stats` on a cube of two items (`--embedder none`, so no
 * model loads), the median of `--runs` spawns each. Run after `npm run build`; compare builds by
 * running it in each checkout.
 *
 *   npx tsx bench/cli-startup.ts [--runs 5]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const cli = path.join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-startup-'));
const db = path.join(dir, 'm.db');
const memcube = (args: string[]) => {
  const started = performance.now();
  const run = spawnSync(process.execPath, [cli, '--db', db, '--embedder', 'none', ...args], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`memcube ${args.join(' ')}: ${run.stderr}`);
  return performance.now() - started;
};
try {
  memcube(['add', 'I moved to Berlin last month']);
  memcube(['add', 'My sister lives in Oslo']);
  for (const args of [['--version'], ['--help'], ['list'], ['stats']]) {
    const times = Array.from({ length: runs }, () => memcube(args)).sort((a, b) => a - b);
    console.log(
      `${args.join(' ').padEnd(10)} median ${(times[Math.floor(runs / 2)] as number).toFixed(0)} ms`,
    );
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
