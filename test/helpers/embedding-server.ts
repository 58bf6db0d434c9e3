import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalEmbedder } from '../../src/embed/local.js';

/** A canned failure served instead of a real answer. */
export interface InjectedFailure {
  status: number;
  /** Sent as the `Retry-After` header when given. */
  retryAfter?: string;
  body?: string;
}

export interface EmbeddingsResponse {
  object: 'list';
  model: string;
  data: Array<{ object: 'embedding'; index: number; embedding: number[] }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

export interface RecordedRequest {
  method: string | undefined;
  url: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

export interface EmbeddingServerOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Served in order to the first requests, one each, before real answers. */
  failures?: InjectedFailure[];
  /** Rewrites a real answer before it is sent; a string is sent as the raw body. */
  transform?: (response: EmbeddingsResponse) => unknown;
}

export interface EmbeddingServer {
  /** Base URL including `/v1`, as a client config wants it. */
  baseURL: string;
  /** Every request received, including failed ones, in arrival order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A real `/v1/embeddings` endpoint on 127.0.0.1 backed by the offline model, so HTTP clients are
 * tested against genuine vectors rather than canned numbers.
 */
export async function startEmbeddingServer(options: EmbeddingServerOptions = {}): Promise<EmbeddingServer> {
  const model = new LocalEmbedder();
  const failures = [...(options.failures ?? [])];
  const requests: RecordedRequest[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    requests.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });

    if (req.method !== 'POST' || req.url !== '/v1/embeddings') return send(res, 404, { error: 'not found' });
    const failure = failures.shift();
    if (failure) {
      const headers: Record<string, string> =
        failure.retryAfter === undefined ? {} : { 'retry-after': failure.retryAfter };
      return send(
        res,
        failure.status,
        failure.body ?? { error: { message: `injected ${failure.status}` } },
        headers,
      );
    }
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      // Echo the presented key like some providers do, so clients are tested for redaction.
      const presented = req.headers.authorization?.replace(/^Bearer /, '') ?? '(none)';
      return send(res, 401, { error: { message: `Incorrect API key provided: ${presented}` } });
    }
    const input = (body as { input?: unknown } | null)?.input;
    const texts = typeof input === 'string' ? [input] : input;
    if (!Array.isArray(texts) || !texts.every((t) => typeof t === 'string')) {
      return send(res, 400, { error: { message: "'input' must be a string or an array of strings" } });
    }
    const vectors = await model.embed(texts);
    const response: EmbeddingsResponse = {
      object: 'list',
      model: String((body as { model?: unknown }).model),
      data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v) })),
      usage: { prompt_tokens: texts.length, total_tokens: texts.length },
    };
    send(res, 200, options.transform ? options.transform(response) : response);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: { message: String(err) } }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}
