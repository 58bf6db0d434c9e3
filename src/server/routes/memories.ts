import { createRoute, z } from '@hono/zod-openapi';
import { withFieldRenamed } from '../../core/errors.js';
import type { AddInput } from '../../ingest/episodes.js';
import type { App, RouteHelpers } from '../app.js';
import {
  addBody,
  addResultSchema,
  contextBody,
  contextPackSchema,
  cubeParams,
  itemParams,
  LIST_ARRAY_FIELDS,
  listQuery,
  memoryItemSchema,
  memoryVersionSchema,
  searchBody,
  searchHitSchema,
  updateBody,
} from '../schemas.js';
import { jsonBody, jsonContent, problemResponses, security } from './common.js';

const tags = ['memories'];
const itemPath = '/v1/cubes/{cube}/memories/{id}';

const routes = {
  add: createRoute({
    method: 'post',
    path: '/v1/cubes/{cube}/memories',
    tags,
    security,
    summary: 'Remember messages or a text (needs write)',
    request: { params: cubeParams, ...jsonBody(addBody) },
    responses: { 201: jsonContent(addResultSchema, 'The ids, one per message'), ...problemResponses },
  }),
  list: createRoute({
    method: 'get',
    path: '/v1/cubes/{cube}/memories',
    tags,
    security,
    summary: 'List memories in insertion order, a page at a time',
    request: { params: cubeParams, query: listQuery },
    responses: {
      200: jsonContent(
        z.object({ items: z.array(memoryItemSchema), nextCursor: z.string().optional() }),
        'A page of memories',
      ),
      ...problemResponses,
    },
  }),
  get: createRoute({
    method: 'get',
    path: itemPath,
    tags,
    security,
    summary: 'One memory, whatever its status',
    request: { params: itemParams },
    responses: { 200: jsonContent(memoryItemSchema, 'The memory'), ...problemResponses },
  }),
  update: createRoute({
    method: 'patch',
    path: itemPath,
    tags,
    security,
    summary: 'Write a new version (needs write)',
    request: { params: itemParams, ...jsonBody(updateBody) },
    responses: { 200: jsonContent(memoryItemSchema, 'The new version'), ...problemResponses },
  }),
  delete: createRoute({
    method: 'delete',
    path: itemPath,
    tags,
    security,
    summary: 'Tombstone a memory, recoverable with restore (needs write)',
    request: { params: itemParams },
    responses: { 200: jsonContent(memoryItemSchema, 'The tombstoned memory'), ...problemResponses },
  }),
  restore: createRoute({
    method: 'post',
    path: `${itemPath}/restore`,
    tags,
    security,
    summary: 'Bring back a deleted memory (needs write)',
    request: { params: itemParams },
    responses: { 200: jsonContent(memoryItemSchema, 'The restored memory'), ...problemResponses },
  }),
  history: createRoute({
    method: 'get',
    path: `${itemPath}/history`,
    tags,
    security,
    summary: 'Every version of a memory, oldest first',
    request: { params: itemParams },
    responses: { 200: jsonContent(z.array(memoryVersionSchema), 'The versions'), ...problemResponses },
  }),
  search: createRoute({
    method: 'post',
    path: '/v1/cubes/{cube}/search',
    tags: ['retrieval'],
    security,
    summary: 'Ranked memories for a query',
    request: { params: cubeParams, ...jsonBody(searchBody) },
    responses: { 200: jsonContent(z.array(searchHitSchema), 'Hits, best first'), ...problemResponses },
  }),
  context: createRoute({
    method: 'post',
    path: '/v1/cubes/{cube}/context',
    tags: ['retrieval'],
    security,
    summary: 'Prompt-ready memory for a query within a token budget',
    request: { params: cubeParams, ...jsonBody(contextBody) },
    responses: { 200: jsonContent(contextPackSchema, 'The context pack'), ...problemResponses },
  }),
};

/** A `text` body is stored as one message: an error in its content names `text`, as the client sent it. */
const inTextTerms = (err: unknown) =>
  withFieldRenamed(err, (field) => (field === 'messages[0].content' ? 'text' : undefined));

export function registerMemoryRoutes(app: App, h: RouteHelpers): void {
  const open = (c: Parameters<RouteHelpers['memoryFor']>[0], cube: string) =>
    h.memoryFor(c).cube(cube, { create: false });

  app.openapi(routes.add, async (c) => {
    const { text, messages, ...options } = c.req.valid('json');
    const cube = await open(c, c.req.valid('param').cube);
    const result = await cube.add((text ?? messages) as AddInput, options).catch((err: unknown) => {
      throw text === undefined ? err : inTextTerms(err);
    });
    return c.json(result, 201);
  });

  app.openapi(routes.list, async (c) => {
    const query: Record<string, unknown> = { ...c.req.valid('query') };
    for (const field of LIST_ARRAY_FIELDS) {
      const value = query[field];
      if (typeof value === 'string') query[field] = value.split(',').filter((v) => v !== '');
    }
    const cube = await open(c, c.req.valid('param').cube);
    return c.json(await cube.list(query), 200);
  });

  app.openapi(routes.get, async (c) => {
    const { cube, id } = c.req.valid('param');
    return c.json(await (await open(c, cube)).get(id), 200);
  });

  app.openapi(routes.update, async (c) => {
    const { cube, id } = c.req.valid('param');
    return c.json(await (await open(c, cube)).update(id, c.req.valid('json')), 200);
  });

  app.openapi(routes.delete, async (c) => {
    const { cube, id } = c.req.valid('param');
    return c.json(await (await open(c, cube)).delete(id), 200);
  });

  app.openapi(routes.restore, async (c) => {
    const { cube, id } = c.req.valid('param');
    return c.json(await (await open(c, cube)).restore(id), 200);
  });

  app.openapi(routes.history, async (c) => {
    const { cube, id } = c.req.valid('param');
    return c.json(await (await open(c, cube)).history(id), 200);
  });

  app.openapi(routes.search, async (c) => {
    const { query, ...options } = c.req.valid('json');
    const cube = await open(c, c.req.valid('param').cube);
    return c.json(await cube.search(query, options), 200);
  });

  app.openapi(routes.context, async (c) => {
    const { query, ...options } = c.req.valid('json');
    const cube = await open(c, c.req.valid('param').cube);
    return c.json(await cube.context(query, options), 200);
  });
}
