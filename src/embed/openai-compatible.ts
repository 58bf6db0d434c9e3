import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import { z } from 'zod';
import { type OpenAICompatibleEmbedderConfig, openAICompatibleEmbedderSchema } from '../core/config.js';
import { MemcubeError } from '../core/errors.js';
import { formatPath, parseWith } from '../core/validate.js';
import type { Embedder } from './embedder.js';
import { normalize } from './vector.js';

/** Upper bound on a server's `Retry-After`, so one header cannot stall a caller for minutes. */
const MAX_RETRY_AFTER_MS = 30_000;
const BASE_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 8_000;
const EXCERPT_CHARS = 200;

// Loose on purpose: servers add fields (`object`, `usage`, ...) that we do not need.
const responseSchema = z.object({
  data: z.array(z.object({ index: z.number().int().min(0), embedding: z.array(z.number()) })),
});

export type OpenAICompatibleEmbedderOptions = Omit<
  z.input<typeof openAICompatibleEmbedderSchema>,
  'provider'
> & {
  provider?: 'openai-compatible';
};

/** One failed HTTP attempt; `retryable` decides whether p-retry tries again. */
class AttemptError extends MemcubeError {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, retryable: boolean, retryAfterMs?: number, cause?: unknown) {
    super('embedder_failed', message, { cause });
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Any `/v1/embeddings`-style API: OpenAI, Ollama, vLLM, LM Studio, TEI. */
export class OpenAICompatibleEmbedder implements Embedder {
  readonly id: string;
  private readonly config: OpenAICompatibleEmbedderConfig;
  private readonly endpoint: string;
  private dims: number | undefined;
  private probing: Promise<number> | undefined;

  constructor(options: OpenAICompatibleEmbedderOptions) {
    this.config = parseWith(
      openAICompatibleEmbedderSchema,
      { ...options, provider: 'openai-compatible' },
      { root: 'embedder', kind: 'config' },
    );
    const base = new URL(this.config.baseURL);
    // fetch refuses such URLs anyway, and error messages quote the URL.
    if (base.username || base.password) {
      throw new MemcubeError(
        'invalid_config',
        'embedder.baseURL must not contain credentials; use embedder.apiKey',
        {
          field: 'embedder.baseURL',
        },
      );
    }
    // The output size is part of the identity: the same model truncated to other dimensions gives other vectors.
    this.id = `openai-compatible:${this.config.model}${this.config.dimensions ? `@${this.config.dimensions}` : ''}`;
    this.endpoint = `${this.config.baseURL.replace(/\/+$/, '')}/embeddings`;
    this.dims = this.config.dimensions;
  }

  /** The configured dimension, else the one seen in responses, else one probe request finds it. */
  async dimensions(): Promise<number> {
    if (this.dims !== undefined) return this.dims;
    this.probing ??= this.embed(['dimension probe'])
      .then(([probe]) => probe?.length ?? 0)
      .finally(() => {
        this.probing = undefined;
      });
    return this.probing;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.config.batchSize) {
      out.push(...(await this.embedBatch(texts.slice(start, start + this.config.batchSize))));
    }
    return out;
  }

  private async embedBatch(batch: string[]): Promise<Float32Array[]> {
    const { model, dimensions } = this.config;
    const body = JSON.stringify({
      model,
      input: batch,
      encoding_format: 'float',
      ...(dimensions === undefined ? {} : { dimensions }),
    });
    let attempts = 0;
    let raw: unknown;
    try {
      raw = await pRetry(
        (attempt) => {
          attempts = attempt;
          return this.post(body);
        },
        {
          retries: this.config.maxRetries,
          // p-retry's own wait is made negligible; onFailedAttempt waits instead, so Retry-After can win.
          minTimeout: 0,
          factor: 1,
          shouldRetry: (err) => err instanceof AttemptError && err.retryable,
          onFailedAttempt: async (err) => {
            if (err instanceof AttemptError && err.retryable && err.retriesLeft > 0) {
              await sleep(retryDelay(err, err.attemptNumber));
            }
          },
        },
      );
    } catch (err) {
      if (err instanceof AttemptError && attempts > 1) {
        throw new MemcubeError('embedder_failed', `${err.message} (gave up after ${attempts} attempts)`, {
          cause: err,
        });
      }
      throw err;
    }
    return this.read(raw, batch.length);
  }

  private async post(body: string): Promise<unknown> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    const what = `embedding request to ${this.endpoint}`;
    const signal = AbortSignal.timeout(this.config.timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.endpoint, { method: 'POST', headers, body, signal });
    } catch (cause) {
      // Timeouts and network failures are transient; anything else (a bad header value) is not.
      throw new AttemptError(
        this.redact(`${what} ${describeFetchFailure(cause, this.config.timeoutMs)}`),
        isTransient(cause),
        undefined,
        cause,
      );
    }
    let text: string;
    try {
      text = await res.text();
    } catch (cause) {
      // The connection dropped or timed out mid-body: worth another try.
      const reason = describeFetchFailure(cause, this.config.timeoutMs);
      throw new AttemptError(
        this.redact(`${what} ${reason} while reading the response`),
        true,
        undefined,
        cause,
      );
    }
    if (!res.ok) {
      const retryable = res.status === 429 || res.status >= 500;
      const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      throw new AttemptError(
        this.redact(`${what} failed with ${status}: ${excerpt(text)}`),
        retryable,
        retryable ? parseRetryAfter(res.headers.get('retry-after')) : undefined,
      );
    }
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new AttemptError(
        this.redact(`${what} returned a body that is not JSON: ${excerpt(text)}`),
        false,
        undefined,
        cause,
      );
    }
  }

  /** Validates one response and returns its vectors in input order, unit length. */
  private read(raw: unknown, expected: number): Float32Array[] {
    const where = `embedding response from ${this.endpoint}`;
    const parsed = responseSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const detail = issue ? `${formatPath(issue.path, 'body')}: ${issue.message}` : 'invalid body';
      throw new MemcubeError('embedder_failed', this.redact(`${where} has an unexpected shape: ${detail}`));
    }
    const { data } = parsed.data;
    if (data.length !== expected) {
      throw new MemcubeError(
        'embedder_failed',
        `${where} has ${data.length} embeddings for ${expected} inputs`,
      );
    }
    // Servers may answer out of order; `index` is authoritative.
    const ordered: number[][] = [];
    for (const item of data) {
      if (item.index >= expected || ordered[item.index] !== undefined) {
        throw new MemcubeError(
          'embedder_failed',
          `${where} has an out-of-range or repeated index ${item.index}`,
        );
      }
      ordered[item.index] = item.embedding;
    }
    const length = ordered[0]?.length ?? 0;
    if (length === 0 || ordered.some((v) => v.length !== length)) {
      const lengths = [...new Set(ordered.map((v) => v.length))].join(', ');
      throw new MemcubeError(
        'embedder_failed',
        `${where} has vectors of inconsistent or zero length (${lengths})`,
      );
    }
    this.checkDimensions(length, where);
    return ordered.map((v) => normalize(Float32Array.from(v)));
  }

  private checkDimensions(length: number, where: string): void {
    if (this.config.dimensions !== undefined && length !== this.config.dimensions) {
      throw new MemcubeError(
        'embedder_failed',
        `${where} has ${length}-dimensional vectors but embedder.dimensions is ${this.config.dimensions}; ` +
          'set embedder.dimensions to match the model, or use a model that supports the requested size',
      );
    }
    if (this.dims !== undefined && length !== this.dims) {
      throw new MemcubeError(
        'embedder_failed',
        `${where} has ${length}-dimensional vectors but earlier responses had ${this.dims}`,
      );
    }
    this.dims = length;
  }

  /** Servers sometimes echo the key back in error bodies; it must never reach a log. */
  private redact(message: string): string {
    const key = this.config.apiKey;
    return key ? message.replaceAll(key, '[redacted]') : message;
  }
}

function excerpt(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

function isTransient(cause: unknown): boolean {
  if (!(cause instanceof Error)) return false;
  // undici reports every connection-level failure (refused, reset, DNS) as `TypeError: fetch failed`.
  return cause.name === 'TimeoutError' || (cause instanceof TypeError && cause.message === 'fetch failed');
}

function describeFetchFailure(cause: unknown, timeoutMs: number): string {
  if (cause instanceof Error && cause.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (!(cause instanceof Error)) return `failed: ${String(cause)}`;
  // undici reports "fetch failed" and puts the useful part (ECONNREFUSED, ...) in `cause`.
  const inner = cause.cause instanceof Error ? ` (${cause.cause.message})` : '';
  return `failed: ${cause.message}${inner}`;
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isNaN(ms) ? undefined : Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** The server's Retry-After when given, else exponential backoff with jitter. */
function retryDelay(err: AttemptError, attemptNumber: number): number {
  if (err.retryAfterMs !== undefined) return err.retryAfterMs;
  const ceiling = Math.min(BASE_BACKOFF_MS * 2 ** (attemptNumber - 1), MAX_BACKOFF_MS);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
