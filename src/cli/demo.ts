import fs from 'node:fs';
import { z } from 'zod';
import { messageSchema } from '../core/schemas.js';
import type { MemoryVersion, SearchHit } from '../core/types.js';
import type { MemoryOS } from '../os/memory-os.js';
import type { ContextPack } from '../retrieve/context.js';
import { formatHistory, formatHits } from './format.js';

const demoFileSchema = z.object({
  sessions: z.array(z.object({ id: z.string(), messages: z.array(messageSchema) })),
});

const DEMO_FILE = new URL('../../data/demo-conversation.json', import.meta.url);

const QUERIES = [
  'Where is Maya moving, and why?',
  'What is Biscuit afraid of?',
  'dietary restrictions and allergies',
];

const QUESTION = 'What should I know before planning a dinner with Maya?';
const BUDGET = 300;

/** What the demo did, for `--json` and for the walkthrough it prints. */
export interface DemoResult {
  database: string;
  embedder: string;
  cube: string;
  turns: number;
  sessions: number;
  ingestSeconds: number;
  searches: Array<{ query: string; hits: SearchHit[] }>;
  context: { question: string; pack: ContextPack };
  /** The allergy memory, edited: both versions kept. */
  update: { id: string; history: MemoryVersion[] } | null;
}

/** Ingests the bundled conversation and goes through search, context, update and history. */
export async function runDemo(os: MemoryOS): Promise<DemoResult> {
  const demo = demoFileSchema.parse(JSON.parse(fs.readFileSync(DEMO_FILE, 'utf8')));
  const cube = await os.cube('demo');
  const started = performance.now();
  let turns = 0;
  for (const session of demo.sessions) {
    const { ids } = await cube.add(session.messages, { sessionId: session.id, userId: 'maya' });
    turns += ids.length;
  }
  const ingestSeconds = Number(((performance.now() - started) / 1000).toFixed(2));
  const searches: DemoResult['searches'] = [];
  for (const query of QUERIES) searches.push({ query, hits: await cube.search(query, { limit: 3 }) });
  const pack = await cube.context(QUESTION, { tokenBudget: BUDGET });

  let update: DemoResult['update'] = null;
  const [allergy] = await cube.search('penicillin allergy', { limit: 1 });
  if (allergy) {
    await cube.update(allergy.item.id, {
      content: `${allergy.item.content} (Confirmed by her doctor: also allergic to amoxicillin.)`,
    });
    update = { id: allergy.item.id, history: await cube.history(allergy.item.id) };
  }
  return {
    database: os.path,
    embedder: os.embedderId,
    cube: cube.name,
    turns,
    sessions: demo.sessions.length,
    ingestSeconds,
    searches,
    context: { question: QUESTION, pack },
    update,
  };
}

/** The demo as a walkthrough to read. */
export function formatDemo(demo: DemoResult): string {
  const lines = [
    `memcube demo — database ${demo.database}, embedder ${demo.embedder}`,
    `Ingested ${demo.turns} turns from ${demo.sessions} sessions into cube '${demo.cube}' in ${demo.ingestSeconds.toFixed(2)} s.\n`,
  ];
  for (const { query, hits } of demo.searches) lines.push(`search: "${query}"`, formatHits(hits), '');
  const { question, pack } = demo.context;
  lines.push(
    `context: "${question}" (budget ${pack.tokenBudget} tokens, used ${pack.tokens}, ${pack.tokenizer})`,
    pack.text,
    '',
  );
  if (demo.update) {
    lines.push(
      `update + history of ${demo.update.id}: the old version is kept`,
      formatHistory(demo.update.history),
      '',
    );
  }
  lines.push(
    'Try it yourself: memcube add "I love hiking" --cube me   then   memcube search "hobbies" --cube me',
  );
  return lines.join('\n');
}
