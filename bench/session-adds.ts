/**
 * Single-turn adds to one session of a SQLite cube, `--embedder none`, so that what is timed is
 * deriving a turn's keys and the store's write: the session tail read twice around its stamp,
 * and the stamp checked in the write transaction (`SessionStamp`). Milliseconds a turn, after 50
 * warm-up adds to another session.
 *
 *   npx tsx bench/session-adds.ts [--turns 1000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryOS } from '../src/os/memory-os.js';

const { values } = parseArgs({ options: { turns: { type: 'string', default: '1000' } } });
const turns = Number(values.turns);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-session-adds-'));
const memory = await MemoryOS.open({ path: path.join(dir, 'm.db'), embedder: 'none' });
try {
  const cube = await memory.cube('bench');
  for (let i = 0; i < 50; i++) await cube.add([{ content: `warm-up ${i}` }], { sessionId: 'warm-up' });
  const started = performance.now();
  for (let i = 0; i < turns; i++) {
    await cube.add([{ content: `Turn number ${i} about topic ${i % 17}.`, speaker: 'Bob' }], {
      sessionId: 's1',
    });
  }
  console.log(
    `${turns} single-turn adds to one session: ${((performance.now() - started) / turns).toFixed(3)} ms a turn`,
  );
} finally {
  await memory.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
