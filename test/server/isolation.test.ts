/**
 * Tenant isolation, route by route and tool by tool: a key of tenant globex aims every cube and
 * memory endpoint, and every MCP tool, at tenant acme's cube and item. Each answer must be the
 * same 404 a cube that exists nowhere gets, and acme's data must be unchanged afterwards.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problem, startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
let acme: string;
let globex: string;
let secretId: string;

/** What acme can see of its own cube: used to check that nothing changed. */
async function acmeSnapshot(): Promise<string> {
  const list = await t.call('GET', '/v1/cubes/vault/memories?statuses=active,deleted', { key: acme });
  const history = await t.call('GET', `/v1/cubes/vault/memories/${secretId}/history`, { key: acme });
  const shares = await t.call('GET', '/v1/cubes/vault/shares', { key: acme });
  return JSON.stringify([list.body, history.body, shares.body]);
}

beforeAll(async () => {
  t = await startTestServer();
  acme = (await t.keyFor('acme')).key;
  globex = (await t.keyFor('globex')).key;
  for (const [key, text] of [
    [acme, 'the vault code is walrus-42'],
    [globex, 'globex keeps its own vault'],
  ] as const) {
    expect((await t.call('POST', '/v1/cubes', { key, body: { name: 'vault' } })).status).toBe(201);
    const added = await t.call('POST', '/v1/cubes/vault/memories', {
      key,
      body: { messages: [{ content: text }], sessionId: 's1' },
    });
    expect(added.status).toBe(201);
    if (key === acme) secretId = added.body.ids[0];
  }
});

afterAll(async () => {
  await t.close();
});

describe('every REST endpoint keeps tenants apart', () => {
  // Each request names acme's cube as `acme:vault`, or acme's item inside globex's own `vault`.
  const requests = (): Array<[string, string, unknown?]> => [
    ['GET', '/v1/cubes/acme:vault'],
    ['DELETE', '/v1/cubes/acme:vault'],
    ['GET', '/v1/cubes/acme:vault/shares'],
    ['PUT', '/v1/cubes/acme:vault/shares/tenant/globex', { permission: 'admin' }],
    ['DELETE', '/v1/cubes/acme:vault/shares/tenant/globex'],
    ['POST', '/v1/cubes/acme:vault/memories', { messages: [{ content: 'planted' }] }],
    ['GET', '/v1/cubes/acme:vault/memories'],
    ['POST', '/v1/cubes/acme:vault/search', { query: 'walrus vault code' }],
    ['POST', '/v1/cubes/acme:vault/context', { query: 'walrus vault code', tokenBudget: 500 }],
    ['GET', `/v1/cubes/acme:vault/memories/${secretId}`],
    ['PATCH', `/v1/cubes/acme:vault/memories/${secretId}`, { content: 'overwritten' }],
    ['DELETE', `/v1/cubes/acme:vault/memories/${secretId}`],
    ['POST', `/v1/cubes/acme:vault/memories/${secretId}/restore`],
    ['GET', `/v1/cubes/acme:vault/memories/${secretId}/history`],
    ['GET', `/v1/cubes/vault/memories/${secretId}`],
    ['PATCH', `/v1/cubes/vault/memories/${secretId}`, { content: 'overwritten' }],
    ['DELETE', `/v1/cubes/vault/memories/${secretId}`],
    ['POST', `/v1/cubes/vault/memories/${secretId}/restore`],
    ['GET', `/v1/cubes/vault/memories/${secretId}/history`],
    ['GET', `/v1/audit?cube=acme:vault`],
  ];

  it('answers 404 not-found to each, exactly as for a cube or item that does not exist, and changes nothing', async () => {
    const before = await acmeSnapshot();
    for (const [method, path, body] of requests()) {
      const reply = await t.call(method, path, { key: globex, ...(body === undefined ? {} : { body }) });
      const doc = problem(reply, 404, 'not-found');
      expect(reply.text, `${method} ${path}`).not.toContain('walrus');
      // A cube that exists nowhere gets the same words, so the answer tells nothing.
      const nowhere = path.replace('acme:vault', 'acme:no-such-cube');
      if (nowhere !== path) {
        const other = await t.call(method, nowhere, { key: globex, ...(body === undefined ? {} : { body }) });
        expect(problem(other, 404, 'not-found').detail, `${method} ${path}`).toBe(
          String(doc.detail).replace('acme:vault', 'acme:no-such-cube'),
        );
      }
    }
    expect(await acmeSnapshot()).toBe(before);
  });

  it('never lists, searches or audits the other tenant from its own routes', async () => {
    const cubes = await t.call('GET', '/v1/cubes', { key: globex });
    expect(cubes.body.map((c: { ref: string }) => c.ref)).toEqual(['vault']);
    const search = await t.call('POST', '/v1/cubes/vault/search', {
      key: globex,
      body: { query: 'walrus vault code' },
    });
    expect(search.status).toBe(200);
    expect(search.text).not.toContain('walrus');
    const audit = await t.call('GET', `/v1/audit?item=${secretId}`, { key: globex });
    expect(audit.status).toBe(200);
    expect(audit.body).toEqual([]);
  });
});

describe('every MCP tool keeps tenants apart', () => {
  it('answers each tool aimed at the other tenant with an unknown cube or item error, and changes nothing', async () => {
    const before = await acmeSnapshot();
    const client = new Client({ name: 'isolation-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${globex}` } },
      }),
    );
    try {
      const calls: Array<[string, Record<string, unknown>]> = [
        ['remember', { text: 'planted', cube: 'acme:vault' }],
        ['recall', { query: 'walrus vault code', cube: 'acme:vault' }],
        ['get_context', { query: 'walrus vault code', cube: 'acme:vault' }],
        ['list_memories', { cube: 'acme:vault' }],
        ['forget', { id: secretId, cube: 'acme:vault' }],
        ['update_memory', { id: secretId, text: 'planted', cube: 'acme:vault' }],
        ['update_memory', { id: secretId, text: 'planted', cube: 'vault' }],
        ['memory_history', { id: secretId, cube: 'acme:vault' }],
        ['forget', { id: secretId, cube: 'vault' }],
        ['memory_history', { id: secretId, cube: 'vault' }],
      ];
      for (const [name, args] of calls) {
        const result = (await client.callTool({ name, arguments: args })) as {
          content: Array<{ text: string }>;
          isError?: boolean;
        };
        const text = result.content[0]?.text ?? '';
        expect(result.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
        expect(text).toMatch(/unknown cube|no item/);
        expect(text).not.toContain('walrus');
      }
      const resources = await client.listResources();
      expect(JSON.stringify(resources)).not.toContain('acme');
    } finally {
      await client.close();
    }
    expect(await acmeSnapshot()).toBe(before);
  });
});
