import { afterAll, beforeAll, expect, it } from 'vitest';
import { runAbuseChecks } from '../../bench/abuse-checks.js';
import { ADMIN_KEY, startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

it('answers every hostile request with a 4xx problem document and changes nothing', async () => {
  const report = await runAbuseChecks({ url: t.url, adminKey: ADMIN_KEY });
  expect(report.failures).toEqual([]);
  expect(report.checks).toBeGreaterThan(30);
});
