import path from 'node:path';
import envPaths from 'env-paths';
import { z } from 'zod';

export const openAICompatibleEmbedderSchema = z.strictObject({
  provider: z.literal('openai-compatible'),
  /** Base URL up to and including the API version, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`. */
  baseURL: z.url(),
  model: z.string().min(1),
  apiKey: z.string().optional(),
  /** Output dimension; discovered from the first response when not given. */
  dimensions: z.number().int().min(1).max(16_384).optional(),
  batchSize: z.number().int().min(1).max(2048).default(64),
  maxRetries: z.number().int().min(0).max(10).default(3),
  timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
});
export type OpenAICompatibleEmbedderConfig = z.output<typeof openAICompatibleEmbedderSchema>;

export const embedderConfigSchema = z.union([
  z.enum(['local', 'none']),
  // Discriminated, so an error names the bad field of the chosen provider rather than "invalid input".
  z.discriminatedUnion('provider', [
    z.strictObject({ provider: z.literal('local'), batchSize: z.number().int().min(1).max(512).default(32) }),
    z.strictObject({ provider: z.literal('none') }),
    openAICompatibleEmbedderSchema,
  ]),
]);
export type EmbedderConfig = z.input<typeof embedderConfigSchema>;

export const retrievalConfigSchema = z.strictObject({
  /** Reciprocal-rank-fusion constant: larger flattens the contribution of top ranks. */
  rrfK: z.number().min(1).max(1000).default(60),
  /** Per-channel multiplier applied to each channel's RRF contribution. */
  channelWeights: z
    .strictObject({ lexical: z.number().min(0).default(1), vector: z.number().min(0).default(1) })
    .default({ lexical: 1, vector: 1 }),
  /** How many candidates each channel contributes before fusion. */
  channelDepth: z.number().int().min(10).max(2000).default(100),
});

export const limitsConfigSchema = z.strictObject({
  /** Longest content accepted for one item, in characters. */
  maxContentChars: z.number().int().min(1).max(10_000_000).default(32_000),
  /** Most messages accepted in one `add` call. */
  maxBatch: z.number().int().min(1).max(1_000_000).default(10_000),
});

export const memoryOSConfigSchema = z.strictObject({
  /** SQLite database file, or `:memory:`. Defaults to `$MEMCUBE_DB` or the user data directory. */
  path: z.string().min(1).optional(),
  embedder: embedderConfigSchema.default('local'),
  /** Tenant whose cubes this handle reads and writes. */
  tenant: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'tenant ids use letters, digits, ".", "_" or "-"')
    .default('default'),
  /** Recorded as the actor of every change made through this handle. */
  actor: z.string().min(1).max(256).default('library'),
  /**
   * `full` fsyncs every commit, so an acknowledged write survives power loss;
   * `normal` survives a process crash but may lose the last commits on power loss.
   */
  durability: z.enum(['full', 'normal']).default('full'),
  limits: limitsConfigSchema.default({ maxContentChars: 32_000, maxBatch: 10_000 }),
  retrieval: retrievalConfigSchema.default({
    rrfK: 60,
    channelWeights: { lexical: 1, vector: 1 },
    channelDepth: 100,
  }),
});
export type MemoryOSConfig = z.input<typeof memoryOSConfigSchema>;
export type ResolvedConfig = z.output<typeof memoryOSConfigSchema>;
export type RetrievalConfig = z.output<typeof retrievalConfigSchema>;
export type LimitsConfig = z.output<typeof limitsConfigSchema>;

/** `$MEMCUBE_DB`, else `memory.db` in the platform's user data directory. */
export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MEMCUBE_DB) return env.MEMCUBE_DB;
  return path.join(envPaths('memcube', { suffix: '' }).data, 'memory.db');
}
