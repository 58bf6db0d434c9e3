import { type EmbedderConfig, embedderConfigSchema } from '../core/config.js';
import { MemcubeError } from '../core/errors.js';
import { parseWith } from '../core/validate.js';
import type { Embedder } from './embedder.js';
import { LocalEmbedder } from './local.js';
import { NoneEmbedder } from './none.js';
import { OpenAICompatibleEmbedder } from './openai-compatible.js';

function isEmbedder(value: unknown): value is Embedder {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { id?: unknown; embed?: unknown };
  return typeof candidate.id === 'string' && typeof candidate.embed === 'function';
}

/** Builds the embedder a config names; an object that already is an Embedder is used as is. */
export function createEmbedder(config: EmbedderConfig | Embedder): Embedder {
  if (isEmbedder(config)) return config;
  const parsed = parseWith(embedderConfigSchema, config, { root: 'embedder', kind: 'config' });
  if (parsed === 'local') return new LocalEmbedder();
  if (parsed === 'none') return new NoneEmbedder();
  switch (parsed.provider) {
    case 'local':
      return new LocalEmbedder({ batchSize: parsed.batchSize });
    case 'none':
      return new NoneEmbedder();
    case 'openai-compatible':
      return new OpenAICompatibleEmbedder(parsed);
  }
}

/**
 * An openai-compatible config from `MEMCUBE_EMBEDDER_BASE_URL`, `_MODEL`, `_API_KEY` and
 * `_DIMENSIONS`; undefined unless both base URL and model are set. The rest is checked by
 * `createEmbedder`.
 */
export function embedderConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EmbedderConfig | undefined {
  const baseURL = env.MEMCUBE_EMBEDDER_BASE_URL?.trim();
  const model = env.MEMCUBE_EMBEDDER_MODEL?.trim();
  if (!baseURL || !model) return undefined;
  const apiKey = env.MEMCUBE_EMBEDDER_API_KEY?.trim();
  const rawDimensions = env.MEMCUBE_EMBEDDER_DIMENSIONS?.trim();
  const dimensions = rawDimensions ? Number(rawDimensions) : undefined;
  // A non-number would surface as a vague union error, so name the variable here instead.
  if (dimensions !== undefined && !Number.isInteger(dimensions)) {
    throw new MemcubeError(
      'invalid_config',
      `MEMCUBE_EMBEDDER_DIMENSIONS must be a whole number, got '${rawDimensions}'`,
      { field: 'embedder.dimensions' },
    );
  }
  return {
    provider: 'openai-compatible',
    baseURL,
    model,
    ...(apiKey ? { apiKey } : {}),
    ...(dimensions === undefined ? {} : { dimensions }),
  };
}
