/**
 * Fires malformed, oversized, hostile and unauthorised requests at a memcube server and checks
 * every answer is a 4xx problem document and the data is unchanged.
 *
 *   npx tsx bench/abuse.ts                       # starts its own server on a temporary database
 *   npx tsx bench/abuse.ts --url http://127.0.0.1:8787 --admin-key "$MEMCUBE_ADMIN_KEY"
 */
import { parseArgs } from 'node:util';
import { MemoryOS } from '../src/os/memory-os.js';
import { startServer } from '../src/server/serve.js';
import { runAbuseChecks } from './abuse-checks.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'admin-key': { type: 'string', default: process.env.MEMCUBE_ADMIN_KEY },
  },
});

const adminKey = values['admin-key'] ?? 'abuse-bench-admin-key-0123456789';
const own = values.url
  ? null
  : await startServer({
      memory: await MemoryOS.open({ path: ':memory:', embedder: 'none', actor: 'server' }),
      port: 0,
      host: '127.0.0.1',
      adminKey,
      rateLimit: null,
    });
const report = await runAbuseChecks({ url: values.url ?? (own?.url as string), adminKey });
await own?.close();
for (const f of report.failures) process.stdout.write(`FAIL ${f.name}: ${f.reason}\n`);
process.stdout.write(`${report.checks - report.failures.length}/${report.checks} abuse checks passed\n`);
process.exitCode = report.failures.length === 0 ? 0 : 1;
