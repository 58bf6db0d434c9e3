import { createRoute, z } from '@hono/zod-openapi';
import type { VisibleCube } from '../../os/memory-os.js';
import type { App, RouteHelpers } from '../app.js';
import {
  auditQuery,
  auditRecordSchema,
  createCubeBody,
  cubeParams,
  cubeSchema,
  grantBody,
  grantParams,
  grantSchema,
} from '../schemas.js';
import { jsonBody, jsonContent, problemResponses, security } from './common.js';

const tags = ['cubes'];

const routes = {
  list: createRoute({
    method: 'get',
    path: '/v1/cubes',
    tags,
    security,
    summary: 'Own cubes and cubes shared with this tenant or key',
    responses: { 200: jsonContent(z.array(cubeSchema), 'The cubes'), ...problemResponses },
  }),
  create: createRoute({
    method: 'post',
    path: '/v1/cubes',
    tags,
    security,
    summary: 'Create a cube (needs write)',
    request: jsonBody(createCubeBody),
    responses: { 201: jsonContent(cubeSchema, 'The new cube'), ...problemResponses },
  }),
  get: createRoute({
    method: 'get',
    path: '/v1/cubes/{cube}',
    tags,
    security,
    summary: 'One cube with its counts',
    request: { params: cubeParams },
    responses: {
      200: jsonContent(cubeSchema.extend({ stats: z.record(z.string(), z.unknown()) }), 'The cube'),
      ...problemResponses,
    },
  }),
  delete: createRoute({
    method: 'delete',
    path: '/v1/cubes/{cube}',
    tags,
    security,
    summary: 'Delete an own cube and its memories (needs admin); its audit trail stays',
    request: { params: cubeParams },
    responses: { 204: { description: 'Deleted' }, ...problemResponses },
  }),
  shares: createRoute({
    method: 'get',
    path: '/v1/cubes/{cube}/shares',
    tags,
    security,
    summary: 'Who the cube is shared with (needs admin)',
    request: { params: cubeParams },
    responses: { 200: jsonContent(z.array(grantSchema), 'The grants'), ...problemResponses },
  }),
  share: createRoute({
    method: 'put',
    path: '/v1/cubes/{cube}/shares/{kind}/{grantee}',
    tags,
    security,
    summary: 'Share the cube with a tenant or one API key (needs admin)',
    request: { params: grantParams, ...jsonBody(grantBody) },
    responses: { 200: jsonContent(grantSchema, 'The grant'), ...problemResponses },
  }),
  unshare: createRoute({
    method: 'delete',
    path: '/v1/cubes/{cube}/shares/{kind}/{grantee}',
    tags,
    security,
    summary: 'Stop sharing the cube (needs admin)',
    request: { params: grantParams },
    responses: { 204: { description: 'Unshared' }, ...problemResponses },
  }),
  audit: createRoute({
    method: 'get',
    path: '/v1/audit',
    tags: ['audit'],
    security,
    summary: 'Audit records of the tenant, or of one cube, oldest or newest first (needs admin)',
    request: { query: auditQuery },
    responses: {
      200: {
        ...jsonContent(z.array(auditRecordSchema), 'The records'),
        headers: z.object({
          Link: z.string().optional().openapi({
            description:
              'the next page, when there is one: `</v1/audit?…&after=ID>; rel="next"` (`before=ID` newest first)',
          }),
        }),
      },
      ...problemResponses,
    },
  }),
};

const cubeJson = (v: VisibleCube) => ({
  ref: v.ref,
  name: v.info.name,
  owner: v.owner,
  permission: v.permission,
  embedderId: v.info.embedderId,
  dimensions: v.info.dimensions,
  createdAt: v.info.createdAt,
});

export function registerCubeRoutes(app: App, h: RouteHelpers): void {
  app.openapi(routes.list, async (c) => c.json((await h.memoryFor(c).visibleCubes()).map(cubeJson), 200));

  app.openapi(routes.create, async (c) => {
    const cube = await h.memoryFor(c).createCube(c.req.valid('json').name);
    return c.json(
      cubeJson({ ref: cube.name, owner: cube.info.tenant, permission: cube.permission, info: cube.info }),
      201,
    );
  });

  app.openapi(routes.get, async (c) => {
    const memory = h.memoryFor(c);
    const { cube: ref } = c.req.valid('param');
    const cube = await memory.cube(ref, { create: false });
    const { cube: _, ...stats } = await cube.stats();
    const shown = cube.info.tenant === memory.config.tenant ? cube.name : `${cube.info.tenant}:${cube.name}`;
    return c.json(
      {
        ...cubeJson({ ref: shown, owner: cube.info.tenant, permission: cube.permission, info: cube.info }),
        stats,
      },
      200,
    );
  });

  app.openapi(routes.delete, async (c) => {
    await h.memoryFor(c).deleteCube(c.req.valid('param').cube);
    return c.body(null, 204);
  });

  app.openapi(routes.shares, async (c) =>
    c.json(await h.memoryFor(c).grants(c.req.valid('param').cube), 200),
  );

  app.openapi(routes.share, async (c) => {
    const { cube, kind, grantee } = c.req.valid('param');
    const grant = await h.memoryFor(c).share(cube, { kind, id: grantee }, c.req.valid('json').permission);
    return c.json(grant, 200);
  });

  app.openapi(routes.unshare, async (c) => {
    const { cube, kind, grantee } = c.req.valid('param');
    await h.memoryFor(c).unshare(cube, { kind, id: grantee });
    return c.body(null, 204);
  });

  app.openapi(routes.audit, async (c) => {
    const q = c.req.valid('query');
    // One record past the page tells whether there is a next one.
    const read = await h.memoryFor(c).audit({
      limit: q.limit + 1,
      ...(q.cube ? { cube: q.cube } : {}),
      ...(q.item ? { itemId: q.item } : {}),
      ...(q.key ? { actor: q.key } : {}),
      ...(q.from === undefined ? {} : { from: q.from }),
      ...(q.to === undefined ? {} : { to: q.to }),
      ...(q.after === undefined ? {} : { afterId: q.after }),
      ...(q.before === undefined ? {} : { beforeId: q.before }),
      order: q.order,
    });
    const records = read.slice(0, q.limit);
    const last = records.at(-1);
    if (last && read.length > q.limit) {
      // The same query, its moving bound past the last record; the other bound stays.
      const next = new URL(c.req.url);
      next.searchParams.set(q.order === 'newest' ? 'before' : 'after', String(last.id));
      c.header('Link', `<${next.pathname}${next.search}>; rel="next"`);
    }
    return c.json(records, 200);
  });
}
