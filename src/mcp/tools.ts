import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { MemcubeError, withFieldRenamed } from '../core/errors.js';
import { hitFactors, MEMORY_KINDS, ROLES } from '../core/types.js';
import { type AddInput, draftEpisodes } from '../ingest/episodes.js';
import type { MemoryOS } from '../os/memory-os.js';

export interface McpOptions {
  /** The cube tools use when the call names none. */
  defaultCube: string;
  version: string;
}

const cubeArg = z
  .string()
  .optional()
  .describe('cube to use (`name`, or `owner:name` for a shared cube); defaults to the server’s cube');

/** JSON Schema has no Date, so message times are ISO strings here; the library validates them as usual. */
const messageArg = z.object({
  content: z.string().describe('what was said'),
  role: z.enum(ROLES).optional(),
  speaker: z.string().optional().describe('who said it'),
  at: z.string().optional().describe('when, ISO-8601 (default now)'),
});

/** The update patch's fields as `update_memory` names its arguments. */
const TOOL_ARGUMENT: Record<string, string> = {
  content: 'text',
  tags: 'tags',
  validFrom: 'at',
  validTo: 'until',
};

const asText = (value: unknown) => ({
  content: [
    { type: 'text' as const, text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) },
  ],
});

/**
 * The memcube MCP server for one handle: its tools act with that handle's tenant, actor and
 * permissions, exactly as the library and the REST API do.
 */
export function createMcpServer(memory: MemoryOS, options: McpOptions): McpServer {
  const server = new McpServer({ name: 'memcube', version: options.version });
  const open = (cube: string | undefined, create = false) =>
    memory.cube(cube ?? options.defaultCube, { create });

  server.registerTool(
    'remember',
    {
      title: 'Remember',
      description:
        'Store something worth remembering: one text, or conversation messages ({content, role, speaker, at}). ' +
        'Returns the ids of the stored memories. Creates the cube when it does not exist.',
      inputSchema: {
        text: z.string().optional().describe('one thing to remember'),
        messages: z.array(messageArg).optional().describe('conversation turns, oldest first'),
        sessionId: z.string().optional().describe('conversation or session the messages belong to'),
        tags: z.array(z.string()).optional(),
        cube: cubeArg,
      },
    },
    async ({ text, messages, sessionId, tags, cube }) => {
      const input = (text ?? messages) as AddInput | undefined;
      if (input === undefined || (text !== undefined && messages !== undefined)) {
        return { ...asText('give exactly one of text or messages'), isError: true };
      }
      const addOptions = { ...(sessionId ? { sessionId } : {}), ...(tags ? { tags } : {}) };
      // Checked before the cube is created, so a refused call leaves nothing behind.
      draftEpisodes(input, addOptions, memory.config.limits, Date.now());
      const result = await (await open(cube, true)).add(input, addOptions);
      return asText(result);
    },
  );

  server.registerTool(
    'recall',
    {
      title: 'Recall',
      description:
        'Search memories for a query; returns the best matches with their ids, scores, the channels that found them and the factors that moved them (focus on the person asked about, turns that ask, strong sessions).',
      inputSchema: {
        query: z.string().min(1).describe('what to look for, in plain words'),
        limit: z.number().int().min(1).max(100).optional().describe('how many results (default 10)'),
        asOf: z
          .string()
          .optional()
          .describe('when the question is asked, ISO-8601: "10 days ago" counts from it (default now)'),
        cube: cubeArg,
      },
    },
    async ({ query, limit, asOf, cube }) => {
      const hits = await (await open(cube)).search(query, {
        limit: limit ?? 10,
        ...(asOf === undefined ? {} : { asOf }),
      });
      return asText(
        hits.map((h) => ({
          id: h.item.id,
          content: h.item.content,
          speaker: h.item.speaker,
          at: h.item.validFrom ?? h.item.createdAt,
          // When it stopped being true, for a memory marked so.
          ...(h.item.validTo ? { until: h.item.validTo } : {}),
          score: h.score,
          // Each channel's rank of the hit: why it was found ("temporal" for the time asked about).
          channels: Object.fromEntries(Object.entries(h.channels).map(([name, found]) => [name, found.rank])),
          // What moved it after fusion, when anything did: each factor multiplied its score.
          ...hitFactors(h),
        })),
      );
    },
  );

  server.registerTool(
    'get_context',
    {
      title: 'Get context',
      description:
        'Prompt-ready memory for a question or task, within a token budget, oldest first; each line cites its memory id.',
      inputSchema: {
        query: z.string().min(1).describe('the question or task the context is for'),
        tokenBudget: z.number().int().min(50).max(200_000).optional().describe('token budget (default 2000)'),
        cube: cubeArg,
      },
    },
    async ({ query, tokenBudget, cube }) => {
      const pack = await (await open(cube)).context(query, { tokenBudget: tokenBudget ?? 2000 });
      return asText(pack.text || 'no matching memories');
    },
  );

  server.registerTool(
    'forget',
    {
      title: 'Forget',
      description:
        'Delete a memory by id (a tombstone: hidden from recall, kept in its history, restorable).',
      inputSchema: { id: z.string().describe('the memory id, or its short id'), cube: cubeArg },
    },
    async ({ id, cube }) => {
      const item = await (await open(cube)).delete(id);
      return asText({ id: item.id, status: item.status, version: item.version });
    },
  );

  server.registerTool(
    'update_memory',
    {
      title: 'Update memory',
      description:
        'Correct a memory by id: a new version, the old one kept in its history. Give new text, tags, ' +
        'when it happened (`at`), or when it stopped being true (`until`: a fact replaced by a newer one, ' +
        'as a move ends "I live in Portland"); null clears `at` or `until`.',
      inputSchema: {
        id: z.string().describe('the memory id, or its short id'),
        text: z.string().optional().describe('the corrected text'),
        tags: z.array(z.string()).optional().describe('tags replacing the old ones ([] removes them)'),
        at: z.string().nullable().optional().describe('when it happened or became true, ISO-8601'),
        until: z.string().nullable().optional().describe('when it stopped being true, ISO-8601'),
        cube: cubeArg,
      },
    },
    async ({ id, text, tags, at, until, cube }) => {
      const patch = Object.fromEntries(
        Object.entries({ content: text, tags, validFrom: at, validTo: until }).filter(
          ([, v]) => v !== undefined,
        ),
      );
      if (Object.keys(patch).length === 0) {
        return { ...asText('nothing to update: give text, tags, at or until'), isError: true };
      }
      const item = await (await open(cube)).update(id, patch).catch((err: unknown) => {
        throw withFieldRenamed(err, (field) => {
          const [, name = '', rest] = /^patch\.(\w+)(.*)$/.exec(field) ?? [];
          return TOOL_ARGUMENT[name] && `${TOOL_ARGUMENT[name]}${rest}`;
        });
      });
      return asText({
        id: item.id,
        version: item.version,
        content: item.content,
        tags: item.tags,
        at: item.validFrom ?? item.createdAt,
        until: item.validTo,
      });
    },
  );

  server.registerTool(
    'list_memories',
    {
      title: 'List memories',
      description: 'List memories in the order they were stored, a page at a time.',
      inputSchema: {
        limit: z.number().int().min(1).max(500).optional().describe('page size (default 50)'),
        cursor: z.string().optional().describe('nextCursor of the previous page'),
        kinds: z.array(z.enum(MEMORY_KINDS)).optional(),
        sessionId: z.string().optional(),
        cube: cubeArg,
      },
    },
    async ({ limit, cursor, kinds, sessionId, cube }) => {
      const page = await (await open(cube)).list({
        limit: limit ?? 50,
        ...(cursor ? { cursor } : {}),
        ...(kinds ? { kinds } : {}),
        ...(sessionId ? { sessionIds: [sessionId] } : {}),
      });
      return asText(page);
    },
  );

  server.registerTool(
    'memory_history',
    {
      title: 'Memory history',
      description: 'Every version of a memory, oldest first, with who changed it and when.',
      inputSchema: { id: z.string().describe('the memory id, or its short id'), cube: cubeArg },
    },
    async ({ id, cube }) => asText(await (await open(cube)).history(id)),
  );

  server.registerResource(
    'cubes',
    'memcube://cubes',
    { title: 'Cubes', description: 'The cubes this connection can use', mimeType: 'application/json' },
    async (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify(
            (await memory.visibleCubes()).map((v) => ({ ref: v.ref, permission: v.permission })),
          ),
        },
      ],
    }),
  );

  server.registerResource(
    'cube',
    new ResourceTemplate('memcube://cubes/{cube}', {
      list: async () => ({
        resources: (await memory.visibleCubes()).map((v) => ({
          uri: `memcube://cubes/${encodeURIComponent(v.ref)}`,
          name: v.ref,
          mimeType: 'application/json',
        })),
      }),
    }),
    { title: 'Cube', description: 'A cube with its counts', mimeType: 'application/json' },
    async (uri, { cube }) => {
      // A cube that is not there, or a name no cube can have, is the caller's parameter to fix
      // (SEP-2164), not a server fault.
      const found = await Promise.resolve()
        .then(() => memory.cube(decodeURIComponent(String(cube)), { create: false }))
        .catch((err: unknown) => {
          const theirs =
            err instanceof URIError ||
            (err instanceof MemcubeError && (err.code === 'not_found' || err.code === 'invalid_input'));
          throw theirs ? new McpError(ErrorCode.InvalidParams, (err as Error).message) : err;
        });
      const stats = await found.stats();
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(stats) }] };
    },
  );

  return server;
}
