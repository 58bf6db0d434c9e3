import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { App } from './app.js';

export const VERSION = (
  JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Swagger UI from the `swagger-ui-dist` package: the docs page works offline, with no CDN. */
const SWAGGER_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>memcube API</title><link rel="stylesheet" href="/v1/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/v1/docs/swagger-ui-bundle.js"></script><script src="/v1/docs/init.js"></script></body>
</html>`;
const INIT = `window.ui = SwaggerUIBundle({ url: '/v1/openapi.json', dom_id: '#ui' });`;

export const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'memcube',
    version: VERSION,
    description:
      'Memory as a service: cubes of memories, search and token-budgeted context, per-tenant API keys, sharing and audit. Errors are RFC 9457 problem documents.',
  },
};

export function registerDocs(app: App): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (`mck_...`) or the bootstrap admin key',
  });
  app.doc31('/v1/openapi.json', OPENAPI_INFO);
  app.get('/v1/docs', (c) => c.html(PAGE));
  app.get('/v1/docs/init.js', (c) => c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  app.get('/v1/docs/:asset', (c) => {
    const asset = c.req.param('asset');
    const type = ASSETS[asset];
    if (!type) return c.notFound();
    return c.body(fs.readFileSync(path.join(SWAGGER_DIR, asset)), 200, { 'content-type': type });
  });
}
