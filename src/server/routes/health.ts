import { createRoute, z } from '@hono/zod-openapi';
import type { App, AppDeps } from '../app.js';
import { ProblemError } from '../problems.js';
import { problemSchema } from '../schemas.js';
import { jsonContent } from './common.js';

const tags = ['health'];

const routes = {
  health: createRoute({
    method: 'get',
    path: '/v1/health',
    tags,
    summary: 'Liveness: the process answers (no key needed)',
    responses: { 200: jsonContent(z.object({ status: z.literal('ok') }), 'Alive') },
  }),
  ready: createRoute({
    method: 'get',
    path: '/v1/ready',
    tags,
    summary: 'Readiness: the store answers and shutdown has not begun (no key needed)',
    responses: {
      200: jsonContent(z.object({ status: z.literal('ready') }), 'Ready for requests'),
      503: {
        description: 'Shutting down',
        content: { 'application/problem+json': { schema: problemSchema } },
      },
    },
  }),
  metrics: createRoute({
    method: 'get',
    path: '/v1/metrics',
    tags,
    summary: 'Prometheus metrics: requests, latency, rate limiting, process (no key needed)',
    responses: {
      200: {
        description: 'The Prometheus text exposition format',
        content: { 'text/plain': { schema: z.string() } },
      },
    },
  }),
};

export function registerHealthRoutes(app: App, deps: Pick<AppDeps, 'memory' | 'metrics' | 'isReady'>): void {
  app.openapi(routes.health, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(routes.ready, async (c) => {
    if (!deps.isReady()) throw new ProblemError('unavailable', 'shutting down');
    await deps.memory.listCubes();
    return c.json({ status: 'ready' as const }, 200);
  });
  app.openapi(routes.metrics, async (c) =>
    c.text(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );
}
