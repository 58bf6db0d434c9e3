import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { MemcubeError } from '../../src/core/errors.js';
import { LocalEmbedder } from '../../src/embed/local.js';
import { OpenAICompatibleEmbedder } from '../../src/embed/openai-compatible.js';
import {
  type EmbeddingServer,
  type EmbeddingServerOptions,
  startEmbeddingServer,
} from '../helpers/embedding-server.js';

const servers: EmbeddingServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(options: EmbeddingServerOptions = {}): Promise<EmbeddingServer> {
  const server = await startEmbeddingServer(options);
  servers.push(server);
  return server;
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a).toHaveLength(b.length);
  let worst = 0;
  a.forEach((v, i) => {
    v.forEach((x, j) => {
      worst = Math.max(worst, Math.abs(x - (b[i]?.[j] ?? Number.NaN)));
    });
  });
  return worst;
}

function inputsOf(server: EmbeddingServer): unknown[] {
  return server.requests.map((r) => (r.body as { input: unknown }).input);
}

const local = new LocalEmbedder();
const texts = [
  'I moved to Berlin last month.',
  'Alice relocated to Germany',
  'The recipe needs two cups of flour',
];

describe('OpenAICompatibleEmbedder over HTTP', () => {
  it('returns the same vectors as the model behind the server', async () => {
    const server = await serve();
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'use-lite' });
    expect(client.id).toBe('openai-compatible:use-lite');
    expect(maxDiff(await client.embed(texts), await local.embed(texts))).toBeLessThan(1e-5);
    expect(server.requests[0]?.body).toEqual({ model: 'use-lite', input: texts, encoding_format: 'float' });
    expect(server.requests[0]?.authorization).toBeUndefined();
  });

  it('splits 5 texts with batchSize 2 into 3 requests, keeping order', async () => {
    const server = await serve();
    const five = ['one', 'two', 'three', 'four', 'five'];
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm', batchSize: 2 });
    expect(maxDiff(await client.embed(five), await local.embed(five))).toBeLessThan(1e-5);
    expect(inputsOf(server)).toEqual([['one', 'two'], ['three', 'four'], ['five']]);
  });

  it('retries 503 and 429 responses and then succeeds', async () => {
    const server = await serve({
      failures: [{ status: 503 }, { status: 429, retryAfter: '0' }, { status: 503, retryAfter: '0' }],
    });
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm', maxRetries: 3 });
    expect(maxDiff(await client.embed(texts), await local.embed(texts))).toBeLessThan(1e-5);
    expect(server.requests).toHaveLength(4);
  });

  it('gives up after maxRetries with the URL, status and body in the message', async () => {
    const server = await serve({
      failures: Array.from({ length: 3 }, () => ({
        status: 502,
        retryAfter: '0',
        body: 'upstream exploded',
      })),
    });
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm', maxRetries: 1 });
    const err = await client.embed(['x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemcubeError);
    expect(err).toMatchObject({ code: 'embedder_failed' });
    const { message } = err as MemcubeError;
    expect(message).toContain(`${server.baseURL}/embeddings`);
    expect(message).toContain('HTTP 502');
    expect(message).toContain('upstream exploded');
    expect(message).toContain('after 2 attempts');
    expect(server.requests).toHaveLength(2);
  });

  it('sends the bearer key and fails at once on 401 without revealing the key', async () => {
    const server = await serve({ apiKey: 'right-key' });
    const ok = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm', apiKey: 'right-key' });
    expect(await ok.embed(['x'])).toHaveLength(1);
    expect(server.requests[0]?.authorization).toBe('Bearer right-key');

    const secret = 'sk-secret-0123456789';
    const bad = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm', apiKey: secret });
    const err = await bad.embed(['x']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'embedder_failed' });
    const { message } = err as MemcubeError;
    expect(message).toContain('HTTP 401');
    expect(message).toContain(server.baseURL);
    expect(message).toContain('Incorrect API key provided');
    expect(message).not.toContain(secret);
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry other 4xx responses', async () => {
    const server = await serve({ failures: [{ status: 400, body: '{"error":"bad model"}' }] });
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm' });
    await expect(client.embed(['x'])).rejects.toThrow(/HTTP 400.*bad model/);
    expect(server.requests).toHaveLength(1);
  });

  it('reports a response of the wrong shape clearly', async () => {
    const server = await serve({
      transform: (r) => ({ data: r.data.map((d) => ({ index: d.index, embedding: 'oops' })) }),
    });
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm' });
    await expect(client.embed(['x'])).rejects.toThrow(/unexpected shape: body\.data\[0\]\.embedding/);
  });

  it('reports a body that is not JSON clearly', async () => {
    const server = await serve({ transform: () => '<html>gateway</html>' });
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm' });
    await expect(client.embed(['x'])).rejects.toThrow(/not JSON: <html>gateway<\/html>/);
  });

  it('reports a response with the wrong number of embeddings', async () => {
    const server = await serve({ transform: (r) => ({ ...r, data: r.data.slice(1) }) });
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm' });
    await expect(client.embed(['a', 'b'])).rejects.toThrow(/1 embeddings for 2 inputs/);
  });

  it('reorders data by index', async () => {
    const server = await serve({ transform: (r) => ({ ...r, data: [...r.data].reverse() }) });
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm' });
    expect(maxDiff(await client.embed(texts), await local.embed(texts))).toBeLessThan(1e-5);
  });

  it('discovers the dimension with one probe and remembers it', async () => {
    const server = await serve();
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm' });
    const [first, second] = await Promise.all([client.dimensions(), client.dimensions()]);
    expect([first, second]).toEqual([512, 512]);
    expect(await client.dimensions()).toBe(512);
    expect(server.requests).toHaveLength(1);
  });

  it('reports configured dimensions that the server does not honour, naming both', async () => {
    const server = await serve();
    const client = new OpenAICompatibleEmbedder({ baseURL: server.baseURL, model: 'm', dimensions: 256 });
    expect(await client.dimensions()).toBe(256);
    await expect(client.embed(['x'])).rejects.toThrow(/512-dimensional.*embedder\.dimensions is 256/);
    expect(server.requests[0]?.body).toMatchObject({ dimensions: 256 });
  });

  it('retries a refused connection and then names the URL', async () => {
    const silent = await listen(createServer());
    const port = (silent.address() as AddressInfo).port;
    await new Promise((resolve) => silent.close(resolve));
    const baseURL = `http://127.0.0.1:${port}/v1`;
    const client = new OpenAICompatibleEmbedder({ baseURL, model: 'm', maxRetries: 1 });
    await expect(client.embed(['x'])).rejects.toThrow(
      new RegExp(`${baseURL}/embeddings failed: .*ECONNREFUSED.*after 2 attempts`),
    );
  });

  it('times out a server that never answers', async () => {
    const hung = await listen(createServer(() => {}));
    const port = (hung.address() as AddressInfo).port;
    const client = new OpenAICompatibleEmbedder({
      baseURL: `http://127.0.0.1:${port}/v1`,
      model: 'm',
      timeoutMs: 200,
      maxRetries: 0,
    });
    await expect(client.embed(['x'])).rejects.toThrow(/timed out after 200 ms/);
    hung.closeAllConnections();
    await new Promise((resolve) => hung.close(resolve));
  });

  it('refuses credentials inside the base URL', () => {
    expect(
      () => new OpenAICompatibleEmbedder({ baseURL: 'http://user:pw@localhost/v1', model: 'm' }),
    ).toThrow(expect.objectContaining({ code: 'invalid_config', field: 'embedder.baseURL' }));
  });
});

async function listen(server: Server): Promise<Server> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}
