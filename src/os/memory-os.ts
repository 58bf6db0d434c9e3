import {
  defaultDatabasePath,
  type MemoryOSConfig,
  memoryOSConfigSchema,
  type ResolvedConfig,
} from '../core/config.js';
import { EmbedderMismatchError, NotFoundError } from '../core/errors.js';
import { cubeNameSchema } from '../core/schemas.js';
import type { CubeInfo } from '../core/types.js';
import { parseWith } from '../core/validate.js';
import { CachedEmbedder } from '../embed/cached.js';
import type { Embedder } from '../embed/embedder.js';
import { createEmbedder } from '../embed/factory.js';
import { openStore, redactUrl } from '../store/open.js';
import type { Store } from '../store/store.js';
import { Cube } from './cube.js';
import { parseExport } from './portable.js';

export type ProgressCallback = (done: number, total: number) => void;

export interface OpenOptions extends Omit<MemoryOSConfig, 'embedder'> {
  /** A built-in embedder's config, or your own `Embedder` implementation. */
  embedder?: MemoryOSConfig['embedder'] | Embedder;
  /**
   * An open store to use instead of opening `path` (a server shares one among many handles).
   * The caller keeps it and closes it, unless `closeStore` hands it over to this handle.
   */
  store?: Store;
  closeStore?: boolean;
}

const EMBED_BATCH = 256;

function isEmbedder(value: unknown): value is Embedder {
  return typeof value === 'object' && value !== null && 'embed' in value && 'id' in value;
}

/** The entry point: one database, one embedder, any number of cubes of one tenant. */
export class MemoryOS {
  readonly config: ResolvedConfig;
  readonly path: string;
  private readonly store: Store;
  private readonly embedder: Embedder;
  private readonly ownsStore: boolean;

  private constructor(
    config: ResolvedConfig,
    path: string,
    store: Store,
    embedder: Embedder,
    ownsStore: boolean,
  ) {
    this.config = config;
    this.path = path;
    this.store = store;
    this.embedder = embedder;
    this.ownsStore = ownsStore;
  }

  static async open(options: OpenOptions = {}): Promise<MemoryOS> {
    const { embedder: embedderOption, store: given, closeStore = false, ...rest } = options;
    const custom = isEmbedder(embedderOption) ? embedderOption : undefined;
    const config = parseWith(
      memoryOSConfigSchema,
      { ...rest, ...(custom || embedderOption === undefined ? {} : { embedder: embedderOption }) },
      { kind: 'config' },
    );
    const location = given ? 'custom store' : (config.path ?? defaultDatabasePath());
    const embedder = custom ?? createEmbedder(config.embedder);
    const store = given ?? (await openStore(location, { sqlite: { durability: config.durability } }));
    const cached = embedder.id === 'none' ? embedder : new CachedEmbedder(embedder, store);
    // A postgres URL may carry a password; `path` is shown to users.
    return new MemoryOS(config, redactUrl(location), store, cached, !given || closeStore);
  }

  get embedderId(): string {
    return this.embedder.id;
  }

  private cubeFor(info: CubeInfo): Cube {
    if (info.embedderId !== this.embedder.id) {
      throw new EmbedderMismatchError(
        `cube '${info.name}' is embedded with '${info.embedderId}' but this memory is opened with '${this.embedder.id}'; ` +
          `open it with the same embedder, or switch the cube with \`memcube reembed --cube ${info.name} --embedder <name>\``,
      );
    }
    return new Cube({
      store: this.store,
      info,
      embedder: info.dimensions > 0 ? this.embedder : null,
      config: this.config,
    });
  }

  /** Gets a cube, creating it with this handle's embedder when it does not exist (unless `create: false`). */
  async cube(name: string, options: { create?: boolean } = {}): Promise<Cube> {
    const cubeName = parseWith(cubeNameSchema, name, { root: 'cube' });
    const existing = await this.store.getCube(this.config.tenant, cubeName);
    if (existing) return this.cubeFor(existing);
    if (options.create === false) {
      const known = (await this.listCubes()).map((c) => c.name);
      throw new NotFoundError(
        `unknown cube '${cubeName}'${known.length ? `; cubes: ${known.join(', ')}` : '; no cubes yet: add a memory to create one'}`,
      );
    }
    const info = await this.store.createCube(
      this.config.tenant,
      cubeName,
      { id: this.embedder.id, dimensions: await this.embedder.dimensions() },
      { actor: this.config.actor, now: Date.now() },
    );
    return this.cubeFor(info);
  }

  async listCubes(): Promise<CubeInfo[]> {
    return this.store.listCubes(this.config.tenant);
  }

  /**
   * Re-embeds every item of a cube with this handle's embedder and records it as the cube's
   * embedder, in one transaction: a cube never mixes vectors of two models.
   */
  async reembed(name: string, options: { onProgress?: ProgressCallback } = {}): Promise<Cube> {
    const cubeName = parseWith(cubeNameSchema, name, { root: 'cube' });
    const info = await this.store.getCube(this.config.tenant, cubeName);
    if (!info) throw new NotFoundError(`unknown cube '${cubeName}'`);
    const scope = { tenant: this.config.tenant, cube: cubeName };
    const dimensions = await this.embedder.dimensions();
    const total = (await this.store.stats(scope)).items;
    const vectors = new Map<string, Float32Array>();
    let done = 0;
    for await (const page of this.store.indexTexts(scope)) {
      if (dimensions > 0) {
        for (let i = 0; i < page.length; i += EMBED_BATCH) {
          const batch = page.slice(i, i + EMBED_BATCH);
          const embedded = await this.embedder.embed(batch.map((p) => p.text));
          batch.forEach((p, j) => {
            const v = embedded[j];
            if (v) vectors.set(p.id, v);
          });
          done += batch.length;
          options.onProgress?.(done, total);
        }
      } else {
        done += page.length;
        options.onProgress?.(done, total);
      }
    }
    await this.store.replaceVectors(scope, { id: this.embedder.id, dimensions }, vectors, {
      actor: this.config.actor,
      now: Date.now(),
    });
    return this.cube(cubeName, { create: false });
  }

  /**
   * Reads a JSONL export back: items keep their ids, versions and audit history. Every line is
   * validated before anything is written, and the write is one transaction.
   */
  async importCube(
    lines: Iterable<string>,
    options: { cube?: string; onProgress?: ProgressCallback } = {},
  ): Promise<{ cube: Cube; items: number; auditRecords: number }> {
    const parsed = parseExport(lines);
    const cubeName = parseWith(cubeNameSchema, options.cube ?? parsed.header.cube.name, { root: 'cube' });
    const existing = await this.store.getCube(this.config.tenant, cubeName);
    if (existing) this.cubeFor(existing);
    const dims = existing ? existing.dimensions : await this.embedder.dimensions();
    const withVectors: Array<(typeof parsed.bundles)[number] & { embedding: Float32Array | null }> = [];
    for (let i = 0; i < parsed.bundles.length; i += EMBED_BATCH) {
      const batch = parsed.bundles.slice(i, i + EMBED_BATCH);
      const vectors = dims > 0 ? await this.embedder.embed(batch.map((b) => b.index.text)) : [];
      batch.forEach((b, j) => {
        withVectors.push({ ...b, embedding: vectors[j] ?? null });
      });
      options.onProgress?.(withVectors.length, parsed.bundles.length);
    }
    await this.store.importItems(
      { tenant: this.config.tenant, cube: cubeName },
      withVectors,
      parsed.audit,
      { actor: this.config.actor, now: Date.now() },
      existing ? undefined : { id: this.embedder.id, dimensions: dims },
    );
    return {
      cube: await this.cube(cubeName, { create: false }),
      items: parsed.bundles.length,
      auditRecords: parsed.audit.length,
    };
  }

  async close(): Promise<void> {
    if (this.ownsStore) await this.store.close();
  }
}
