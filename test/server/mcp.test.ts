import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/helpers.js';
import { startTestServer } from './helpers.js';

const TOOLS = [
  'forget',
  'get_context',
  'list_memories',
  'memory_history',
  'recall',
  'remember',
  'update_memory',
];

type ToolText = { content: Array<{ type: string; text: string }>; isError?: boolean };
const text = (result: unknown): string => (result as ToolText).content[0]?.text ?? '';

/**
 * The tool round trip every transport must support. `sessionFactor`: the factor the default
 * config's session boost gives the only session with a hit (the strongest, × 1.2); the test
 * server runs plain retrieval, with no factors.
 */
async function exercise(client: Client, sessionFactor: number | undefined): Promise<void> {
  const tools = await client.listTools();
  expect(tools.tools.map((t) => t.name).sort()).toEqual(TOOLS);
  for (const tool of tools.tools) expect(tool.description?.length).toBeGreaterThan(20);

  const added = JSON.parse(
    text(
      await client.callTool({
        name: 'remember',
        arguments: { text: 'Alice keeps bees in Lyon', sessionId: 's1' },
      }),
    ),
  ) as { ids: string[] };
  expect(added.ids).toHaveLength(1);
  const id = added.ids[0] as string;
  await client.callTool({
    name: 'remember',
    arguments: { messages: [{ content: 'Bob plays the oboe', speaker: 'Bob' }] },
  });

  const hits = JSON.parse(text(await client.callTool({ name: 'recall', arguments: { query: 'bees' } })));
  expect(hits[0].id).toBe(id);
  expect(hits[0].channels.lexical).toBe(1);
  expect(hits[0].sessionBoost).toBe(sessionFactor);
  expect(hits[0].focus).toBeUndefined();
  const badTime = (await client.callTool({
    name: 'recall',
    arguments: { query: 'bees', asOf: 'last tuesday' },
  })) as ToolText;
  expect(badTime.isError).toBe(true);
  expect(text(badTime)).toContain('asOf');
  expect(
    text(await client.callTool({ name: 'get_context', arguments: { query: 'Lyon bees', tokenBudget: 200 } })),
  ).toContain('Lyon');
  const page = JSON.parse(text(await client.callTool({ name: 'list_memories', arguments: {} })));
  expect(page.items).toHaveLength(2);
  const updated = JSON.parse(
    text(
      await client.callTool({
        name: 'update_memory',
        arguments: { id, at: '2024-01-10T09:00:00Z', until: '2024-06-01T00:00:00Z', tags: ['bees'] },
      }),
    ),
  );
  expect(updated).toMatchObject({
    id,
    version: 2,
    content: 'Alice keeps bees in Lyon',
    tags: ['bees'],
    at: '2024-01-10T09:00:00.000Z',
    until: '2024-06-01T00:00:00.000Z',
  });
  expect(
    text(await client.callTool({ name: 'get_context', arguments: { query: 'Lyon bees', tokenBudget: 200 } })),
  ).toContain('Alice keeps bees in Lyon (until 2024-06-01)');
  const ended = JSON.parse(
    text(
      await client.callTool({ name: 'recall', arguments: { query: 'bees', asOf: '2024-07-01T00:00:00Z' } }),
    ),
  );
  expect(ended[0]).toMatchObject({ id, until: '2024-06-01T00:00:00.000Z', ended: 0.5 });
  const crossed = (await client.callTool({
    name: 'update_memory',
    arguments: { id, until: '2023-01-01T00:00:00Z' },
  })) as ToolText;
  expect(crossed.isError).toBe(true);
  // Errors name the tool's own arguments.
  expect(text(crossed)).toContain("until: 2023-01-01T00:00:00.000Z is not after the memory's event time");
  const blankText = (await client.callTool({
    name: 'update_memory',
    arguments: { id, text: ' ' },
  })) as ToolText;
  expect([blankText.isError, text(blankText)]).toEqual([true, expect.stringMatching(/^text: /)]);
  const nothing = (await client.callTool({ name: 'update_memory', arguments: { id } })) as ToolText;
  expect([nothing.isError, text(nothing)]).toEqual([true, 'nothing to update: give text, tags, at or until']);
  const cleared = JSON.parse(
    text(await client.callTool({ name: 'update_memory', arguments: { id, until: null, tags: [] } })),
  );
  expect(cleared).toMatchObject({ version: 3, tags: [], until: null });
  await client.callTool({ name: 'forget', arguments: { id } });
  const history = JSON.parse(text(await client.callTool({ name: 'memory_history', arguments: { id } })));
  expect(history.map((v: { operation: string }) => v.operation)).toEqual([
    'add',
    'update',
    'update',
    'delete',
  ]);

  const blank = (await client.callTool({
    name: 'remember',
    arguments: { text: '   ', cube: 'never-made' },
  })) as ToolText;
  expect(blank.isError).toBe(true);
  const cubesNow = await client.readResource({ uri: 'memcube://cubes' });
  expect((cubesNow.contents[0] as { text: string }).text).not.toContain('never-made');

  const bad = (await client.callTool({ name: 'forget', arguments: { id: 'not-an-id' } })) as ToolText;
  expect(bad.isError).toBe(true);
  expect(text(bad)).toContain('not a memory id');

  const resources = await client.listResources();
  expect(resources.resources.map((r) => r.uri)).toContain('memcube://cubes');
  // An unknown cube is the caller's parameter to fix (-32602, SEP-2164), not an internal error.
  await expect(client.readResource({ uri: 'memcube://cubes/nope' })).rejects.toMatchObject({
    code: -32602,
    message: expect.stringContaining("unknown cube 'nope'"),
  });
  for (const uri of ['memcube://cubes/bad%20name', 'memcube://cubes/%E0%A4%A']) {
    await expect(client.readResource({ uri }), uri).rejects.toMatchObject({ code: -32602 });
  }
  const cubes = await client.readResource({ uri: 'memcube://cubes' });
  expect(JSON.parse((cubes.contents[0] as { text: string }).text)).toEqual([
    { ref: 'default', permission: 'admin' },
  ]);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-mcp-'));
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('MCP', () => {
  it('works over stdio: memcube mcp with the SDK client', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, '--db', path.join(dir, 'stdio.db'), '--embedder', 'none', 'mcp'],
      stderr: 'pipe',
    });
    const client = new Client({ name: 'memcube-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      await exercise(client, 1.2);
    } finally {
      await client.close();
    }
  });

  it('works over streamable HTTP on a running server, with a key, in that key’s tenant', async () => {
    const t = await startTestServer();
    try {
      const { key } = await t.keyFor('acme', ['admin']);
      const connect = async (authorization?: string) => {
        const client = new Client({ name: 'memcube-test', version: '1.0.0' });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
            requestInit: { headers: authorization ? { authorization } : {} },
          }),
        );
        return client;
      };
      const client = await connect(`Bearer ${key}`);
      try {
        await exercise(client, undefined);
      } finally {
        await client.close();
      }
      // What the MCP tools wrote is in the key's tenant, visible over REST.
      const listed = await t.call('GET', '/v1/cubes/default/memories?statuses=active,deleted', { key });
      expect(listed.body.items).toHaveLength(2);
      const other = await t.keyFor('globex', ['read']);
      const foreign = await connect(`Bearer ${other.key}`);
      try {
        const result = (await foreign.callTool({
          name: 'recall',
          arguments: { query: 'bees', cube: 'acme:default' },
        })) as ToolText;
        expect(result.isError).toBe(true);
        expect(text(result)).toContain('unknown cube');
      } finally {
        await foreign.close();
      }
      await expect(connect()).rejects.toThrow();
    } finally {
      await t.close();
    }
  });
});
