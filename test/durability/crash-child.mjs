// Child process for crash.test.ts: adds messages to a database forever, printing each
// acknowledged id on its own line, until the parent kills it with SIGKILL.
// Usage: node crash-child.mjs <db path> <run label>
// It imports the BUILT library, the way an application would.
import { MemoryOS } from '../../dist/index.js';

const [dbPath, run = '0'] = process.argv.slice(2);
if (!dbPath) {
  process.stderr.write('usage: crash-child.mjs <db path> <run label>\n');
  process.exit(2);
}

const memory = await MemoryOS.open({ path: dbPath, embedder: 'none' });
const cube = await memory.cube('crash');

for (let i = 0; ; i++) {
  // The parent derives the content from the run label and the line number: keep them in step.
  const { ids } = await cube.add(
    { content: `crash run ${run} message ${i}` },
    { sessionId: 'crash-session' },
  );
  // A write to a pipe is synchronous on Linux: once this returns, the id has left the process.
  process.stdout.write(`${ids[0]}\n`);
}
