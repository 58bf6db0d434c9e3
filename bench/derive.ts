/**
 * Cost of deriving keys at ingest (previous-turn context, resolved dates, entities), per turn,
 * excluding embedding and storage.
 *
 *   npx tsx bench/derive.ts [--file ../shared/datasets/locomo/locomo_dev5.json]
 *   npx tsx bench/derive.ts --file ../shared/datasets/longmemeval/longmemeval_s_dev100.json.gz
 *
 * Uses the LoCoMo turns, or the haystack turns of the first three LongMemEval questions (long chat
 * turns), when the dataset is present, else generated chat turns.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { DEFAULT_INGEST_CONFIG } from '../src/core/config.js';
import { deriveKeys, type TurnText } from '../src/ingest/derive/derive-keys.js';

const { values } = parseArgs({
  options: { file: { type: 'string', default: '../shared/datasets/locomo/locomo_dev5.json' } },
});

function loadTurns(): { turns: TurnText[]; source: string } {
  if (fs.existsSync(values.file) && values.file.endsWith('.json.gz')) {
    const data = JSON.parse(zlib.gunzipSync(fs.readFileSync(values.file)).toString('utf8')) as Array<{
      haystack_sessions: Array<Array<{ role: string; content: string }>>;
    }>;
    const turns = data
      .slice(0, 3)
      .flatMap((q) => q.haystack_sessions.flat())
      .map((t) => ({ speaker: null, role: t.role, content: t.content }));
    return { turns, source: values.file };
  }
  if (fs.existsSync(values.file)) {
    const data = JSON.parse(fs.readFileSync(values.file, 'utf8')) as Array<{
      conversation: Record<string, unknown>;
    }>;
    const turns: TurnText[] = [];
    for (const c of data) {
      for (const [key, value] of Object.entries(c.conversation)) {
        if (!/^session_\d+$/.test(key)) continue;
        for (const t of value as Array<{ speaker: string; text: string }>)
          turns.push({ speaker: t.speaker, role: 'user', content: t.text });
      }
    }
    return { turns, source: values.file };
  }
  const turns = Array.from({ length: 3000 }, (_, i) => ({
    speaker: i % 2 ? 'Sam' : 'Alex',
    role: 'user',
    content: `Yesterday I met Jordan in Lisbon and we talked about the new project for ${i % 7} hours.`,
  }));
  return { turns, source: 'generated turns' };
}

const { turns, source } = loadTurns();
const at = Date.UTC(2023, 4, 8, 13, 56);
const config = { ...DEFAULT_INGEST_CONFIG, dateKeys: true };
for (const turn of turns.slice(0, 200)) deriveKeys(turn, at, [], config); // warm-up
const samples: number[] = [];
const before: TurnText[] = [];
for (const turn of turns) {
  const start = performance.now();
  deriveKeys(turn, at, before, config);
  samples.push(performance.now() - start);
  before.push(turn);
}
samples.sort((a, b) => a - b);
const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0;
console.log(
  JSON.stringify(
    {
      source,
      turns: turns.length,
      mean_ms: +mean.toFixed(3),
      p50_ms: +pct(0.5).toFixed(3),
      p95_ms: +pct(0.95).toFixed(3),
      p99_ms: +pct(0.99).toFixed(3),
    },
    null,
    2,
  ),
);
