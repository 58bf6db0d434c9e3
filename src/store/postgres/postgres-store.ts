import pg from 'pg';
import { ConflictError, InvalidInputError, NotFoundError, SessionChangedError } from '../../core/errors.js';
import type {
  AuditOperation,
  AuditRecord,
  CubeInfo,
  MemoryItem,
  MemoryStatus,
  MemoryVersion,
} from '../../core/types.js';
import { importedAuditValues } from '../audit-values.js';
import { assertMutable, assertVectorLength, decodeCursor, encodeCursor } from '../item-rules.js';
import {
  duplicateProbeValues,
  ITEM_INSERT_COLUMNS,
  importedItemValues,
  itemPlaceholders,
  newItemValues,
  type OriginRow,
  originsFromRows,
} from '../item-values.js';
import { isNarrowing } from '../sqlite/filter-sql.js';
import {
  type AuditEntry,
  blobToVector,
  type CubeRow,
  cubeInfo,
  type ItemRow,
  iso,
  msOrNull,
  rowToItem,
  rowToVersion,
  type VersionRow,
  vectorToBlob,
} from '../sqlite/rows.js';
import type {
  AuditQuery,
  ContextKeyUpdate,
  ContextKeyWrite,
  CubeScope,
  CubeStats,
  EmbedderIdentity,
  InsertOutcome,
  ItemBundle,
  ItemChange,
  ItemOrigin,
  LexicalWeights,
  NewItemRecord,
  Page,
  ScoredId,
  SessionStamp,
  Store,
  StoreItemFilter,
  TurnRef,
  VocabularyMark,
  VocabularyPage,
  WriteContext,
} from '../store.js';
import { insertAuditSql, selectAudit, writeAudit } from './audit.js';
import { filterToSql } from './filter-sql.js';
import { PostgresAccessStore } from './postgres-access.js';
import { checkSchemaName, ensureVectorIndex, MAX_HNSW_DIMENSIONS, migrate } from './schema.js';
import { asStorageError, type Db, Params, query, transaction, typeParsers, vectorLiteral } from './sql.js';
import { listWordsOnce, markWordsListed, readWords, recordWords } from './vocabulary.js';

export interface PostgresStoreOptions extends Omit<pg.PoolConfig, 'types'> {
  /** Schema holding memcube's tables (created when missing); several memcubes can share a database. */
  schema?: string;
  /**
   * `hnsw.ef_search` of a vector search, raised to the requested limit (pgvector caps it at 1000):
   * the candidate list an HNSW scan keeps; larger is better recall and slower.
   */
  efSearch?: number;
}

interface ResolvedCube {
  key: number;
  name: string;
  tenant: string;
  dimensions: number;
}

const PAGE = 500;
const DEFAULT_SCHEMA = 'memcube';
const DEFAULT_EF_SEARCH = 100;
const MAX_EF_SEARCH = 1000;

/** Item columns in the shape the shared row mappers read (JSON as text, times as epoch ms). */
const ITEM_COLUMNS = `i.item_key, i.id, i.kind, i.content, i.index_text, i.index_context, i.index_keys,
  i.derived::text AS derived, i.role, i.speaker, i.user_id, i.agent_id, i.session_id, i.run_id, i.turn_index,
  i.created_at, i.updated_at, i.valid_from, i.valid_to, i.source_ids::text AS source_ids, i.tags::text AS tags,
  i.metadata::text AS metadata, i.content_hash, i.status, i.version`;
const VERSION_COLUMNS = `v.version, v.operation, v.content, v.status, v.tags::text AS tags, v.metadata::text AS metadata,
  v.valid_from, v.valid_to, v.changed_at, v.changed_by`;
/**
 * The scale-out store: PostgreSQL through a `pg` pool, pgvector HNSW for vectors, tsvector for
 * full text. It keeps no state between calls, so any number of processes can share a database.
 * Writes to one cube take turns on the cube's row lock (turn numbering and dedupe read, then
 * write); writes to different cubes run in parallel.
 */
export class PostgresStore implements Store {
  private readonly pool: pg.Pool;
  private readonly s: string;
  private readonly efSearch: number;
  /** Cubes known to have all their words recorded (`listWordsOnce`), so a search checks once. */
  private readonly wordsListed = new Set<number>();
  private closed = false;

  private constructor(pool: pg.Pool, schema: string, efSearch: number) {
    this.pool = pool;
    this.s = schema;
    this.efSearch = efSearch;
  }

  /** Connects with a `postgres://` URL or pool options, and migrates the schema. */
  static async open(target: string | PostgresStoreOptions): Promise<PostgresStore> {
    const {
      schema = DEFAULT_SCHEMA,
      efSearch = DEFAULT_EF_SEARCH,
      ...poolConfig
    } = typeof target === 'string' ? { connectionString: target } : target;
    checkSchemaName(schema);
    if (!Number.isInteger(efSearch) || efSearch < 1 || efSearch > MAX_EF_SEARCH) {
      throw new InvalidInputError(`efSearch must be an integer from 1 to ${MAX_EF_SEARCH}`, 'efSearch');
    }
    const pool = new pg.Pool({ ...poolConfig, types: typeParsers });
    // An idle connection that dies (server restart, failover) must not crash the process.
    pool.on('error', () => {});
    try {
      await transaction(pool, (client) => migrate(client, schema));
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStore(pool, schema, efSearch);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private tx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.pool, work);
  }

  private async resolve(db: Db, scope: CubeScope, lock = false): Promise<ResolvedCube> {
    // A writer locks the cube row: writes to one cube are serialised, as SQLite serialises all writes.
    const [row] = await query<CubeRow>(
      db,
      `SELECT * FROM ${this.s}.cubes WHERE tenant = $1 AND name = $2${lock ? ' FOR NO KEY UPDATE' : ''}`,
      [scope.tenant, scope.cube],
    );
    if (!row) throw new NotFoundError(`unknown cube '${scope.cube}'`);
    return { key: row.cube_key, name: row.name, tenant: row.tenant, dimensions: row.dimensions };
  }

  private audit(db: Db, cube: ResolvedCube, entry: AuditEntry, ctx: WriteContext): Promise<void> {
    return writeAudit(
      db,
      this.s,
      { tenant: cube.tenant, cubeKey: cube.key, cubeName: cube.name },
      entry,
      ctx,
    );
  }

  private async itemRow(db: Db, cube: ResolvedCube, id: string): Promise<ItemRow> {
    const [row] = await query<ItemRow>(
      db,
      `SELECT ${ITEM_COLUMNS} FROM ${this.s}.items i WHERE i.cube_key = $1 AND i.id = $2`,
      [cube.key, id],
    );
    if (!row) throw new NotFoundError(`no item '${id}' in cube '${cube.name}'`);
    return row;
  }

  /** Records the item's current state as a version. */
  private async writeVersion(
    db: Db,
    itemKey: number,
    operation: AuditOperation,
    ctx: WriteContext,
  ): Promise<void> {
    await query(
      db,
      `INSERT INTO ${this.s}.item_versions (item_key, version, operation, content, status, tags, metadata, valid_from, valid_to, changed_at, changed_by)
       SELECT item_key, version, $2, content, status, tags::json, metadata, valid_from, valid_to, $3, $4
       FROM ${this.s}.items WHERE item_key = $1`,
      [itemKey, operation, ctx.now, ctx.actor],
    );
  }

  private async putVector(
    db: Db,
    cube: ResolvedCube,
    itemKey: number,
    vector: Float32Array | null,
    live: boolean,
  ): Promise<void> {
    if (cube.dimensions === 0 || !vector) return;
    assertVectorLength(vector, cube.dimensions);
    await query(
      db,
      `INSERT INTO ${this.s}.item_vectors (item_key, cube_key, dims, live, embedding) VALUES ($1, $2, $3, $4, $5::vector)`,
      [itemKey, cube.key, cube.dimensions, live, vectorLiteral(vector)],
    );
  }

  async getCube(tenant: string, name: string): Promise<CubeInfo | null> {
    const [row] = await query<CubeRow>(
      this.pool,
      `SELECT * FROM ${this.s}.cubes WHERE tenant = $1 AND name = $2`,
      [tenant, name],
    );
    return row ? cubeInfo(row) : null;
  }

  async createCube(
    tenant: string,
    name: string,
    embedder: EmbedderIdentity,
    ctx: WriteContext,
  ): Promise<CubeInfo> {
    return this.tx((client) => this.insertCube(client, tenant, name, embedder, ctx));
  }

  private async insertCube(
    client: pg.PoolClient,
    tenant: string,
    name: string,
    embedder: EmbedderIdentity,
    ctx: WriteContext,
  ): Promise<CubeInfo> {
    let row: CubeRow | undefined;
    try {
      [row] = await client
        .query<CubeRow>(
          `INSERT INTO ${this.s}.cubes (tenant, name, embedder_id, dimensions, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant, name) DO NOTHING RETURNING *`,
          [tenant, name, embedder.id, embedder.dimensions, ctx.now],
        )
        .then((r) => r.rows);
    } catch (err) {
      throw asStorageError(err);
    }
    if (!row) throw new ConflictError(`cube '${name}' already exists`);
    if (embedder.dimensions > 0) await ensureVectorIndex(client, this.s, embedder.dimensions);
    const cube = { key: row.cube_key, name, tenant, dimensions: row.dimensions };
    await markWordsListed(client, this.s, cube.key);
    await this.audit(
      client,
      cube,
      {
        itemId: null,
        operation: 'create_cube',
        versionBefore: null,
        versionAfter: null,
        details: { embedder },
      },
      ctx,
    );
    return cubeInfo(row);
  }

  async listCubes(tenant: string): Promise<CubeInfo[]> {
    const rows = await query<CubeRow>(
      this.pool,
      `SELECT * FROM ${this.s}.cubes WHERE tenant = $1 ORDER BY name`,
      [tenant],
    );
    return rows.map(cubeInfo);
  }

  async deleteCube(tenant: string, name: string, ctx: WriteContext): Promise<void> {
    await this.tx(async (client) => {
      const cube = await this.resolve(client, { tenant, cube: name }, true);
      const [counted] = await query<{ n: number }>(
        client,
        `SELECT count(*) AS n FROM ${this.s}.items WHERE cube_key = $1`,
        [cube.key],
      );
      await query(client, `DELETE FROM ${this.s}.item_vectors WHERE cube_key = $1`, [cube.key]);
      await query(
        client,
        `DELETE FROM ${this.s}.item_versions WHERE item_key IN (SELECT item_key FROM ${this.s}.items WHERE cube_key = $1)`,
        [cube.key],
      );
      // The full-text vector is a column of items, so it goes with them.
      await query(client, `DELETE FROM ${this.s}.items WHERE cube_key = $1`, [cube.key]);
      // Grants go with the cube (ON DELETE CASCADE); audit records stay.
      await query(client, `DELETE FROM ${this.s}.cubes WHERE cube_key = $1`, [cube.key]);
      await this.audit(
        client,
        cube,
        {
          itemId: null,
          operation: 'delete_cube',
          versionBefore: null,
          versionAfter: null,
          details: { items: counted?.n ?? 0 },
        },
        ctx,
      );
    });
  }

  /** Tenants, keys and grants in the same schema, on this store's pool. */
  accessStore(): PostgresAccessStore {
    return new PostgresAccessStore(this.pool, this.s);
  }

  async insertItems(
    scope: CubeScope,
    records: NewItemRecord[],
    ctx: WriteContext,
    derivedFrom?: SessionStamp,
  ): Promise<InsertOutcome[]> {
    return this.tx(async (client) => {
      const cube = await this.resolve(client, scope, true);
      if (derivedFrom) await this.assertSessionUnchanged(client, cube, derivedFrom);
      const outcomes: InsertOutcome[] = [];
      const added: string[] = [];
      for (const r of records) {
        // A memory no longer true, or outside the record's dedupe window, takes no restatement;
        // of several, the latest (as SQLite's `insertItems`).
        const [probe] = await query<{ duplicate: string | null; next: number }>(
          client,
          `SELECT
             (SELECT id FROM ${this.s}.items WHERE cube_key = $1 AND content_hash = $2 AND status = 'active' AND kind = $3
                AND session_id IS NOT DISTINCT FROM $4 AND role IS NOT DISTINCT FROM $5 AND speaker IS NOT DISTINCT FROM $6
                AND (valid_to IS NULL OR valid_to > $7)
                AND coalesce(valid_from, created_at) BETWEEN $8::bigint AND $9::bigint
              ORDER BY valid_from DESC, item_key DESC LIMIT 1) AS duplicate,
             (SELECT coalesce(max(turn_index) + 1, 0) FROM ${this.s}.items WHERE cube_key = $1 AND session_id = $4) AS next`,
          duplicateProbeValues(cube.key, r, ctx.now),
        );
        if (probe?.duplicate) {
          outcomes.push({ id: probe.duplicate, created: false });
          continue;
        }
        const [inserted] = await query<{ item_key: number }>(
          client,
          `INSERT INTO ${this.s}.items (${ITEM_INSERT_COLUMNS}) VALUES (${itemPlaceholders('numbered')}) RETURNING item_key`,
          newItemValues(cube.key, r, r.sessionId === null ? null : (probe?.next ?? 0), ctx.now),
        );
        const itemKey = inserted?.item_key as number;
        added.push(r.index.text, r.index.keys);
        await this.writeVersion(client, itemKey, 'add', ctx);
        await this.putVector(client, cube, itemKey, r.embedding, true);
        await this.audit(
          client,
          cube,
          { itemId: r.id, operation: 'add', versionBefore: null, versionAfter: 1 },
          ctx,
        );
        outcomes.push({ id: r.id, created: true });
      }
      // One statement for the new words of the whole batch, in the same transaction.
      await recordWords(client, this.s, cube.key, added);
      return outcomes;
    });
  }

  async getItems(scope: CubeScope, ids: string[]): Promise<MemoryItem[]> {
    const cube = await this.resolve(this.pool, scope);
    if (ids.length === 0) return [];
    const rows = await query<ItemRow>(
      this.pool,
      `SELECT ${ITEM_COLUMNS} FROM ${this.s}.items i WHERE i.cube_key = $1 AND i.id = ANY($2::text[])`,
      [cube.key, ids],
    );
    const byId = new Map(rows.map((row) => [row.id, rowToItem(row, cube.name)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async eventSpan(scope: CubeScope): Promise<{ first: number; last: number } | null> {
    const cube = await this.resolve(this.pool, scope);
    // Two subqueries: each of min and max alone is one step along items_by_event_time.
    const [row] = await query<{ first: string | number | null; last: string | number | null }>(
      this.pool,
      `SELECT (SELECT min(coalesce(valid_from, created_at)) FROM ${this.s}.items WHERE cube_key = $1) AS first,
              (SELECT max(coalesce(valid_from, created_at)) FROM ${this.s}.items WHERE cube_key = $1) AS last`,
      [cube.key],
    );
    if (!row || row.first === null || row.last === null) return null;
    return { first: Number(row.first), last: Number(row.last) };
  }

  async originsOf(scope: CubeScope, ids: string[]): Promise<Map<string, ItemOrigin>> {
    const cube = await this.resolve(this.pool, scope);
    if (ids.length === 0) return new Map();
    const rows = await query<OriginRow>(
      this.pool,
      `SELECT i.id, i.session_id AS session, i.speaker, i.role, i.valid_to AS "endsAt" FROM ${this.s}.items i WHERE i.cube_key = $1 AND i.id = ANY($2::text[])`,
      [cube.key, ids],
    );
    return originsFromRows(rows);
  }

  async listItems(
    scope: CubeScope,
    filter: StoreItemFilter,
    page: { limit: number; cursor?: string; order: 'asc' | 'desc' },
  ): Promise<Page<MemoryItem>> {
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor);
    const cube = await this.resolve(this.pool, scope);
    const p = new Params();
    const where = [`i.cube_key = ${p.add(cube.key)}`, filterToSql(filter, p)];
    if (after !== null) where.push(`i.item_key ${page.order === 'asc' ? '>' : '<'} ${p.add(after)}`);
    const rows = await query<ItemRow>(
      this.pool,
      `SELECT ${ITEM_COLUMNS} FROM ${this.s}.items i WHERE ${where.join(' AND ')}
       ORDER BY i.item_key ${page.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${p.add(page.limit + 1)}`,
      p.values,
    );
    const more = rows.length > page.limit;
    const shown = more ? rows.slice(0, page.limit) : rows;
    const last = shown.at(-1);
    return {
      items: shown.map((r) => rowToItem(r, cube.name)),
      ...(more && last ? { nextCursor: encodeCursor(last.item_key) } : {}),
    };
  }

  async updateItem(
    scope: CubeScope,
    id: string,
    change: ItemChange,
    ctx: WriteContext,
    contextKeys?: ContextKeyWrite,
  ): Promise<MemoryItem> {
    return this.tx(async (client) => {
      const cube = await this.resolve(client, scope, true);
      if (contextKeys) await this.assertSessionUnchanged(client, cube, contextKeys.derivedFrom);
      const before = await this.itemRow(client, cube, id);
      assertMutable(before, 'update');
      const content = change.content;
      const p = new Params();
      const sets = ['version = version + 1', `updated_at = ${p.add(ctx.now)}`];
      if (content) {
        sets.push(
          `content = ${p.add(content.content)}`,
          `index_text = ${p.add(content.index.text)}`,
          `index_context = ${p.add(content.index.context)}`,
          `index_keys = ${p.add(content.index.keys)}`,
          `derived = ${p.add(JSON.stringify(content.derived))}`,
          `content_hash = ${p.add(content.contentHash)}`,
        );
      }
      if (change.tags !== undefined) sets.push(`tags = ${p.add(JSON.stringify(change.tags))}`);
      if (change.metadata !== undefined) sets.push(`metadata = ${p.add(JSON.stringify(change.metadata))}`);
      if (change.validFrom !== undefined) sets.push(`valid_from = ${p.add(change.validFrom)}`);
      if (change.validTo !== undefined) sets.push(`valid_to = ${p.add(change.validTo)}`);
      await query(
        client,
        `UPDATE ${this.s}.items SET ${sets.join(', ')} WHERE item_key = ${p.add(before.item_key)}`,
        p.values,
      );
      await this.writeVersion(client, before.item_key, 'update', ctx);
      if (content) {
        await recordWords(client, this.s, cube.key, [content.index.text, content.index.keys]);
        await query(client, `DELETE FROM ${this.s}.item_vectors WHERE item_key = $1`, [before.item_key]);
        await this.putVector(client, cube, before.item_key, content.embedding, before.status === 'active');
      }
      const after = await this.itemRow(client, cube, id);
      await this.audit(
        client,
        cube,
        {
          itemId: id,
          operation: 'update',
          versionBefore: before.version,
          versionAfter: after.version,
          details: { fields: Object.keys(change) },
        },
        ctx,
      );
      const keys = contextKeys?.updates ?? [];
      await this.writeContextKeys(client, cube, keys);
      return rowToItem(keys.length ? await this.itemRow(client, cube, id) : after, cube.name);
    });
  }

  /** New context keys for turns of the cube (the search vector follows them); no version, no audit record. */
  private async writeContextKeys(client: Db, cube: ResolvedCube, updates: ContextKeyUpdate[]): Promise<void> {
    for (const { id, context } of updates) {
      const [row] = await query<{ item_key: number }>(
        client,
        `UPDATE ${this.s}.items SET index_context = $1,
           derived = (derived::jsonb || jsonb_build_object('context', $2::text))::json
         WHERE cube_key = $3 AND id = $4 RETURNING item_key`,
        [context ?? '', context, cube.key, id],
      );
      if (!row) throw new NotFoundError(`no item '${id}' in cube '${cube.name}'`);
    }
  }

  async setStatus(
    scope: CubeScope,
    id: string,
    status: MemoryStatus,
    operation: AuditOperation,
    ctx: WriteContext,
    contextKeys?: ContextKeyWrite,
  ): Promise<MemoryItem> {
    return this.tx(async (client) => {
      const cube = await this.resolve(client, scope, true);
      if (contextKeys) await this.assertSessionUnchanged(client, cube, contextKeys.derivedFrom);
      const before = await this.itemRow(client, cube, id);
      if (before.status === 'frozen')
        throw new ConflictError(`item '${id}' is frozen (compliance hold) and cannot be changed`);
      if (before.status === status) throw new ConflictError(`item '${id}' is already ${status}`);
      await query(
        client,
        `UPDATE ${this.s}.items SET status = $1, version = version + 1, updated_at = $2 WHERE item_key = $3`,
        [status, ctx.now, before.item_key],
      );
      await this.writeVersion(client, before.item_key, operation, ctx);
      await query(client, `UPDATE ${this.s}.item_vectors SET live = $1 WHERE item_key = $2`, [
        status === 'active',
        before.item_key,
      ]);
      const after = await this.itemRow(client, cube, id);
      await this.audit(
        client,
        cube,
        {
          itemId: id,
          operation,
          versionBefore: before.version,
          versionAfter: after.version,
          details: { from: before.status, to: status },
        },
        ctx,
      );
      const keys = contextKeys?.updates ?? [];
      await this.writeContextKeys(client, cube, keys);
      return rowToItem(keys.length ? await this.itemRow(client, cube, id) : after, cube.name);
    });
  }

  private async versionsOf(db: Db, itemKey: number, id: string): Promise<MemoryVersion[]> {
    const rows = await query<VersionRow>(
      db,
      `SELECT $2::text AS item_id, ${VERSION_COLUMNS} FROM ${this.s}.item_versions v WHERE v.item_key = $1 ORDER BY v.version`,
      [itemKey, id],
    );
    return rows.map(rowToVersion);
  }

  async history(scope: CubeScope, id: string): Promise<MemoryVersion[]> {
    const cube = await this.resolve(this.pool, scope);
    const item = await this.itemRow(this.pool, cube, id);
    return this.versionsOf(this.pool, item.item_key, id);
  }

  /**
   * The cube's words recorded after `since`, from the words table writers keep. A cube written
   * before that table has its items' words recorded on the first read. Positions are the table's
   * (`size` is the last one read), and there is one generation: words are never renumbered.
   */
  async vocabulary(scope: CubeScope, since: VocabularyMark | null): Promise<VocabularyPage> {
    const cube = await this.resolve(this.pool, scope);
    if (!this.wordsListed.has(cube.key)) {
      await this.tx(async (client) =>
        listWordsOnce(client, this.s, (await this.resolve(client, scope, true)).key),
      );
      this.wordsListed.add(cube.key);
    }
    return readWords(this.pool, this.s, cube.key, since);
  }

  /**
   * BM25-like: each term's ts_rank over the weighted vector (text A, context B, keys C), times
   * the term's inverse document frequency in the cube, summed; the terms are ORed. ts_rank takes
   * weights in [0, 1], so they are scaled by the largest, which keeps the ranking. Rank
   * normalisation 1 divides by 1 + log(length), damping long documents as BM25 does.
   */
  async searchLexical(
    scope: CubeScope,
    terms: string[],
    filter: StoreItemFilter,
    limit: number,
    weights: LexicalWeights,
  ): Promise<ScoredId[]> {
    if (terms.length === 0) return [];
    const cube = await this.resolve(this.pool, scope);
    const top = Math.max(weights.text, weights.context, weights.keys);
    const scaled =
      top > 0 ? [0, weights.keys / top, weights.context / top, weights.text / top] : [0, 0, 0, 0];
    const p = new Params();
    const cubeKey = p.add(cube.key);
    // plainto_tsquery reads each term as plain words: quotes and operator words are just text.
    const termQueries = terms.map((t) => `plainto_tsquery('english', ${p.add(t)})`);
    return query<ScoredId>(
      this.pool,
      `WITH terms AS MATERIALIZED (
         SELECT q FROM unnest(ARRAY[${termQueries.join(', ')}]) AS t (q) WHERE numnode(q) > 0),
       docs AS (SELECT count(*) AS n FROM ${this.s}.items WHERE cube_key = ${cubeKey}),
       weighted AS MATERIALIZED (
         SELECT t.q, ln(1 + (docs.n - f.df + 0.5) / (f.df + 0.5)) AS idf FROM terms t, docs,
           LATERAL (SELECT count(*) AS df FROM ${this.s}.items WHERE cube_key = ${cubeKey} AND search_vector @@ t.q) f)
       SELECT i.id,
         (SELECT sum(w.idf * ts_rank(${p.add(scaled)}::real[], i.search_vector, w.q, 1)) FROM weighted w)::float8 AS score
       FROM ${this.s}.items i
       WHERE i.search_vector @@ (${termQueries.join(' || ')}) AND i.cube_key = ${cubeKey} AND ${filterToSql(filter, p)}
       ORDER BY score DESC, i.item_key LIMIT ${p.add(limit)}`,
      p.values,
    );
  }

  async findIdsBySuffix(scope: CubeScope, suffix: string, limit: number): Promise<string[]> {
    const cube = await this.resolve(this.pool, scope);
    const rows = await query<{ id: string }>(
      this.pool,
      `SELECT id FROM ${this.s}.items WHERE cube_key = $1 AND right(id, length($2)) = $2 ORDER BY item_key LIMIT $3`,
      [cube.key, suffix, limit],
    );
    return rows.map((r) => r.id);
  }

  async sessionTail(scope: CubeScope, sessionId: string, turns: number): Promise<MemoryItem[]> {
    const cube = await this.resolve(this.pool, scope);
    const rows = await query<ItemRow>(
      this.pool,
      `SELECT ${ITEM_COLUMNS} FROM ${this.s}.items i WHERE i.cube_key = $1 AND i.session_id = $2
       AND i.status = 'active' ORDER BY i.turn_index DESC LIMIT $3`,
      [cube.key, sessionId, turns],
    );
    return rows.reverse().map((row) => rowToItem(row, cube.name));
  }

  async sessionStamp(scope: CubeScope, sessionId: string, fromTurn: number): Promise<SessionStamp> {
    return this.stampOf(this.pool, await this.resolve(this.pool, scope), sessionId, fromTurn);
  }

  private async stampOf(
    db: Db,
    cube: ResolvedCube,
    sessionId: string,
    fromTurn: number,
  ): Promise<SessionStamp> {
    const [row] = await query<{ rows: number; versions: number }>(
      db,
      `SELECT count(*)::int AS rows, coalesce(sum(version), 0)::float8 AS versions FROM ${this.s}.items
       WHERE cube_key = $1 AND session_id = $2 AND turn_index >= $3`,
      [cube.key, sessionId, fromTurn],
    );
    return { sessionId, fromTurn, rows: row?.rows ?? 0, versions: row?.versions ?? 0 };
  }

  async contextKeyRepairs(): Promise<Array<{ scope: CubeScope; sessionId: string }>> {
    const rows = await query<{ tenant: string; name: string; session_id: string }>(
      this.pool,
      `SELECT c.tenant, c.name, r.session_id FROM ${this.s}.context_key_repairs r
       JOIN ${this.s}.cubes c ON c.cube_key = r.cube_key ORDER BY r.cube_key, r.session_id`,
    );
    return rows.map((r) => ({ scope: { tenant: r.tenant, cube: r.name }, sessionId: r.session_id }));
  }

  async repairContextKeys(scope: CubeScope, keys: ContextKeyWrite): Promise<void> {
    await this.tx(async (client) => {
      const cube = await this.resolve(client, scope, true);
      await this.assertSessionUnchanged(client, cube, keys.derivedFrom);
      await this.writeContextKeys(client, cube, keys.updates);
      await query(
        client,
        `DELETE FROM ${this.s}.context_key_repairs WHERE cube_key = $1 AND session_id = $2`,
        [cube.key, keys.derivedFrom.sessionId],
      );
    });
  }

  /**
   * Refuses a write whose context keys were derived from turns that have changed since. Called
   * after `resolve` locked the cube's row, so every earlier write to the cube has committed.
   */
  private async assertSessionUnchanged(client: Db, cube: ResolvedCube, stamp: SessionStamp): Promise<void> {
    const now = await this.stampOf(client, cube, stamp.sessionId, stamp.fromTurn);
    if (now.rows !== stamp.rows || now.versions !== stamp.versions)
      throw new SessionChangedError(stamp.sessionId);
  }

  async getTurns(scope: CubeScope, refs: TurnRef[], filter: StoreItemFilter): Promise<MemoryItem[]> {
    if (refs.length === 0) return [];
    const cube = await this.resolve(this.pool, scope);
    const p = new Params();
    const cubeKey = p.add(cube.key);
    const sessions = p.add(refs.map((r) => r.sessionId));
    const turns = p.add(refs.map((r) => r.turnIndex));
    const rows = await query<ItemRow & { ord: number }>(
      this.pool,
      `SELECT ${ITEM_COLUMNS}, r.ord FROM unnest(${sessions}::text[], ${turns}::integer[]) WITH ORDINALITY AS r (session_id, turn_index, ord)
       JOIN ${this.s}.items i ON i.cube_key = ${cubeKey} AND i.session_id = r.session_id AND i.turn_index = r.turn_index
       WHERE ${filterToSql(filter, p)} ORDER BY r.ord`,
      p.values,
    );
    return rows.map((row) => rowToItem(row, cube.name));
  }

  /**
   * Unfiltered searches (active items of the cube) run on the dimension's HNSW index inside a
   * transaction that sets `hnsw.ef_search` and an iterative scan, so rows of other cubes sharing
   * the index cannot starve the result; the relaxed order is put right outside the scan. Narrow
   * filters would starve an approximate scan, so they score exactly over the filtered rows.
   */
  async searchVector(
    scope: CubeScope,
    vector: Float32Array,
    filter: StoreItemFilter,
    limit: number,
  ): Promise<ScoredId[]> {
    const cube = await this.resolve(this.pool, scope);
    if (cube.dimensions === 0) return [];
    if (!isNarrowing(filter) && cube.dimensions <= MAX_HNSW_DIMENSIONS) {
      return this.tx(async (client) => {
        const ef = Math.min(MAX_EF_SEARCH, Math.max(this.efSearch, limit));
        await query(client, `SET LOCAL hnsw.ef_search = ${ef}`);
        await query(client, 'SET LOCAL hnsw.iterative_scan = relaxed_order');
        return query<ScoredId>(client, nearestSql(this.s, cube.dimensions), [
          vectorLiteral(vector),
          cube.key,
          limit,
        ]);
      });
    }
    const p = new Params();
    return query<ScoredId>(
      this.pool,
      `SELECT i.id, 1 - (v.embedding <=> ${p.add(vectorLiteral(vector))}::vector) AS score
       FROM ${this.s}.items i JOIN ${this.s}.item_vectors v ON v.item_key = i.item_key
       WHERE i.cube_key = ${p.add(cube.key)} AND ${filterToSql(filter, p)}
       ORDER BY score DESC, i.item_key LIMIT ${p.add(limit)}`,
      p.values,
    );
  }

  async listAudit(scope: CubeScope, q: AuditQuery): Promise<AuditRecord[]> {
    const cube = await this.resolve(this.pool, scope);
    return selectAudit(this.pool, this.s, { column: 'cube_key', value: cube.key }, q);
  }

  async stats(scope: CubeScope): Promise<CubeStats> {
    const cube = await this.resolve(this.pool, scope);
    const [row] = await query<{
      items: number;
      sessions: number;
      first: number | null;
      last: number | null;
      versions: number;
      audit: number;
      vectors: number;
      by_kind: Record<string, number> | null;
      by_status: Record<string, number> | null;
    }>(
      this.pool,
      `SELECT
         (SELECT count(*) FROM ${this.s}.items WHERE cube_key = $1) AS items,
         (SELECT count(DISTINCT session_id) FROM ${this.s}.items WHERE cube_key = $1) AS sessions,
         (SELECT min(coalesce(valid_from, created_at)) FROM ${this.s}.items WHERE cube_key = $1) AS first,
         (SELECT max(coalesce(valid_from, created_at)) FROM ${this.s}.items WHERE cube_key = $1) AS last,
         (SELECT count(*) FROM ${this.s}.item_versions v JOIN ${this.s}.items i ON i.item_key = v.item_key
           WHERE i.cube_key = $1) AS versions,
         (SELECT count(*) FROM ${this.s}.audit WHERE cube_key = $1) AS audit,
         (SELECT count(*) FROM ${this.s}.item_vectors WHERE cube_key = $1) AS vectors,
         (SELECT json_object_agg(kind, n) FROM (SELECT kind, count(*) AS n FROM ${this.s}.items WHERE cube_key = $1
           GROUP BY kind) k) AS by_kind,
         (SELECT json_object_agg(status, n) FROM (SELECT status, count(*) AS n FROM ${this.s}.items WHERE cube_key = $1
           GROUP BY status) s) AS by_status`,
      [cube.key],
    );
    if (!row) throw new NotFoundError(`unknown cube '${scope.cube}'`);
    return {
      items: row.items,
      byKind: row.by_kind ?? {},
      byStatus: row.by_status ?? {},
      sessions: row.sessions,
      versions: row.versions,
      auditRecords: row.audit,
      vectors: row.vectors,
      firstEventAt: row.first === null ? null : iso(row.first),
      lastEventAt: row.last === null ? null : iso(row.last),
    };
  }

  /** The cube's item rows a page at a time, in insertion order. */
  private async *itemPages(cube: ResolvedCube): AsyncIterable<ItemRow[]> {
    let after = 0;
    for (;;) {
      const rows = await query<ItemRow>(
        this.pool,
        `SELECT ${ITEM_COLUMNS} FROM ${this.s}.items i WHERE i.cube_key = $1 AND i.item_key > $2 ORDER BY i.item_key LIMIT $3`,
        [cube.key, after, PAGE],
      );
      if (rows.length === 0) return;
      yield rows;
      after = rows.at(-1)?.item_key ?? after;
    }
  }

  async *exportItems(scope: CubeScope): AsyncIterable<ItemBundle> {
    const cube = await this.resolve(this.pool, scope);
    for await (const rows of this.itemPages(cube)) {
      for (const row of rows) {
        yield {
          item: rowToItem(row, cube.name),
          index: { text: row.index_text, context: row.index_context, keys: row.index_keys },
          versions: await this.versionsOf(this.pool, row.item_key, row.id),
        };
      }
    }
  }

  async importItems(
    scope: CubeScope,
    bundles: Array<ItemBundle & { embedding: Float32Array | null }>,
    audit: AuditRecord[],
    ctx: WriteContext,
    createWith?: EmbedderIdentity,
  ): Promise<void> {
    await this.tx(async (client) => {
      if (createWith) await this.insertCube(client, scope.tenant, scope.cube, createWith, ctx);
      const cube = await this.resolve(client, scope, true);
      const taken = (
        await query<{ id: string }>(client, `SELECT id FROM ${this.s}.items WHERE id = ANY($1::text[])`, [
          bundles.map((b) => b.item.id),
        ])
      ).map((r) => r.id);
      if (taken.length > 0) {
        const sample = taken.slice(0, 3);
        throw new ConflictError(
          `${taken.length} item id(s) already exist in this database (${sample.join(', ')}${taken.length > 3 ? ', …' : ''}); import into a fresh database`,
        );
      }
      for (const b of bundles) await this.importBundle(client, cube, b);
      for (const a of audit) {
        await query(
          client,
          insertAuditSql(this.s),
          importedAuditValues({ tenant: cube.tenant, cubeKey: cube.key, cubeName: cube.name }, a),
        );
      }
      await this.audit(
        client,
        cube,
        {
          itemId: null,
          operation: 'import',
          versionBefore: null,
          versionAfter: null,
          details: { items: bundles.length, auditRecords: audit.length },
        },
        ctx,
      );
    });
  }

  private async importBundle(
    client: pg.PoolClient,
    cube: ResolvedCube,
    { item, index, versions, embedding }: ItemBundle & { embedding: Float32Array | null },
  ): Promise<void> {
    const [inserted] = await query<{ item_key: number }>(
      client,
      `INSERT INTO ${this.s}.items (${ITEM_INSERT_COLUMNS}) VALUES (${itemPlaceholders('numbered')}) RETURNING item_key`,
      importedItemValues(cube.key, item, index),
    );
    const itemKey = inserted?.item_key as number;
    await recordWords(client, this.s, cube.key, [index.text, index.keys]);
    if (versions.length > 0) {
      await query(
        client,
        `INSERT INTO ${this.s}.item_versions (item_key, version, operation, content, status, tags, metadata, valid_from, valid_to, changed_at, changed_by)
         SELECT $1, v.version, v.operation, v.content, v.status, v.tags, v.metadata, v.valid_from, v.valid_to, v.changed_at, v.changed_by
         FROM json_to_recordset($2::json) AS v (version integer, operation text, content text, status text, tags json,
           metadata json, valid_from bigint, valid_to bigint, changed_at bigint, changed_by text)`,
        [
          itemKey,
          JSON.stringify(
            versions.map((v) => ({
              version: v.version,
              operation: v.operation,
              content: v.content,
              status: v.status,
              tags: v.tags,
              metadata: v.metadata,
              valid_from: msOrNull(v.validFrom),
              valid_to: msOrNull(v.validTo),
              changed_at: Date.parse(v.changedAt),
              changed_by: v.changedBy,
            })),
          ),
        ],
      );
    }
    await this.putVector(client, cube, itemKey, embedding, item.status === 'active');
  }

  async *indexTexts(scope: CubeScope): AsyncIterable<Array<{ id: string; text: string }>> {
    const cube = await this.resolve(this.pool, scope);
    for await (const rows of this.itemPages(cube)) yield rows.map((r) => ({ id: r.id, text: r.index_text }));
  }

  async replaceVectors(
    scope: CubeScope,
    embedder: EmbedderIdentity,
    vectors: Map<string, Float32Array>,
    ctx: WriteContext,
  ): Promise<void> {
    await this.tx(async (client) => {
      const before = await this.resolve(client, scope, true);
      await query(client, `DELETE FROM ${this.s}.item_vectors WHERE cube_key = $1`, [before.key]);
      if (embedder.dimensions > 0) await ensureVectorIndex(client, this.s, embedder.dimensions);
      await query(
        client,
        `UPDATE ${this.s}.cubes SET embedder_id = $1, dimensions = $2 WHERE cube_key = $3`,
        [embedder.id, embedder.dimensions, before.key],
      );
      const cube = { ...before, dimensions: embedder.dimensions };
      const entries = embedder.dimensions > 0 ? [...vectors] : [];
      for (let i = 0; i < entries.length; i += PAGE) {
        const chunk = entries.slice(i, i + PAGE);
        // Ids outside this cube match no item row and are skipped.
        await query(
          client,
          `INSERT INTO ${this.s}.item_vectors (item_key, cube_key, dims, live, embedding)
           SELECT i.item_key, i.cube_key, $2, i.status = 'active', v.embedding::vector
           FROM unnest($3::text[], $4::text[]) AS v (id, embedding)
           JOIN ${this.s}.items i ON i.cube_key = $1 AND i.id = v.id`,
          [cube.key, cube.dimensions, chunk.map(([id]) => id), chunk.map(([, v]) => vectorLiteral(v))],
        );
      }
      await this.audit(
        client,
        cube,
        {
          itemId: null,
          operation: 'reembed',
          versionBefore: null,
          versionAfter: null,
          details: { embedder, vectors: vectors.size },
        },
        ctx,
      );
    });
  }

  async getCachedEmbeddings(embedderId: string, hashes: string[]): Promise<Map<string, Float32Array>> {
    if (hashes.length === 0) return new Map();
    const rows = await query<{ text_hash: string; vector: Buffer }>(
      this.pool,
      `SELECT text_hash, vector FROM ${this.s}.embedding_cache WHERE embedder_id = $1 AND text_hash = ANY($2::text[])`,
      [embedderId, hashes],
    );
    return new Map(rows.map((r) => [r.text_hash, blobToVector(r.vector)]));
  }

  async putCachedEmbeddings(embedderId: string, entries: Array<[string, Float32Array]>): Promise<void> {
    for (let i = 0; i < entries.length; i += PAGE) {
      const chunk = entries.slice(i, i + PAGE);
      await query(
        this.pool,
        `INSERT INTO ${this.s}.embedding_cache (embedder_id, text_hash, vector)
         SELECT $1, h, v FROM unnest($2::text[], $3::bytea[]) AS e (h, v) ON CONFLICT DO NOTHING`,
        [embedderId, chunk.map(([h]) => h), chunk.map(([, v]) => vectorToBlob(v))],
      );
    }
  }
}

/**
 * The approximate nearest-neighbour query of one dimension. Its cast and its `dims`/`live`
 * conditions repeat the partial index's expression and predicate as literals, so the planner can
 * use the index. The scan is materialised, then re-ordered: an iterative scan's order is relaxed.
 */
export function nearestSql(schema: string, dimensions: number): string {
  const cast = `::vector(${dimensions})`;
  return `WITH nearest AS MATERIALIZED (
      SELECT v.item_key, v.embedding${cast} <=> $1${cast} AS distance
      FROM ${schema}.item_vectors v
      WHERE v.cube_key = $2 AND v.dims = ${dimensions} AND v.live
      ORDER BY distance LIMIT $3)
    SELECT i.id, 1 - n.distance AS score FROM nearest n JOIN ${schema}.items i ON i.item_key = n.item_key
    ORDER BY n.distance, i.item_key`;
}
