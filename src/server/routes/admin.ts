import { createRoute, z } from '@hono/zod-openapi';
import { InvalidInputError } from '../../core/errors.js';
import { issueSecret } from '../../govern/api-keys.js';
import type { AccessStore } from '../../store/access.js';
import type { App, Caller, RouteHelpers } from '../app.js';
import { ProblemError } from '../problems.js';
import {
  apiKeySchema,
  createdKeySchema,
  createKeyBody,
  createTenantBody,
  keyParams,
  tenantSchema,
} from '../schemas.js';
import { jsonBody, jsonContent, problemResponses, security } from './common.js';

const tags = ['tenants and keys'];

const routes = {
  createTenant: createRoute({
    method: 'post',
    path: '/v1/tenants',
    tags,
    security,
    summary: 'Create a tenant (admin key)',
    request: jsonBody(createTenantBody),
    responses: { 201: jsonContent(tenantSchema, 'The tenant'), ...problemResponses },
  }),
  listTenants: createRoute({
    method: 'get',
    path: '/v1/tenants',
    tags,
    security,
    summary: 'List tenants (admin key)',
    responses: { 200: jsonContent(z.array(tenantSchema), 'The tenants'), ...problemResponses },
  }),
  createKey: createRoute({
    method: 'post',
    path: '/v1/keys',
    tags,
    security,
    summary: 'Issue an API key (admin key, or a tenant key with admin scope for its own tenant)',
    request: jsonBody(createKeyBody),
    responses: { 201: jsonContent(createdKeySchema, 'The key, shown once'), ...problemResponses },
  }),
  listKeys: createRoute({
    method: 'get',
    path: '/v1/keys',
    tags,
    security,
    summary: "List a tenant's keys, never their secrets",
    request: { query: z.strictObject({ tenant: z.string().optional() }) },
    responses: { 200: jsonContent(z.array(apiKeySchema), 'The keys'), ...problemResponses },
  }),
  revokeKey: createRoute({
    method: 'delete',
    path: '/v1/keys/{keyId}',
    tags,
    security,
    summary: 'Revoke a key; it stops working at once',
    request: { params: keyParams, query: z.strictObject({ tenant: z.string().optional() }) },
    responses: { 200: jsonContent(apiKeySchema, 'The revoked key'), ...problemResponses },
  }),
};

const ADMIN_ACTOR = 'admin';

/** The tenant whose keys the caller manages: any (named) for the admin key, its own for a tenant admin. */
function managedTenant(caller: Caller, requested: string | undefined): { tenant: string; actor: string } {
  if (caller.kind === 'admin') {
    if (!requested) throw new InvalidInputError('tenant: the admin key must name the tenant', 'tenant');
    return { tenant: requested, actor: ADMIN_ACTOR };
  }
  if (!caller.key.scopes.includes('admin')) {
    throw new ProblemError('forbidden', "managing keys needs a key with the 'admin' scope");
  }
  // A key limited to some cubes could otherwise issue itself an unlimited one.
  if (caller.key.cubes !== null) {
    throw new ProblemError(
      'forbidden',
      'managing keys needs an admin key that is not limited to named cubes',
    );
  }
  if (requested && requested !== caller.key.tenant) {
    throw new ProblemError('not_found', `unknown tenant '${requested}'`);
  }
  return { tenant: caller.key.tenant, actor: caller.key.id };
}

/** A key may not issue a key that outlives it: expiry would be no limit at all. */
function outlivesNoCaller(caller: Caller, expiresAt: number | null): void {
  if (caller.kind === 'admin' || caller.key.expiresAt === null) return;
  if (expiresAt === null || expiresAt > Date.parse(caller.key.expiresAt)) {
    throw new ProblemError(
      'forbidden',
      `expiresAt: a key may not issue a key that outlives it; give an expiresAt at or before ${caller.key.expiresAt}`,
      'expiresAt',
    );
  }
}

function requireAdminKey(caller: Caller): void {
  if (caller.kind !== 'admin') throw new ProblemError('forbidden', 'managing tenants needs the admin key');
}

export function registerAdminRoutes(app: App, access: AccessStore, h: RouteHelpers): void {
  const ctx = (actor: string, requestId: string) => ({ actor, now: Date.now(), requestId });

  app.openapi(routes.createTenant, async (c) => {
    requireAdminKey(h.caller(c));
    const { id, name } = c.req.valid('json');
    return c.json(await access.createTenant(id, name ?? id, ctx(ADMIN_ACTOR, c.get('requestId'))), 201);
  });

  app.openapi(routes.listTenants, async (c) => {
    requireAdminKey(h.caller(c));
    return c.json(await access.listTenants(), 200);
  });

  app.openapi(routes.createKey, async (c) => {
    const body = c.req.valid('json');
    const { tenant, actor } = managedTenant(h.caller(c), body.tenant);
    if (!(await access.getTenant(tenant)))
      throw new ProblemError('not_found', `unknown tenant '${tenant}'`, 'tenant');
    const expiresAt = body.expiresAt ?? null;
    if (expiresAt !== null && expiresAt <= Date.now()) {
      throw new InvalidInputError('expiresAt: must be in the future', 'expiresAt');
    }
    outlivesNoCaller(h.caller(c), expiresAt);
    const secret = issueSecret();
    const record = await access.createKey(
      {
        id: secret.id,
        tenant,
        name: body.name,
        scopes: [...new Set(body.scopes)],
        cubes: body.cubes ?? null,
        secretHash: secret.secretHash,
        expiresAt,
      },
      ctx(actor, c.get('requestId')),
    );
    return c.json({ key: secret.key, record }, 201);
  });

  app.openapi(routes.listKeys, async (c) => {
    const { tenant } = managedTenant(h.caller(c), c.req.valid('query').tenant);
    return c.json(await access.listKeys(tenant), 200);
  });

  app.openapi(routes.revokeKey, async (c) => {
    const { tenant, actor } = managedTenant(h.caller(c), c.req.valid('query').tenant);
    return c.json(
      await access.revokeKey(tenant, c.req.valid('param').keyId, ctx(actor, c.get('requestId'))),
      200,
    );
  });
}
