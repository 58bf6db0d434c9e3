import type { EmbedderConfig } from '../core/config.js';
import { embedderConfigFromEnv } from '../embed/factory.js';
import { LOCAL_EMBEDDER_ID } from '../embed/local.js';
import { UsageError } from './usage-error.js';

export const EMBEDDER_CHOICES = ['local', 'none', 'openai-compatible'] as const;
export type EmbedderChoice = (typeof EMBEDDER_CHOICES)[number];

/** The `--embedder` choice that opens a cube built with `embedderId`, where no configuration is needed. */
export function choiceForEmbedder(embedderId: string): EmbedderChoice | undefined {
  if (embedderId === 'none') return 'none';
  if (embedderId === LOCAL_EMBEDDER_ID) return 'local';
  return undefined;
}

/** `--embedder NAME` → embedder config; the OpenAI-compatible one is configured from the environment. */
export function embedderFromFlag(name: EmbedderChoice): EmbedderConfig {
  if (name !== 'openai-compatible') return name;
  const config = embedderConfigFromEnv(process.env);
  if (!config) {
    throw new UsageError(
      '--embedder openai-compatible needs MEMCUBE_EMBEDDER_BASE_URL and MEMCUBE_EMBEDDER_MODEL (and MEMCUBE_EMBEDDER_API_KEY if the server wants one)',
      'embedder',
    );
  }
  return config;
}
