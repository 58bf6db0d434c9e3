import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problem, startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
let acme: { key: string; id: string };
let globex: { key: string; id: string };

beforeAll(async () => {
  t = await startTestServer();
  acme = await t.keyFor('acme');
  globex = await t.keyFor('globex');
});

afterAll(async () => {
  await t.close();
});

async function seed(key: string, cube: string, texts: string[]): Promise<string[]> {
  const made = await t.call('POST', '/v1/cubes', { key, body: { name: cube } });
  if (made.status !== 201 && made.status !== 409) throw new Error(made.text);
  const added = await t.call('POST', `/v1/cubes/${cube}/memories`, {
    key,
    body: { messages: texts.map((content) => ({ content })), sessionId: 's1' },
  });
  expect(added.status).toBe(201);
  return added.body.ids;
}

describe('health, readiness, metrics, docs', () => {
  it('answers without a key', async () => {
    expect((await t.call('GET', '/v1/health', { key: null })).body).toEqual({ status: 'ok' });
    expect((await t.call('GET', '/v1/ready', { key: null })).body).toEqual({ status: 'ready' });
    const metrics = await t.call('GET', '/v1/metrics', { key: null });
    expect(metrics.text).toContain('memcube_http_requests_total');
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const docs = await t.call('GET', '/v1/docs', { key: null });
    expect(docs.text).toContain('swagger-ui-bundle.js');
    const bundle = await fetch(`${t.url}/v1/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    await bundle.arrayBuffer();
  });

  it('serves an OpenAPI 3.1 document listing every route', async () => {
    const doc = (await t.call('GET', '/v1/openapi.json', { key: null })).body;
    expect(doc.openapi).toBe('3.1.0');
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'GET /v1/audit',
        'GET /v1/health',
        'GET /v1/ready',
        'GET /v1/metrics',
        'GET /v1/cubes',
        'POST /v1/cubes',
        'GET /v1/cubes/{cube}',
        'DELETE /v1/cubes/{cube}',
        'POST /v1/cubes/{cube}/context',
        'GET /v1/cubes/{cube}/memories',
        'POST /v1/cubes/{cube}/memories',
        'GET /v1/cubes/{cube}/memories/{id}',
        'PATCH /v1/cubes/{cube}/memories/{id}',
        'DELETE /v1/cubes/{cube}/memories/{id}',
        'GET /v1/cubes/{cube}/memories/{id}/history',
        'POST /v1/cubes/{cube}/memories/{id}/restore',
        'POST /v1/cubes/{cube}/search',
        'GET /v1/cubes/{cube}/shares',
        'PUT /v1/cubes/{cube}/shares/{kind}/{grantee}',
        'DELETE /v1/cubes/{cube}/shares/{kind}/{grantee}',
        'GET /v1/keys',
        'POST /v1/keys',
        'DELETE /v1/keys/{keyId}',
        'GET /v1/tenants',
        'POST /v1/tenants',
      ].sort(),
    );
    expect(doc.components.securitySchemes.bearer.scheme).toBe('bearer');
    expect(doc.components.schemas.MemoryItem.type).toBe('object');
    // The health routes need no key; every other route does.
    expect(doc.paths['/v1/health'].get.security).toBeUndefined();
    expect(doc.paths['/v1/cubes'].get.security).toEqual([{ bearer: [] }]);
  });
});

describe('memories', () => {
  it('adds, gets, lists with a cursor, updates, deletes, restores and shows history', async () => {
    const ids = await seed(acme.key, 'life', [
      'I moved to Berlin',
      'I adopted a cat named Miso',
      'I love hiking',
    ]);
    expect(ids).toHaveLength(3);
    const [first, second] = ids as [string, string];
    const text = await t.call('POST', '/v1/cubes/life/memories', {
      key: acme.key,
      body: { text: 'One text' },
    });
    expect(text.status).toBe(201);

    const got = await t.call('GET', `/v1/cubes/life/memories/${first}`, { key: acme.key });
    expect(got.body).toMatchObject({ id: first, content: 'I moved to Berlin', cube: 'life', version: 1 });

    const page1 = await t.call('GET', '/v1/cubes/life/memories?limit=2', { key: acme.key });
    expect(page1.body.items).toHaveLength(2);
    const page2 = await t.call('GET', `/v1/cubes/life/memories?limit=2&cursor=${page1.body.nextCursor}`, {
      key: acme.key,
    });
    expect(page2.body.items).toHaveLength(2);
    expect(page2.body.nextCursor).toBeUndefined();
    const filtered = await t.call('GET', '/v1/cubes/life/memories?sessionIds=s1&kinds=episode', {
      key: acme.key,
    });
    expect(filtered.body.items).toHaveLength(3);

    const updated = await t.call('PATCH', `/v1/cubes/life/memories/${first}`, {
      key: acme.key,
      body: { content: 'I moved to Munich', tags: ['home'] },
    });
    expect(updated.body).toMatchObject({ content: 'I moved to Munich', tags: ['home'], version: 2 });

    const deleted = await t.call('DELETE', `/v1/cubes/life/memories/${second}`, { key: acme.key });
    expect(deleted.body.status).toBe('deleted');
    const hits = await t.call('POST', '/v1/cubes/life/search', {
      key: acme.key,
      body: { query: 'cat Miso' },
    });
    expect(hits.body.map((h: { item: { id: string } }) => h.item.id)).not.toContain(second);
    const restored = await t.call('POST', `/v1/cubes/life/memories/${second}/restore`, { key: acme.key });
    expect(restored.body.status).toBe('active');
    problem(
      await t.call('POST', `/v1/cubes/life/memories/${second}/restore`, { key: acme.key }),
      409,
      'conflict',
    );

    const history = await t.call('GET', `/v1/cubes/life/memories/${second}/history`, { key: acme.key });
    expect(history.body.map((v: { operation: string }) => v.operation)).toEqual(['add', 'delete', 'restore']);
  });

  it('searches and builds context within a budget', async () => {
    await seed(acme.key, 'trips', ['We flew to Lisbon in May', 'The hotel in Lisbon had a rooftop pool']);
    const hits = await t.call('POST', '/v1/cubes/trips/search', {
      key: acme.key,
      body: { query: 'Lisbon', limit: 1 },
    });
    expect(hits.status).toBe(200);
    expect(hits.body).toHaveLength(1);
    expect(hits.body[0].item.content).toContain('Lisbon');
    const pack = await t.call('POST', '/v1/cubes/trips/context', {
      key: acme.key,
      body: { query: 'Lisbon hotel', tokenBudget: 100 },
    });
    expect(pack.body.tokens).toBeLessThanOrEqual(100);
    expect(pack.body.text).toContain('Lisbon');
  });
});

describe('cubes', () => {
  it('creates, lists, gets and deletes cubes; a second create is a conflict', async () => {
    const made = await t.call('POST', '/v1/cubes', { key: acme.key, body: { name: 'scratch' } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      ref: 'scratch',
      owner: 'acme',
      permission: 'admin',
      embedderId: 'none',
    });
    problem(await t.call('POST', '/v1/cubes', { key: acme.key, body: { name: 'scratch' } }), 409, 'conflict');
    const listed = await t.call('GET', '/v1/cubes', { key: acme.key });
    expect(listed.body.map((c: { ref: string }) => c.ref)).toContain('scratch');
    const got = await t.call('GET', '/v1/cubes/scratch', { key: acme.key });
    expect(got.body.stats.items).toBe(0);
    const gone = await t.call('DELETE', '/v1/cubes/scratch', { key: acme.key });
    expect(gone.status).toBe(204);
    problem(await t.call('GET', '/v1/cubes/scratch', { key: acme.key }), 404, 'not-found');
  });
});

describe('problem documents and bad input', () => {
  it('rejects unknown fields naming the field, and writes nothing', async () => {
    await seed(acme.key, 'strict', ['kept']);
    const before = (await t.call('GET', '/v1/cubes/strict', { key: acme.key })).body.stats.items;
    const body = problem(
      await t.call('POST', '/v1/cubes/strict/memories', {
        key: acme.key,
        body: { text: 'x', colour: 'red' },
      }),
      400,
      'invalid-input',
    );
    expect(body.field).toBe('colour');
    const nested = problem(
      await t.call('POST', '/v1/cubes/strict/memories', {
        key: acme.key,
        body: { messages: [{ content: 'ok' }, { content: 'x', mood: 1 }] },
      }),
      400,
      'invalid-input',
    );
    expect(nested.field).toBe('messages[1].mood');
    problem(
      await t.call('GET', '/v1/cubes/strict/memories?colour=red', { key: acme.key }),
      400,
      'invalid-input',
    );
    const wrongType = problem(
      await t.call('POST', '/v1/cubes/strict/search', { key: acme.key, body: { query: 'x', limit: 'ten' } }),
      400,
      'invalid-input',
    );
    expect(wrongType.field).toBe('limit');
    // The limit is said in words, not as zod's "Too big: expected number to be <=1000".
    const tooMany = problem(
      await t.call('POST', '/v1/cubes/strict/search', { key: acme.key, body: { query: 'x', limit: 5000 } }),
      400,
      'invalid-input',
    );
    expect(tooMany.detail).toBe('limit: at most 1000');
    // What the library refuses is named as the request named it, not by the library's arguments.
    const [kept] = (await t.call('GET', '/v1/cubes/strict/memories', { key: acme.key })).body.items;
    const cases: Array<[string, string, unknown, string | undefined, RegExp]> = [
      ['PATCH', `/v1/cubes/strict/memories/${kept.id}`, { content: ' ' }, 'content', /^content: /],
      ['PATCH', `/v1/cubes/strict/memories/${kept.id}`, {}, undefined, /^an update needs at least one of/],
      ['GET', '/v1/cubes/strict/memories?kinds=nope', undefined, 'kinds[0]', /^kinds\[0\]: /],
      ['POST', '/v1/cubes/strict/memories', { text: 'x'.repeat(32_001) }, 'text', /^text: .*32000/],
      ['GET', '/v1/audit?from=2024-02-01&to=2024-01-01', undefined, 'to', /^to: .*not after/],
    ];
    for (const [method, url, body, field, detail] of cases) {
      const refused = problem(
        await t.call(method, url, { key: acme.key, ...(body === undefined ? {} : { body }) }),
        400,
        'invalid-input',
      );
      expect([refused.field, refused.detail], url).toEqual([field, expect.stringMatching(detail)]);
    }
    expect((await t.call('GET', '/v1/cubes/strict', { key: acme.key })).body.stats.items).toBe(before);
  });

  it('answers invalid JSON, invalid UTF-8, a wrong media type and a bad id with 4xx problems', async () => {
    await seed(acme.key, 'bad', ['x']);
    const json = { 'content-type': 'application/json' };
    problem(
      await t.call('POST', '/v1/cubes/bad/memories', { key: acme.key, raw: '{"text": ', headers: json }),
      400,
      'invalid-json',
    );
    problem(
      await t.call('POST', '/v1/cubes/bad/memories', {
        key: acme.key,
        raw: Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
        headers: json,
      }),
      400,
      'invalid-json',
    );
    problem(
      await t.call('POST', '/v1/cubes/bad/memories', {
        key: acme.key,
        raw: 'text=hello',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'unsupported-media-type',
    );
    problem(await t.call('POST', '/v1/cubes/bad/memories', { key: acme.key }), 400, 'invalid-input');
    problem(
      await t.call('GET', '/v1/cubes/bad/memories/..%2F..%2Fetc', { key: acme.key }),
      400,
      'invalid-input',
    );
    problem(await t.call('GET', '/v1/cubes/bad%2F..%2Fx', { key: acme.key }), 400, 'invalid-input');
    problem(await t.call('GET', '/v1/nowhere', { key: acme.key }), 404, 'not-found');
    problem(
      await t.call('GET', '/v1/cubes/life/memories/some-id/nowhere', { key: acme.key }),
      404,
      'not-found',
    );
  });

  it('answers a method a route does not take with 405 and the methods it does take', async () => {
    const put = await t.call('PUT', '/v1/cubes/life/memories', { key: acme.key, body: { text: 'x' } });
    problem(put, 405, 'method-not-allowed');
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(put.body.detail).toBe('/v1/cubes/life/memories does not answer PUT; it answers GET, HEAD, POST');
    const post = await t.call('POST', '/v1/health', { key: null });
    problem(post, 405, 'method-not-allowed');
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    // A route that takes the method and finds nothing there is a 404, not a 405.
    problem(await t.call('GET', '/v1/docs/nope.js', { key: null }), 404, 'not-found');
    // Without a key the answer is still 401: which methods a private route takes is not told.
    problem(await t.call('PUT', '/v1/cubes/life/memories', { key: null }), 401, 'unauthenticated');
  });

  it('refuses a body over the size limit with 413', async () => {
    const small = await startTestServer({ maxBodyBytes: 1024 });
    try {
      const key = (await small.keyFor('acme')).key;
      await small.call('POST', '/v1/cubes', { key, body: { name: 'n' } });
      problem(
        await small.call('POST', '/v1/cubes/n/memories', { key, body: { text: 'x'.repeat(5000) } }),
        413,
        'payload-too-large',
      );
      const stats = await small.call('GET', '/v1/cubes/n', { key });
      expect(stats.body.stats.items).toBe(0);
    } finally {
      await small.close();
    }
  });
});

describe('keys and scopes', () => {
  it('refuses missing, malformed, revoked and expired keys with 401', async () => {
    problem(await t.call('GET', '/v1/cubes', { key: null }), 401, 'unauthenticated');
    problem(await t.call('GET', '/v1/cubes', { key: 'mck_0000000000000000_nope' }), 401, 'unauthenticated');
    const forged = `${acme.key.slice(0, -4)}AAAA`;
    problem(await t.call('GET', '/v1/cubes', { key: forged }), 401, 'unauthenticated');

    const doomed = await t.keyFor('acme', ['read']);
    expect((await t.call('GET', '/v1/cubes', { key: doomed.key })).status).toBe(200);
    const revoked = await t.call('DELETE', `/v1/keys/${doomed.id}?tenant=acme`);
    expect(revoked.body.revokedAt).not.toBeNull();
    problem(await t.call('GET', '/v1/cubes', { key: doomed.key }), 401, 'unauthenticated');

    const soon = await t.keyFor('acme', ['read'], { expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect((await t.call('GET', '/v1/cubes', { key: soon.key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    const expired = problem(await t.call('GET', '/v1/cubes', { key: soon.key }), 401, 'unauthenticated');
    expect(expired.detail).toContain('expired');
  });

  it('lists keys without secrets; only admins manage tenants and keys', async () => {
    const keys = await t.call('GET', '/v1/keys', { key: acme.key });
    expect(keys.body.length).toBeGreaterThan(0);
    expect(keys.text).not.toContain('secret');
    expect(keys.body.every((k: { tenant: string }) => k.tenant === 'acme')).toBe(true);
    const reader = await t.keyFor('acme', ['read']);
    problem(await t.call('GET', '/v1/keys', { key: reader.key }), 403, 'forbidden');
    problem(await t.call('POST', '/v1/tenants', { key: acme.key, body: { id: 'evil' } }), 403, 'forbidden');
    problem(await t.call('GET', '/v1/cubes'), 403, 'forbidden');
    problem(await t.call('DELETE', `/v1/keys/${globex.id}`, { key: acme.key }), 404, 'not-found');
  });

  it('enforces scopes and cube limits', async () => {
    await seed(acme.key, 'scoped', ['scoped memory']);
    const reader = await t.keyFor('acme', ['read']);
    expect(
      (await t.call('POST', '/v1/cubes/scoped/search', { key: reader.key, body: { query: 'scoped' } }))
        .status,
    ).toBe(200);
    problem(
      await t.call('POST', '/v1/cubes/scoped/memories', { key: reader.key, body: { text: 'nope' } }),
      403,
      'forbidden',
    );
    const writer = await t.keyFor('acme', ['write']);
    expect(
      (await t.call('POST', '/v1/cubes/scoped/memories', { key: writer.key, body: { text: 'yes' } })).status,
    ).toBe(201);
    problem(await t.call('DELETE', '/v1/cubes/scoped', { key: writer.key }), 403, 'forbidden');
    problem(await t.call('GET', '/v1/audit', { key: writer.key }), 403, 'forbidden');

    const limited = await t.keyFor('acme', ['write'], { cubes: ['scoped'] });
    const visible = await t.call('GET', '/v1/cubes', { key: limited.key });
    expect(visible.body.map((c: { ref: string }) => c.ref)).toEqual(['scoped']);
    await seed(acme.key, 'off-limits', ['not for the limited key']);
    problem(await t.call('GET', '/v1/cubes/off-limits/memories', { key: limited.key }), 404, 'not-found');
  });

  it('a key cannot issue a key stronger than itself: no cube-limited key manager, no longer life', async () => {
    const limitedAdmin = await t.keyFor('acme', ['admin'], { cubes: ['public'] });
    const body = { name: 'escape', scopes: ['admin'] };
    problem(await t.call('POST', '/v1/keys', { key: limitedAdmin.key, body }), 403, 'forbidden');
    problem(await t.call('GET', '/v1/keys', { key: limitedAdmin.key }), 403, 'forbidden');
    problem(await t.call('DELETE', `/v1/keys/${acme.id}`, { key: limitedAdmin.key }), 403, 'forbidden');

    const soon = new Date(Date.now() + 60_000).toISOString();
    const expiring = await t.keyFor('acme', ['admin'], { expiresAt: soon });
    const forever = problem(await t.call('POST', '/v1/keys', { key: expiring.key, body }), 403, 'forbidden');
    expect(forever.field).toBe('expiresAt');
    const later = new Date(Date.now() + 3_600_000).toISOString();
    problem(
      await t.call('POST', '/v1/keys', { key: expiring.key, body: { ...body, expiresAt: later } }),
      403,
      'forbidden',
    );
    const within = await t.call('POST', '/v1/keys', {
      key: expiring.key,
      body: { ...body, expiresAt: soon },
    });
    expect(within.status).toBe(201);
    // A date alone is a time, as everywhere else; what is no time says what one looks like.
    const dated = await t.call('POST', '/v1/keys', {
      key: acme.key,
      body: { ...body, expiresAt: '2099-01-01' },
    });
    expect([dated.status, dated.body.record.expiresAt]).toEqual([201, '2099-01-01T00:00:00.000Z']);
    const vague = problem(
      await t.call('POST', '/v1/keys', { key: acme.key, body: { ...body, expiresAt: 'next year' } }),
      400,
      'invalid-input',
    );
    expect(vague.detail).toMatch(/^expiresAt: not an ISO-8601 date .*e\.g\./);
  });
});

describe('tenant isolation', () => {
  it('never shows one tenant’s cubes or items to another: 404, and nothing leaks from list or search', async () => {
    const [secretId] = await seed(acme.key, 'vault', ['the vault code is walrus-42']);
    await seed(globex.key, 'vault', ['globex own vault']);
    problem(await t.call('GET', '/v1/cubes/acme:vault', { key: globex.key }), 404, 'not-found');
    problem(
      await t.call('GET', `/v1/cubes/acme:vault/memories/${secretId}`, { key: globex.key }),
      404,
      'not-found',
    );
    problem(
      await t.call('GET', `/v1/cubes/vault/memories/${secretId}`, { key: globex.key }),
      404,
      'not-found',
    );
    problem(
      await t.call('POST', '/v1/cubes/acme:vault/search', { key: globex.key, body: { query: 'walrus' } }),
      404,
      'not-found',
    );
    problem(
      await t.call('DELETE', `/v1/cubes/vault/memories/${secretId}`, { key: globex.key }),
      404,
      'not-found',
    );
    // The same answer for a cube that exists elsewhere and one that exists nowhere.
    const missing = problem(
      await t.call('GET', '/v1/cubes/acme:nothing-here', { key: globex.key }),
      404,
      'not-found',
    );
    expect(missing.detail).toBe("unknown cube 'acme:nothing-here'");

    const theirs = await t.call('POST', '/v1/cubes/vault/search', {
      key: globex.key,
      body: { query: 'walrus vault code' },
    });
    expect(theirs.text).not.toContain('walrus');
    const list = await t.call('GET', '/v1/cubes', { key: globex.key });
    expect(list.body.every((c: { owner: string }) => c.owner === 'globex')).toBe(true);
    const audit = await t.call('GET', '/v1/audit', { key: globex.key });
    expect(audit.body.every((r: { tenant: string }) => r.tenant === 'globex')).toBe(true);
    expect(audit.text).not.toContain(secretId);
    problem(await t.call('GET', '/v1/audit?cube=acme:vault', { key: globex.key }), 404, 'not-found');
  });
});

describe('sharing', () => {
  it('shares a cube with a tenant or one key, with the granted permission only, until unshared', async () => {
    await seed(acme.key, 'team', ['the standup is at nine']);
    const bobRead = await t.keyFor('globex', ['write']);
    const shared = await t.call('PUT', '/v1/cubes/team/shares/tenant/globex', {
      key: acme.key,
      body: { permission: 'read' },
    });
    expect(shared.body).toMatchObject({ owner: 'acme', cube: 'team', permission: 'read' });
    const cubes = await t.call('GET', '/v1/cubes', { key: bobRead.key });
    expect(cubes.body.find((c: { ref: string }) => c.ref === 'acme:team')).toMatchObject({
      permission: 'read',
    });
    const hits = await t.call('POST', '/v1/cubes/acme:team/search', {
      key: bobRead.key,
      body: { query: 'standup' },
    });
    expect(hits.body).toHaveLength(1);
    problem(
      await t.call('POST', '/v1/cubes/acme:team/memories', { key: bobRead.key, body: { text: 'no' } }),
      403,
      'forbidden',
    );

    await t.call('PUT', `/v1/cubes/team/shares/key/${bobRead.id}`, {
      key: acme.key,
      body: { permission: 'write' },
    });
    expect(
      (
        await t.call('POST', '/v1/cubes/acme:team/memories', {
          key: bobRead.key,
          body: { text: 'bob was here' },
        })
      ).status,
    ).toBe(201);
    const grants = await t.call('GET', '/v1/cubes/team/shares', { key: acme.key });
    expect(grants.body).toHaveLength(2);
    problem(await t.call('GET', '/v1/cubes/acme:team/shares', { key: bobRead.key }), 403, 'forbidden');

    expect((await t.call('DELETE', '/v1/cubes/team/shares/tenant/globex', { key: acme.key })).status).toBe(
      204,
    );
    expect(
      (await t.call('DELETE', `/v1/cubes/team/shares/key/${bobRead.id}`, { key: acme.key })).status,
    ).toBe(204);
    problem(await t.call('GET', '/v1/cubes/acme:team', { key: bobRead.key }), 404, 'not-found');
  });
});

describe('audit', () => {
  it('records every mutation with the key as actor and the request id, filtered by cube, item, key and time', async () => {
    const writer = await t.keyFor('acme', ['write']);
    const start = new Date().toISOString();
    await t.call('POST', '/v1/cubes', { key: writer.key, body: { name: 'audited' } });
    const added = await t.call('POST', '/v1/cubes/audited/memories', {
      key: writer.key,
      body: { text: 'audit me' },
      headers: { 'x-request-id': 'req-audit-1' },
    });
    expect(added.headers.get('x-request-id')).toBe('req-audit-1');
    const [id] = added.body.ids;
    await t.call('PATCH', `/v1/cubes/audited/memories/${id}`, { key: writer.key, body: { tags: ['t'] } });
    await t.call('DELETE', `/v1/cubes/audited/memories/${id}`, { key: writer.key });

    const byCube = await t.call('GET', '/v1/audit?cube=audited', { key: acme.key });
    expect(byCube.body.map((r: { operation: string }) => r.operation)).toEqual([
      'create_cube',
      'add',
      'update',
      'delete',
    ]);
    for (const r of byCube.body) expect(r.actor).toBe(writer.id);
    expect(byCube.body[1]).toMatchObject({
      itemId: id,
      versionBefore: null,
      versionAfter: 1,
      details: { requestId: 'req-audit-1' },
    });
    expect(byCube.body[2]).toMatchObject({ versionBefore: 1, versionAfter: 2 });

    const byItem = await t.call('GET', `/v1/audit?item=${id}`, { key: acme.key });
    expect(byItem.body).toHaveLength(3);
    const byKey = await t.call('GET', `/v1/audit?key=${writer.id}&from=${encodeURIComponent(start)}`, {
      key: acme.key,
    });
    expect(byKey.body).toHaveLength(4);
    const future = await t.call(
      'GET',
      `/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      {
        key: acme.key,
      },
    );
    expect(future.body).toEqual([]);
    const paged = await t.call('GET', `/v1/audit?key=${writer.id}&limit=2`, { key: acme.key });
    // The next page is named in a Link header, the same query continued after the last record.
    const link = /^<(.+)>; rel="next"$/.exec(paged.headers.get('link') ?? '')?.[1];
    expect(link).toBe(`/v1/audit?key=${writer.id}&limit=2&after=${paged.body[1].id}`);
    const rest = await t.call('GET', link as string, { key: acme.key });
    expect([...paged.body, ...rest.body]).toHaveLength(4);
    // The last page names none.
    expect(rest.headers.get('link')).toBeNull();
    const latest = await t.call('GET', `/v1/audit?key=${writer.id}&order=newest&limit=2`, { key: acme.key });
    expect(latest.body.map((r: { operation: string }) => r.operation)).toEqual(['delete', 'update']);
    expect(latest.headers.get('link')).toBe(
      `</v1/audit?key=${writer.id}&order=newest&limit=2&before=${latest.body[1].id}>; rel="next"`,
    );
    const earlier = await t.call(
      'GET',
      `/v1/audit?key=${writer.id}&order=newest&before=${latest.body[1].id}`,
      {
        key: acme.key,
      },
    );
    expect(earlier.body.map((r: { operation: string }) => r.operation)).toEqual(['add', 'create_cube']);
    problem(await t.call('GET', '/v1/audit?from=yesterday', { key: acme.key }), 400, 'invalid-input');
    problem(await t.call('GET', '/v1/audit?order=latest', { key: acme.key }), 400, 'invalid-input');
    const crossed = problem(
      await t.call('GET', '/v1/audit?after=5&before=5', { key: acme.key }),
      400,
      'invalid-input',
    );
    expect(crossed.detail).toMatch(/before.*not greater than after/);

    // An item is named by its short id too, in one cube or in the tenant's; what is no id is refused.
    const short = id.slice(-12);
    expect((await t.call('GET', `/v1/audit?item=${short}`, { key: acme.key })).body).toEqual(byItem.body);
    expect((await t.call('GET', `/v1/audit?cube=audited&item=${short}`, { key: acme.key })).body).toEqual(
      byItem.body,
    );
    const notAnId = problem(
      await t.call('GET', '/v1/audit?item=zzz', { key: acme.key }),
      400,
      'invalid-input',
    );
    expect([notAnId.field, notAnId.detail]).toEqual([
      'item',
      expect.stringMatching(/^item: 'zzz' is not a memory id/),
    ]);
    problem(await t.call('GET', '/v1/audit?item=000000000000', { key: acme.key }), 404, 'not-found');

    // A deleted cube's records are still read by its name; a name that never held a cube is unknown.
    expect((await t.call('DELETE', '/v1/cubes/audited', { key: acme.key })).status).toBe(204);
    const afterDelete = await t.call('GET', '/v1/audit?cube=audited', { key: acme.key });
    expect(afterDelete.body.map((r: { operation: string }) => r.operation)).toEqual([
      'create_cube',
      'add',
      'update',
      'delete',
      'delete_cube',
    ]);
    expect((await t.call('GET', `/v1/audit?cube=audited&item=${id}`, { key: acme.key })).body).toHaveLength(
      3,
    );
    const shortGone = problem(
      await t.call('GET', `/v1/audit?cube=audited&item=${short}`, { key: acme.key }),
      404,
      'not-found',
    );
    expect(shortGone.detail).toContain('named by their full id');
    problem(await t.call('GET', '/v1/audit?cube=never-made', { key: acme.key }), 404, 'not-found');
    // An unknown cube is said before anything about the item.
    problem(
      await t.call('GET', `/v1/audit?cube=never-made&item=${short}`, { key: acme.key }),
      404,
      'not-found',
    );
  });

  it('a grantee with admin reads the shared cube’s own records, not those of an earlier cube of its name', async () => {
    const [oldId] = await seed(acme.key, 'reused', ['the old cube held this']);
    expect((await t.call('DELETE', '/v1/cubes/reused', { key: acme.key })).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const [newId] = await seed(acme.key, 'reused', ['the new cube holds this']);
    await t.call('PUT', '/v1/cubes/reused/shares/tenant/globex', {
      key: acme.key,
      body: { permission: 'admin' },
    });
    const owner = await t.call('GET', '/v1/audit?cube=reused', { key: acme.key });
    expect(owner.body.map((r: { itemId: string | null }) => r.itemId)).toContain(oldId);
    const grantee = await t.call('GET', '/v1/audit?cube=acme:reused', { key: globex.key });
    expect(grantee.status).toBe(200);
    expect(grantee.body.map((r: { operation: string }) => r.operation)).toEqual([
      'create_cube',
      'add',
      'share',
    ]);
    expect(grantee.body[1].itemId).toBe(newId);
    expect(grantee.text).not.toContain(oldId);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once a key’s bucket is empty, per key', async () => {
    const limited = await startTestServer({ rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const a = await limited.keyFor('acme', ['read']);
      const b = await limited.keyFor('acme', ['read']);
      const statuses: number[] = [];
      let last = null as Awaited<ReturnType<TestServer['call']>> | null;
      for (let i = 0; i < 5; i++) {
        last = await limited.call('GET', '/v1/cubes', { key: a.key });
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.at(-1)).toBe(429);
      if (!last) throw new Error('no reply');
      problem(last, 429, 'rate-limited');
      expect(Number(last.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await limited.call('GET', '/v1/cubes', { key: b.key })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
