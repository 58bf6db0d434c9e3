import http from 'node:http';

/**
 * Hostile requests against a running memcube server: each must get a 4xx problem document —
 * never a 5xx, never a crash — and leave the data as it was. Used by `bench/abuse.ts` (any
 * server) and by `test/server/abuse.test.ts` (a fresh one).
 */

export interface AbuseTarget {
  url: string;
  adminKey: string;
}

export interface AbuseFailure {
  name: string;
  reason: string;
}

export interface AbuseReport {
  checks: number;
  failures: AbuseFailure[];
}

interface Case {
  name: string;
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Which key to send: the tenant's, the other tenant's, none, or a made-up one. */
  as?: 'owner' | 'foreign' | 'none' | 'bogus';
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** One request on its own connection: a refused oversized body leaves its connection unusable. */
function call(
  target: AbuseTarget,
  method: string,
  path: string,
  key: string | null,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${target.url}${path}`,
      { method, agent: false, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body: text }),
        );
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before the whole body is written.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    req.end(body);
  });
}

async function json(target: AbuseTarget, method: string, path: string, key: string, body?: unknown) {
  const res = await call(
    target,
    method,
    path,
    key,
    body === undefined ? undefined : JSON.stringify(body),
    JSON_TYPE,
  );
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.body}`);
  return JSON.parse(res.body) as Record<string, unknown>;
}

function cases(itemId: string, foreignItemId: string): Case[] {
  const add = '/v1/cubes/target/memories';
  const post = (name: string, path: string, body: string | Buffer, headers = JSON_TYPE): Case => ({
    name,
    method: 'POST',
    path,
    body,
    headers,
  });
  return [
    post('truncated JSON', add, '{"text": "abc'),
    post('JSON with trailing garbage', add, '{"text": "abc"} xyz'),
    post('a bare string', add, '"just a string"'),
    post('null body', add, 'null'),
    post('an array body', add, '[1, 2, 3]'),
    post('invalid UTF-8', add, Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
    post('a lone surrogate escape is fine JSON but empty content is not', add, '{"text": "   "}'),
    post('wrong type: text is a number', add, '{"text": 42}'),
    post('wrong type: messages is an object', add, '{"messages": {"content": "x"}}'),
    post('wrong type: role is not a role', add, '{"messages": [{"content": "x", "role": "root"}]}'),
    post('unknown field', add, '{"text": "x", "isAdmin": true}'),
    post('prototype pollution attempt', add, '{"text": "x", "__proto__": {"admin": true}}'),
    post('a date that is not a date', add, '{"messages": [{"content": "x", "at": "Meeting 5"}]}'),
    post('content over the item limit', add, JSON.stringify({ text: 'y'.repeat(40_000) })),
    post(
      'deeply nested metadata',
      add,
      `{"text":"x","metadata":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
    ),
    post('form-encoded body', add, 'text=hello', { 'content-type': 'application/x-www-form-urlencoded' }),
    post('search limit out of range', '/v1/cubes/target/search', '{"query": "x", "limit": 1000000}'),
    post(
      'search with SQL in the query is just words, but an unknown filter is refused',
      '/v1/cubes/target/search',
      '{"query": "x", "where": "1=1"}',
    ),
    post('cube name with SQL', '/v1/cubes', JSON.stringify({ name: "x'; DROP TABLE items; --" })),
    post('cube name with path traversal', '/v1/cubes', JSON.stringify({ name: '../../etc/passwd' })),
    {
      name: 'path traversal in an item id',
      method: 'GET',
      path: '/v1/cubes/target/memories/..%2F..%2F..%2Fetc%2Fpasswd',
    },
    {
      name: 'SQL in an item id',
      method: 'GET',
      path: `/v1/cubes/target/memories/${encodeURIComponent("1' OR '1'='1")}`,
    },
    {
      name: 'SQL in a cube name',
      method: 'GET',
      path: `/v1/cubes/${encodeURIComponent("t' OR 1=1 --")}/memories`,
    },
    {
      name: 'a cursor that is not a cursor',
      method: 'GET',
      path: '/v1/cubes/target/memories?cursor=%27%3B--',
    },
    { name: 'a limit that is not a number', method: 'GET', path: '/v1/cubes/target/memories?limit=all' },
    {
      name: 'an unknown status filter',
      method: 'GET',
      path: '/v1/cubes/target/memories?statuses=everything',
    },
    { name: 'an audit time that is not a time', method: 'GET', path: '/v1/audit?from=%27%20OR%201%3D1' },
    { name: 'no key', method: 'GET', path: '/v1/cubes/target/memories', as: 'none' },
    { name: 'a made-up key', method: 'GET', path: '/v1/cubes/target/memories', as: 'bogus' },
    {
      name: 'foreign key reads the cube',
      method: 'GET',
      path: '/v1/cubes/owner:target/memories',
      as: 'foreign',
    },
    {
      name: 'foreign key reads an item',
      method: 'GET',
      path: `/v1/cubes/target/memories/${itemId}`,
      as: 'foreign',
    },
    {
      name: 'foreign key deletes an item',
      method: 'DELETE',
      path: `/v1/cubes/owner:target/memories/${itemId}`,
      as: 'foreign',
    },
    {
      name: 'foreign key shares the cube',
      method: 'PUT',
      path: '/v1/cubes/owner:target/shares/tenant/other',
      body: '{"permission":"admin"}',
      headers: JSON_TYPE,
      as: 'foreign',
    },
    {
      name: 'foreign item id in own cube',
      method: 'GET',
      path: `/v1/cubes/target/memories/${foreignItemId}`,
    },
    { name: 'foreign key deletes the cube', method: 'DELETE', path: '/v1/cubes/owner:target', as: 'foreign' },
    { name: 'a method that does not exist', method: 'PUT', path: '/v1/cubes/target/memories' },
    post('a huge body', add, JSON.stringify({ text: 'x'.repeat(3 * 1024 * 1024) })),
  ];
}

/** Sets up two tenants with one item each, fires every case, and checks nothing changed. */
export async function runAbuseChecks(target: AbuseTarget): Promise<AbuseReport> {
  const stamp = Date.now().toString(36);
  const owner = `owner`;
  const other = `other`;
  for (const id of [owner, other]) {
    const res = await call(target, 'POST', '/v1/tenants', target.adminKey, JSON.stringify({ id }), JSON_TYPE);
    if (res.status !== 201 && res.status !== 409) throw new Error(`tenant ${id}: ${res.status} ${res.body}`);
  }
  const keyOf = async (tenant: string) =>
    (
      await json(target, 'POST', '/v1/keys', target.adminKey, {
        tenant,
        name: `abuse-${stamp}`,
        scopes: ['admin'],
      })
    ).key as string;
  const ownerKey = await keyOf(owner);
  const foreignKey = await keyOf(other);
  for (const key of [ownerKey, foreignKey]) {
    const made = await call(target, 'POST', '/v1/cubes', key, JSON.stringify({ name: 'target' }), JSON_TYPE);
    if (made.status !== 201 && made.status !== 409) throw new Error(`cube: ${made.status} ${made.body}`);
  }
  const itemId = (
    (await json(target, 'POST', '/v1/cubes/target/memories', ownerKey, { text: `owner item ${stamp}` }))
      .ids as string[]
  )[0] as string;
  const foreignItemId = (
    (await json(target, 'POST', '/v1/cubes/target/memories', foreignKey, { text: `other item ${stamp}` }))
      .ids as string[]
  )[0] as string;

  const snapshot = async () =>
    JSON.stringify(
      await Promise.all(
        [ownerKey, foreignKey].map((key) =>
          json(target, 'GET', '/v1/cubes/target/memories?limit=1000&statuses=active,deleted', key),
        ),
      ),
    );
  const before = await snapshot();
  const failures: AbuseFailure[] = [];
  const list = cases(itemId, foreignItemId);
  for (const c of list) {
    const key =
      c.as === 'none'
        ? null
        : c.as === 'bogus'
          ? 'mck_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
          : c.as === 'foreign'
            ? foreignKey
            : ownerKey;
    try {
      const res = await call(target, c.method, c.path, key, c.body, c.headers);
      if (res.status < 400 || res.status >= 500) {
        failures.push({ name: c.name, reason: `status ${res.status}: ${res.body.slice(0, 200)}` });
      } else if (!res.type.startsWith('application/problem+json')) {
        failures.push({ name: c.name, reason: `content-type ${res.type}` });
      } else {
        const doc = JSON.parse(res.body) as Record<string, unknown>;
        if (typeof doc.type !== 'string' || doc.status !== res.status || typeof doc.detail !== 'string') {
          failures.push({ name: c.name, reason: `not a problem document: ${res.body.slice(0, 200)}` });
        }
      }
    } catch (err) {
      failures.push({ name: c.name, reason: `request failed: ${(err as Error).message}` });
    }
  }
  const health = await call(target, 'GET', '/v1/health', null);
  if (health.status !== 200)
    failures.push({ name: 'server still healthy', reason: `health ${health.status}` });
  if ((await snapshot()) !== before)
    failures.push({ name: 'data unchanged', reason: 'the memories changed' });
  return { checks: list.length + 2, failures };
}
