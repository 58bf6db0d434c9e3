/**
 * Search latency of a small cube, alone in its file or beside a big one: the first LoCoMo dev
 * conversation added to a cube, then its questions searched (`search` top 10, default settings,
 * offline embedder) three times after one untimed pass, which also caches the query vectors.
 *
 *   node dist/cli/main.js bench --sizes 100000 --keep --out /tmp/b
 *   npx tsx bench/small-cube.ts                                                      # alone
 *   npx tsx bench/small-cube.ts --beside /tmp/b/databases/memcube-100000/memcube.db  # beside (works on a copy)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadLocomo } from '../src/eval/loaders/locomo.js';
import { MemoryOS } from '../src/os/memory-os.js';

const { values } = parseArgs({
  options: {
    beside: { type: 'string' },
    data: { type: 'string', default: '../shared/datasets/locomo/locomo_dev5.json' },
    rounds: { type: 'string', default: '3' },
  },
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-small-cube-'));
const file = path.join(dir, 'memcube.db');
if (values.beside) fs.copyFileSync(values.beside, file);
const [conversation] = loadLocomo(values.data);
if (!conversation) throw new Error(`--data ${values.data}: no conversation`);

const memory = await MemoryOS.open({ path: file });
try {
  const cube = await memory.cube('small');
  let turns = 0;
  for (const session of conversation.sessions) {
    const kept = session.turns.filter((t) => t.content.trim() !== '');
    await cube.add(
      kept.map((t) => ({ content: t.content, role: 'user' as const, speaker: t.speaker })),
      { sessionId: `session_${session.number}` },
    );
    turns += kept.length;
  }
  const questions = conversation.qa.map((q) => q.question);
  for (const q of questions) await cube.search(q, { limit: 10 });
  const ms: number[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const q of questions) {
      const started = performance.now();
      await cube.search(q, { limit: 10 });
      ms.push(performance.now() - started);
    }
  }
  ms.sort((a, b) => a - b);
  const at = (p: number) => (ms[Math.min(ms.length - 1, Math.floor(ms.length * p))] as number).toFixed(2);
  console.log(
    `${turns} turns, ${questions.length} questions × ${values.rounds}, ${values.beside ? `beside ${values.beside}` : 'alone'}: ` +
      `search p50 ${at(0.5)} ms, p95 ${at(0.95)} ms`,
  );
} finally {
  await memory.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
