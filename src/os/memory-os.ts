import {
  defaultDatabasePath,
  type MemoryOSConfig,
  memoryOSConfigSchema,
  type ResolvedConfig,
} from '../core/config.js';
import {
  ConflictError,
  EmbedderMismatchError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
} from '../core/errors.js';
import { cubeNameSchema, type TenantAuditQueryInput, tenantAuditQuerySchema } from '../core/schemas.js';
import type { AuditRecord, CubeInfo, Permission } from '../core/types.js';
import { parseWith } from '../core/validate.js';
import { CachedEmbedder, recentEmbeddings } from '../embed/cached.js';
import type { Embedder } from '../embed/embedder.js';
import { createEmbedder } from '../embed/factory.js';
import { allows, highest, lowest, requirePermission } from '../govern/permissions.js';
import { embedsWords, vocabularyOf } from '../retrieve/related-words.js';
import type { AccessStore, CubeGrant, Grantee } from '../store/access.js';
import { openStore, redactUrl } from '../store/open.js';
import type { CubeScope, Store, WriteContext } from '../store/store.js';
import { bundlesKeyedAgain, repairContextKeys } from './context-key-repair.js';
import { Cube } from './cube.js';
import { CubeWarmer } from './cube-warmer.js';
import { resolveItemRef } from './item-refs.js';
import { parseExport } from './portable.js';
import { SessionLocks } from './session-locks.js';

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
  /** Tenants, keys and grants; defaults to the SQLite store's own, none for another store. */
  access?: AccessStore;
  /**
   * Warm each cube in the background the first time a handle that may write opens it (`Cube.warm`),
   * one at a time; `close()` stops the warm-up. For long-running processes: the server and the
   * MCP server set it. Failures are written to stderr.
   */
  warmCubes?: boolean;
}

/** Who acts through a handle: a tenant, the actor recorded on its writes, and what it may do. */
export interface Principal {
  tenant: string;
  /** Recorded as the actor of every change (a key id, for the server). */
  actor: string;
  /** The levels held; the highest counts. Default: `['admin']`, everything. */
  scopes?: Permission[];
  /** Cube references (`name`, or `owner:name` for a shared cube) the handle is limited to; default all. */
  cubes?: string[] | null;
  /** The API key acting, so grants made to that key apply. */
  keyId?: string | null;
  /** Recorded in the audit details of every write. */
  requestId?: string;
}

/** A cube this handle can open: its own, or one another tenant shared with it. */
export interface VisibleCube {
  /** How to name it to `cube()`: `name` for an own cube, `owner:name` for a shared one. */
  ref: string;
  owner: string;
  permission: Permission;
  info: CubeInfo;
}

interface ResolvedPrincipal {
  level: Permission;
  cubes: string[] | null;
  keyId: string | null;
  requestId: string | undefined;
}

interface CubeTarget {
  scope: CubeScope;
  ref: string;
  permission: Permission;
  info: CubeInfo | null;
}

const EMBED_BATCH = 256;
/** Query vectors kept per process (2 KB each with the offline model): an agent repeats its questions. */
const RECENT_QUERIES = 1000;

function reportWarmFailure(key: string, error: unknown, retryInMs: number): void {
  const [tenant, cube] = key.split('\u0000');
  const reason = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `memcube: warming cube '${cube}' of tenant '${tenant}' failed: ${reason}; ` +
      `tried again when the cube is next opened, ${Math.round(retryInMs / 1000)} s from now or later\n`,
  );
}

function isEmbedder(value: unknown): value is Embedder {
  return typeof value === 'object' && value !== null && 'embed' in value && 'id' in value;
}

const FULL_ACCESS: ResolvedPrincipal = { level: 'admin', cubes: null, keyId: null, requestId: undefined };

/**
 * The entry point: one database, one embedder, any number of cubes of one tenant. `as()` gives
 * a handle acting for another tenant and actor, with that caller's permissions enforced here.
 */
/**
 * A cube reference: a cube's name, or `tenant:name` for a cube another tenant owns (`owner` null
 * for the handle's own). Invalid input names the field `cube`.
 */
export function parseCubeRef(ref: string): { owner: string | null; name: string } {
  const colon = typeof ref === 'string' ? ref.indexOf(':') : -1;
  const owner =
    colon < 0 ? null : parseWith(memoryOSConfigSchema.shape.tenant, ref.slice(0, colon), { root: 'cube' });
  const name = parseWith(cubeNameSchema, colon < 0 ? ref : ref.slice(colon + 1), { root: 'cube' });
  return { owner, name };
}

export class MemoryOS {
  readonly config: ResolvedConfig;
  /** The SQLite file, or '' when the handle was opened on a given store. */
  readonly path: string;
  private readonly store: Store;
  private readonly embedder: Embedder;
  /** The same model, caching query vectors in this process instead of the store: a search writes nothing. */
  private readonly queryEmbedder: Embedder;
  private readonly access: AccessStore | null;
  /** Shared by the handles `as()` makes; stopped by the handle `open()` returned. */
  private readonly warmer: CubeWarmer | null;
  /** Shared by every view `as()` makes: they write the same store. */
  private readonly sessionLocks: SessionLocks;
  private readonly principal: ResolvedPrincipal;
  /** Handles made by `as()` share the store and leave closing it to the handle that opened it. */
  private readonly ownsStore: boolean;
  /** The handle `open()` returned stops the warmer, whether or not it closes the store. */
  private readonly ownsWarmer: boolean;

  private constructor(
    config: ResolvedConfig,
    path: string,
    parts: {
      store: Store;
      embedder: Embedder;
      queryEmbedder: Embedder;
      access: AccessStore | null;
      warmer: CubeWarmer | null;
      sessionLocks: SessionLocks;
    },
    principal: ResolvedPrincipal,
    ownsStore: boolean,
    ownsWarmer: boolean,
  ) {
    this.config = config;
    this.path = path;
    this.store = parts.store;
    this.embedder = parts.embedder;
    this.queryEmbedder = parts.queryEmbedder;
    this.access = parts.access;
    this.warmer = parts.warmer;
    this.sessionLocks = parts.sessionLocks;
    this.principal = principal;
    this.ownsStore = ownsStore;
    this.ownsWarmer = ownsWarmer;
  }

  static async open(options: OpenOptions = {}): Promise<MemoryOS> {
    const {
      embedder: embedderOption,
      store: given,
      access: givenAccess,
      closeStore = false,
      warmCubes = false,
      ...rest
    } = options;
    const custom = isEmbedder(embedderOption) ? embedderOption : undefined;
    const config = parseWith(
      memoryOSConfigSchema,
      { ...rest, ...(custom || embedderOption === undefined ? {} : { embedder: embedderOption }) },
      { kind: 'config' },
    );
    const location = given ? (config.path ?? 'custom store') : (config.path ?? defaultDatabasePath());
    const embedder = custom ?? createEmbedder(config.embedder);
    const store =
      given ??
      (await openStore(location, {
        sqlite: { durability: config.durability },
        postgres: { max: config.postgres.poolSize },
      }));
    const ownsStore = !given || closeStore;
    try {
      // The last step of an upgrade from a schema whose deletes left words in context keys.
      await repairContextKeys(store, config.ingest);
    } catch (err) {
      if (ownsStore) await store.close();
      throw err;
    }
    const access = givenAccess ?? store.accessStore?.() ?? null;
    const none = embedder.id === 'none';
    const cached = none ? embedder : new CachedEmbedder(embedder, store);
    const queryEmbedder = none ? embedder : new CachedEmbedder(embedder, recentEmbeddings(RECENT_QUERIES));
    // A postgres URL may carry a password; `path` is shown to users.
    return new MemoryOS(
      config,
      redactUrl(location),
      {
        store,
        embedder: cached,
        queryEmbedder,
        access,
        warmer: warmCubes ? new CubeWarmer(reportWarmFailure) : null,
        sessionLocks: new SessionLocks(),
      },
      FULL_ACCESS,
      ownsStore,
      true,
    );
  }

  /** A handle sharing this one's store and embedder that acts for `principal`. */
  as(principal: Principal): MemoryOS {
    const tenant = parseWith(memoryOSConfigSchema.shape.tenant, principal.tenant, { root: 'tenant' });
    const level = highest(principal.scopes ?? ['admin']);
    if (!level) throw new InvalidInputError('scopes: give at least one of read, write, admin', 'scopes');
    return new MemoryOS(
      { ...this.config, tenant, actor: principal.actor },
      this.path,
      {
        store: this.store,
        embedder: this.embedder,
        queryEmbedder: this.queryEmbedder,
        access: this.access,
        warmer: this.warmer,
        sessionLocks: this.sessionLocks,
      },
      {
        level,
        cubes: principal.cubes ?? null,
        keyId: principal.keyId ?? null,
        requestId: principal.requestId,
      },
      false,
      false,
    );
  }

  /** Tenants, keys and grants of this memory; null when it was opened on a store without them. */
  get accessStore(): AccessStore | null {
    return this.access;
  }

  private writeContext(): WriteContext {
    return {
      actor: this.config.actor,
      now: Date.now(),
      ...(this.principal.requestId ? { requestId: this.principal.requestId } : {}),
    };
  }

  private requireLevel(needed: Permission, what: string): void {
    requirePermission(this.principal.level, needed, what);
  }

  /** Whether a key limited to named cubes may reach this one. */
  private reachable(owner: string, name: string): boolean {
    const { cubes } = this.principal;
    if (cubes === null) return true;
    return cubes.includes(`${owner}:${name}`) || (owner === this.config.tenant && cubes.includes(name));
  }

  /**
   * Resolves `name` (own cube) or `owner:name` (a cube shared with this tenant or key). Another
   * tenant's cube without a grant is "unknown", exactly like a cube that does not exist.
   */
  private async target(ref: string): Promise<CubeTarget> {
    const parsed = parseCubeRef(ref);
    const owner = parsed.owner ?? this.config.tenant;
    const { name } = parsed;
    const unknown = new NotFoundError(`unknown cube '${parsed.owner === null ? name : `${owner}:${name}`}'`);
    if (!this.reachable(owner, name)) throw unknown;
    if (owner === this.config.tenant) {
      return {
        scope: { tenant: owner, cube: name },
        ref: name,
        permission: this.principal.level,
        info: await this.store.getCube(owner, name),
      };
    }
    const grant = (await this.sharedGrants()).find((g) => g.owner === owner && g.cube === name);
    const info = grant ? await this.store.getCube(owner, name) : null;
    if (!grant || !info) throw unknown;
    return {
      scope: { tenant: owner, cube: name },
      ref: `${owner}:${name}`,
      permission: lowest(grant.permission, this.principal.level),
      info,
    };
  }

  private async sharedGrants(): Promise<CubeGrant[]> {
    if (!this.access) return [];
    const grants = await this.access.grantsFor(this.config.tenant, this.principal.keyId);
    // A tenant grant and a key grant on the same cube: the higher one counts.
    const best = new Map<string, CubeGrant>();
    for (const g of grants) {
      const key = `${g.owner}:${g.cube}`;
      const seen = best.get(key);
      if (!seen || lowest(seen.permission, g.permission) === seen.permission) best.set(key, g);
    }
    return [...best.values()];
  }

  private async existing(ref: string): Promise<CubeTarget & { info: CubeInfo }> {
    const t = await this.target(ref);
    if (t.info) return { ...t, info: t.info };
    throw await this.unknownCube(t.ref);
  }

  private async unknownCube(ref: string): Promise<NotFoundError> {
    // Shared cubes count: a key that reaches only `acme:alice` is told so, not that there are none.
    const known = (await this.visibleCubes()).map((c) => c.ref);
    return new NotFoundError(
      `unknown cube '${ref}'${known.length ? `; cubes: ${known.join(', ')}` : '; no cubes yet'}`,
    );
  }

  get embedderId(): string {
    return this.embedder.id;
  }

  private cubeFor(info: CubeInfo, permission: Permission = this.principal.level): Cube {
    if (info.embedderId !== this.embedder.id) {
      throw new EmbedderMismatchError(
        `cube '${info.name}' is embedded with '${info.embedderId}' but this memory is opened with '${this.embedder.id}'; ` +
          `open it with the same embedder, or switch the cube with \`memcube reembed --cube ${info.name} --embedder <name>\``,
        info.embedderId,
      );
    }
    const cube = new Cube({
      store: this.store,
      info,
      embedder: info.dimensions > 0 ? this.embedder : null,
      queryEmbedder: info.dimensions > 0 ? this.queryEmbedder : null,
      config: this.config,
      permission,
      sessionLocks: this.sessionLocks,
      ...(this.principal.requestId ? { requestId: this.principal.requestId } : {}),
    });
    if (this.warmer && allows(permission, 'write')) {
      this.warmer.schedule([info.tenant, info.name, info.createdAt].join('\u0000'), (signal) =>
        cube.warm({ signal }),
      );
    }
    return cube;
  }

  /**
   * Gets a cube — `name`, or `owner:name` for one shared with this tenant — creating an own cube
   * with this handle's embedder when it does not exist (unless `create: false`).
   */
  async cube(ref: string, options: { create?: boolean } = {}): Promise<Cube> {
    if (options.create === false) {
      const t = await this.existing(ref);
      return this.cubeFor(t.info, t.permission);
    }
    const t = await this.target(ref);
    if (t.info) return this.cubeFor(t.info, t.permission);
    return this.createCube(t.scope.cube);
  }

  /** Creates an own cube with this handle's embedder; a conflict if it exists. */
  async createCube(name: string): Promise<Cube> {
    this.requireLevel('write', 'creating a cube');
    const t = await this.target(parseWith(cubeNameSchema, name, { root: 'name' }));
    if (t.info) throw new ConflictError(`cube '${t.ref}' already exists`);
    const info = await this.store.createCube(
      this.config.tenant,
      t.scope.cube,
      { id: this.embedder.id, dimensions: await this.embedder.dimensions() },
      this.writeContext(),
    );
    return this.cubeFor(info);
  }

  /** Removes an own cube with all its memories and grants; its audit trail stays. Needs `admin`. */
  async deleteCube(ref: string): Promise<void> {
    const t = await this.existing(ref);
    if (t.scope.tenant !== this.config.tenant) {
      throw new ForbiddenError(
        `cube '${t.ref}' belongs to tenant '${t.scope.tenant}'; only its owner can delete it`,
      );
    }
    requirePermission(t.permission, 'admin', 'deleting a cube');
    await this.store.deleteCube(t.scope.tenant, t.scope.cube, this.writeContext());
  }

  /**
   * The tenants made on this database for a server (`POST /v1/tenants`), by id; empty where none
   * were (a local database's cubes live under tenants no one registered), null without an access
   * store.
   */
  async registeredTenants(): Promise<string[] | null> {
    return this.access ? (await this.access.listTenants()).map((t) => t.id) : null;
  }

  /** This tenant's cubes (those the handle may reach). */
  async listCubes(): Promise<CubeInfo[]> {
    const own = await this.store.listCubes(this.config.tenant);
    return own.filter((c) => this.reachable(c.tenant, c.name));
  }

  /** Own cubes and cubes shared with this tenant or key, each with the permission this handle has on it. */
  async visibleCubes(): Promise<VisibleCube[]> {
    const own: VisibleCube[] = (await this.listCubes()).map((info) => ({
      ref: info.name,
      owner: info.tenant,
      permission: this.principal.level,
      info,
    }));
    const shared: VisibleCube[] = [];
    for (const g of await this.sharedGrants()) {
      if (!this.reachable(g.owner, g.cube)) continue;
      const info = await this.store.getCube(g.owner, g.cube);
      if (info) {
        shared.push({
          ref: `${g.owner}:${g.cube}`,
          owner: g.owner,
          permission: lowest(g.permission, this.principal.level),
          info,
        });
      }
    }
    return [...own, ...shared];
  }

  private requireAccess(): AccessStore {
    if (!this.access)
      throw new ForbiddenError('this memory was opened without an access store: sharing is unavailable');
    return this.access;
  }

  /** Lets another tenant, or one API key, use a cube with `permission`. Needs `admin` on the cube. */
  async share(ref: string, grantee: Grantee, permission: Permission): Promise<CubeGrant> {
    const t = await this.ownCube(ref, 'sharing a cube');
    const access = this.requireAccess();
    if (grantee.kind === 'tenant') {
      if (grantee.id === t.scope.tenant) {
        throw new InvalidInputError(`tenant '${grantee.id}' owns cube '${t.ref}' already`, 'tenant');
      }
      // A grant to a tenant id nobody holds yet would hand the cube to whoever is created under it.
      if (!(await access.getTenant(grantee.id))) throw new NotFoundError(`unknown tenant '${grantee.id}'`);
    } else {
      const key = await access.findKey(grantee.id);
      if (!key) throw new NotFoundError(`unknown key '${grantee.id}'`);
      if (key.tenant === t.scope.tenant) {
        throw new InvalidInputError(
          `key '${grantee.id}' belongs to the owner tenant, whose keys reach its cubes already; limit it with its cubes instead`,
          'key',
        );
      }
    }
    return access.grant(t.scope, grantee, permission, this.writeContext());
  }

  async unshare(ref: string, grantee: Grantee): Promise<void> {
    const t = await this.ownCube(ref, 'unsharing a cube');
    await this.requireAccess().revokeGrant(t.scope, grantee, this.writeContext());
  }

  /** Sharing is the owner's: a grantee, even with `admin` on the cube, may not pass it on. */
  private async ownCube(ref: string, what: string): Promise<CubeTarget & { info: CubeInfo }> {
    const t = await this.existing(ref);
    if (t.scope.tenant !== this.config.tenant) {
      throw new ForbiddenError(`${what} is for the tenant that owns cube '${t.ref}'`);
    }
    requirePermission(t.permission, 'admin', what);
    return t;
  }

  async grants(ref: string): Promise<CubeGrant[]> {
    const t = await this.existing(ref);
    requirePermission(t.permission, 'admin', 'listing grants');
    return this.requireAccess().listGrants(t.scope);
  }

  /**
   * Audit records, oldest first: of one cube (`cube`, own or shared with `admin`), or of the whole
   * tenant (its cubes, deleted ones included, and its keys). Needs `admin`.
   */
  async audit(query: TenantAuditQueryInput): Promise<AuditRecord[]> {
    const { cube, itemId, limit, ...given } = parseWith(tenantAuditQuerySchema, query, { root: 'query' });
    const rest = { ...given, limit: limit ?? 1000 };
    if (cube !== undefined) {
      // An own cube that was deleted keeps its records: they are read by its name too.
      const t = await this.target(cube);
      requirePermission(t.permission, 'admin', 'reading the audit log');
      const access = this.requireAccess();
      // A name that never held a cube is unknown, as everywhere else.
      if (
        !t.info &&
        (await access.listTenantAudit(t.scope.tenant, { cube: t.scope.cube, limit: 1 })).length === 0
      )
        throw await this.unknownCube(t.ref);
      // A deleted cube has no items left to resolve a short id among.
      const where = `in cube '${t.ref}'`;
      const scopes = t.info ? [t.scope] : [];
      const item = itemId === undefined ? {} : { itemId: await this.auditedItem(scopes, itemId, where) };
      // A grantee reads the shared cube's own records, not those of an earlier cube of its name.
      const since = t.info && t.ref.includes(':') ? Date.parse(t.info.createdAt) : undefined;
      const from = since === undefined ? rest.from : Math.max(rest.from ?? since, since);
      return access.listTenantAudit(t.scope.tenant, {
        ...rest,
        ...item,
        ...(from === undefined ? {} : { from }),
        cube: t.scope.cube,
      });
    }
    if (this.principal.cubes !== null) {
      throw new InvalidInputError('cube: this key is limited to named cubes; name the cube to audit', 'cube');
    }
    this.requireLevel('admin', 'reading the audit log');
    // The tenant's cubes are listed only to resolve an item the query names.
    const tenantScopes = async () =>
      (await this.store.listCubes(this.config.tenant)).map((c) => ({ tenant: c.tenant, cube: c.name }));
    const item =
      itemId === undefined
        ? {}
        : { itemId: await this.auditedItem(await tenantScopes(), itemId, "in this tenant's cubes") };
    return this.requireAccess().listTenantAudit(this.config.tenant, { ...rest, ...item });
  }

  /**
   * The item an audit query names: a full id as it is (a deleted cube's items too), a short id
   * resolved among `scopes`, as `get` resolves one.
   */
  private auditedItem(scopes: CubeScope[], ref: string, where: string): Promise<string> {
    return resolveItemRef(
      this.store,
      scopes,
      ref,
      `${where} (a deleted cube's items are named by their full id)`,
      'query.itemId',
    );
  }

  /**
   * Re-embeds every item of a cube with this handle's embedder and records it as the cube's
   * embedder, in one transaction: a cube never mixes vectors of two models.
   */
  async reembed(name: string, options: { onProgress?: ProgressCallback } = {}): Promise<Cube> {
    this.requireLevel('write', 're-embedding a cube');
    const cubeName = parseWith(cubeNameSchema, name, { root: 'cube' });
    // Through `existing`, so a key limited to other cubes gets the same 404 as for a missing cube.
    const { scope } = await this.existing(cubeName);
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
    await this.store.replaceVectors(
      scope,
      { id: this.embedder.id, dimensions },
      vectors,
      this.writeContext(),
    );
    const cube = await this.cube(cubeName, { create: false });
    // The words' vectors for the related-words channel, with the new embedder.
    await cube.warm();
    return cube;
  }

  /**
   * Reads a JSONL export back: items keep their ids, versions and audit history. Every line is
   * validated before anything is written, and the write is one transaction.
   */
  async importCube(
    lines: Iterable<string>,
    options: { cube?: string; onProgress?: ProgressCallback } = {},
  ): Promise<{ cube: Cube; items: number; auditRecords: number }> {
    this.requireLevel('write', 'importing a cube');
    const parsed = parseExport(lines);
    const cubeName = parseWith(cubeNameSchema, options.cube ?? parsed.header.cube.name, { root: 'cube' });
    const existing = (await this.target(cubeName)).info;
    if (existing) this.cubeFor(existing);
    const dims = existing ? existing.dimensions : await this.embedder.dimensions();
    const bundles =
      parsed.header.version === 1 ? bundlesKeyedAgain(parsed.bundles, this.config.ingest) : parsed.bundles;
    const withVectors: Array<(typeof bundles)[number] & { embedding: Float32Array | null }> = [];
    for (let i = 0; i < bundles.length; i += EMBED_BATCH) {
      const batch = bundles.slice(i, i + EMBED_BATCH);
      const texts = batch.map((b) => b.index.text);
      // The words too, into the embedding cache, as `add` does for the related-words channel.
      const words =
        dims > 0 && embedsWords(this.config.retrieval, this.store)
          ? vocabularyOf(batch.map((b) => b.index))
          : [];
      const vectors = dims > 0 ? await this.embedder.embed([...texts, ...words]) : [];
      batch.forEach((b, j) => {
        withVectors.push({ ...b, embedding: vectors[j] ?? null });
      });
      options.onProgress?.(withVectors.length, bundles.length);
    }
    await this.store.importItems(
      { tenant: this.config.tenant, cube: cubeName },
      withVectors,
      parsed.audit,
      this.writeContext(),
      existing ? undefined : { id: this.embedder.id, dimensions: dims },
    );
    return {
      cube: await this.cube(cubeName, { create: false }),
      items: parsed.bundles.length,
      auditRecords: parsed.audit.length,
    };
  }

  /**
   * Stops the background warm-up (`warmCubes`) and closes the store, unless it was given to
   * `open()` without `closeStore`; a no-op on handles made by `as()`, which share their parent's.
   */
  async close(): Promise<void> {
    if (this.ownsWarmer) await this.warmer?.close();
    if (this.ownsStore) await this.store.close();
  }
}
