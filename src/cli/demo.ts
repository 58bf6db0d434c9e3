import fs from 'node:fs';
import { z } from 'zod';
import { messageSchema } from '../core/schemas.js';
import type { MemoryOS } from '../os/memory-os.js';
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

/** Ingests the bundled conversation and walks through search, context, update and history. */
export async function runDemo(os: MemoryOS, print: (line: string) => void): Promise<void> {
  const demo = demoFileSchema.parse(JSON.parse(fs.readFileSync(DEMO_FILE, 'utf8')));
  const cube = await os.cube('demo');
  const started = performance.now();
  let turns = 0;
  for (const session of demo.sessions) {
    const { ids } = await cube.add(session.messages, { sessionId: session.id, userId: 'maya' });
    turns += ids.length;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  print(`memcube demo — database ${os.path}, embedder ${os.embedderId}`);
  print(`Ingested ${turns} turns from ${demo.sessions.length} sessions into cube 'demo' in ${seconds} s.\n`);

  for (const query of QUERIES) {
    print(`search: "${query}"`);
    print(formatHits(await cube.search(query, { limit: 3 })));
    print('');
  }

  const question = 'What should I know before planning a dinner with Maya?';
  const pack = await cube.context(question, { tokenBudget: 300 });
  print(`context: "${question}" (budget 300 tokens, used ${pack.tokens}, ${pack.tokenizer})`);
  print(pack.text);
  print('');

  const [allergy] = await cube.search('penicillin allergy', { limit: 1 });
  if (allergy) {
    await cube.update(allergy.item.id, {
      content: `${allergy.item.content} (Confirmed by her doctor: also allergic to amoxicillin.)`,
    });
    print(`update + history of ${allergy.item.id}: the old version is kept`);
    print(formatHistory(await cube.history(allergy.item.id)));
    print('');
  }
  print('Try it yourself: memcube add "I love hiking" --cube me   then   memcube search "hobbies" --cube me');
}
