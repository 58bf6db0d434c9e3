export type { EmbedderConfig, MemoryOSConfig, OpenAICompatibleEmbedderConfig } from './core/config.js';
export {
  ConflictError,
  EmbedderMismatchError,
  type ErrorCode,
  InvalidInputError,
  MemcubeError,
  NotFoundError,
} from './core/errors.js';
export type {
  AddOptions,
  ContextOptions,
  ListOptions,
  MessageInput,
  SearchOptions,
  UpdatePatch,
} from './core/schemas.js';
export * from './core/types.js';
export type { Embedder } from './embed/embedder.js';
export { type AddResult, Cube } from './os/cube.js';
export { MemoryOS, type OpenOptions, type ProgressCallback } from './os/memory-os.js';
export type { ContextPack } from './retrieve/context.js';
export { TOKENIZER } from './retrieve/tokens.js';
export type { AccessStore } from './store/access.js';
export { isPostgresUrl, type OpenStoreOptions, openStore } from './store/open.js';
export { PostgresStore, type PostgresStoreOptions } from './store/postgres/postgres-store.js';
export type { CubeStats, Page, Store } from './store/store.js';
