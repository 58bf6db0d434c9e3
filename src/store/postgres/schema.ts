import type pg from 'pg';
import { InvalidInputError, MemcubeError } from '../../core/errors.js';
import { query } from './sql.js';

/** pgvector 0.8.0 added iterative index scans, which filtered HNSW searches rely on. */
const MIN_PGVECTOR = [0, 8, 0] as const;
/** pgvector's HNSW indexes `vector` columns of at most 2,000 dimensions; larger ones are searched exactly. */
export const MAX_HNSW_DIMENSIONS = 2000;

/** Ids memcube's schema name is checked against, so it can be spliced into SQL unquoted. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidInputError(
      `postgres schema '${schema}': use lower-case letters, digits and '_', starting with a letter or '_'`,
      'schema',
    );
  }
  return schema;
}

interface Migration {
  version: number;
  description: string;
  sql: (s: string) => string;
}

/**
 * Append-only: a released migration is never edited, only followed by a new one. Version 1 is the
 * whole schema of SQLite's migrations 1 and 2 (a Postgres database has no older history).
 */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'cubes, items with weighted full-text vector, versions, audit, vectors, embedding cache',
    sql: (s) => `
      CREATE TABLE ${s}.cubes (
        cube_key     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant       text NOT NULL,
        name         text NOT NULL,
        embedder_id  text NOT NULL,
        dimensions   integer NOT NULL,
        created_at   bigint NOT NULL,
        UNIQUE (tenant, name)
      );

      CREATE TABLE ${s}.items (
        item_key      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id            text NOT NULL UNIQUE,
        cube_key      bigint NOT NULL REFERENCES ${s}.cubes (cube_key),
        kind          text NOT NULL,
        content       text NOT NULL,
        index_text    text NOT NULL,
        index_context text NOT NULL,
        index_keys    text NOT NULL,
        derived       json NOT NULL,
        role          text,
        speaker       text,
        user_id       text,
        agent_id      text,
        session_id    text,
        run_id        text,
        turn_index    integer,
        created_at    bigint NOT NULL,
        updated_at    bigint NOT NULL,
        valid_from    bigint,
        valid_to      bigint,
        source_ids    json NOT NULL,
        tags          jsonb NOT NULL,
        metadata      json NOT NULL,
        content_hash  text NOT NULL,
        status        text NOT NULL,
        version       integer NOT NULL,
        -- One vector, the columns labelled A/B/C, so ts_rank weighs them per query.
        search_vector tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector('english'::regconfig, index_text), 'A') ||
          setweight(to_tsvector('english'::regconfig, index_context), 'B') ||
          setweight(to_tsvector('english'::regconfig, index_keys), 'C')
        ) STORED
      );
      CREATE INDEX items_by_cube ON ${s}.items (cube_key, item_key);
      CREATE INDEX items_by_event_time ON ${s}.items (cube_key, (coalesce(valid_from, created_at)));
      CREATE INDEX items_by_session ON ${s}.items (cube_key, session_id, turn_index);
      CREATE INDEX items_by_hash ON ${s}.items (cube_key, content_hash);
      CREATE INDEX items_by_tags ON ${s}.items USING gin (tags jsonb_path_ops);
      CREATE INDEX items_search ON ${s}.items USING gin (search_vector);

      CREATE TABLE ${s}.item_versions (
        item_key     bigint NOT NULL REFERENCES ${s}.items (item_key),
        version      integer NOT NULL,
        operation    text NOT NULL,
        content      text NOT NULL,
        status       text NOT NULL,
        tags         json NOT NULL,
        metadata     json NOT NULL,
        valid_from   bigint,
        valid_to     bigint,
        changed_at   bigint NOT NULL,
        changed_by   text NOT NULL,
        PRIMARY KEY (item_key, version)
      );

      CREATE TABLE ${s}.audit (
        audit_key      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at             bigint NOT NULL,
        tenant         text NOT NULL,
        cube_key       bigint NOT NULL REFERENCES ${s}.cubes (cube_key),
        item_id        text,
        operation      text NOT NULL,
        actor          text NOT NULL,
        version_before integer,
        version_after  integer,
        details        json NOT NULL
      );
      CREATE INDEX audit_by_cube ON ${s}.audit (cube_key, audit_key);
      CREATE INDEX audit_by_item ON ${s}.audit (item_id);

      -- Dimensions differ per cube, so the column has none; each dimension in use gets its own
      -- partial HNSW index over live rows (ensureVectorIndex). Kept apart from items so that
      -- status and tag changes do not add entries to the HNSW indexes.
      CREATE TABLE ${s}.item_vectors (
        item_key   bigint PRIMARY KEY REFERENCES ${s}.items (item_key),
        cube_key   bigint NOT NULL REFERENCES ${s}.cubes (cube_key),
        dims       integer NOT NULL,
        live       boolean NOT NULL,
        embedding  vector NOT NULL
      );
      CREATE INDEX item_vectors_by_cube ON ${s}.item_vectors (cube_key);

      CREATE TABLE ${s}.embedding_cache (
        embedder_id text NOT NULL,
        text_hash   text NOT NULL,
        vector      bytea NOT NULL,
        PRIMARY KEY (embedder_id, text_hash)
      );
    `,
  },
  {
    version: 2,
    description:
      "tenants, API keys, cube grants; audit records that outlive their cube (SQLite's migration 3)",
    sql: (s) => `
      CREATE TABLE ${s}.tenants (
        id         text PRIMARY KEY,
        name       text NOT NULL,
        created_at bigint NOT NULL
      );

      CREATE TABLE ${s}.api_keys (
        id          text PRIMARY KEY,
        tenant      text NOT NULL,
        name        text NOT NULL,
        secret_hash text NOT NULL,
        scopes      json NOT NULL,
        cubes       json,
        created_at  bigint NOT NULL,
        created_by  text NOT NULL,
        expires_at  bigint,
        revoked_at  bigint
      );
      CREATE INDEX api_keys_by_tenant ON ${s}.api_keys (tenant);

      CREATE TABLE ${s}.cube_grants (
        cube_key     bigint NOT NULL REFERENCES ${s}.cubes (cube_key) ON DELETE CASCADE,
        grantee_kind text NOT NULL,
        grantee      text NOT NULL,
        permission   text NOT NULL,
        created_at   bigint NOT NULL,
        created_by   text NOT NULL,
        PRIMARY KEY (cube_key, grantee_kind, grantee)
      );
      CREATE INDEX cube_grants_by_grantee ON ${s}.cube_grants (grantee_kind, grantee);

      -- The cube's name is kept on each record and the key is no longer a foreign key, so the
      -- audit trail of a deleted cube stays; tenant-level records have no cube.
      ALTER TABLE ${s}.audit ADD COLUMN cube_name text;
      UPDATE ${s}.audit a SET cube_name = c.name FROM ${s}.cubes c WHERE c.cube_key = a.cube_key;
      ALTER TABLE ${s}.audit ALTER COLUMN cube_name SET NOT NULL;
      ALTER TABLE ${s}.audit ALTER COLUMN cube_key DROP NOT NULL;
      ALTER TABLE ${s}.audit DROP CONSTRAINT audit_cube_key_fkey;
      CREATE INDEX audit_by_tenant ON ${s}.audit (tenant, audit_key);
      CREATE INDEX audit_by_actor ON ${s}.audit (actor, audit_key);
    `,
  },
  {
    version: 3,
    description: "each cube's vocabulary, for the related-words channel (SQLite lists it in memory)",
    sql: (s) => `
      CREATE TABLE ${s}.cube_words (
        cube_key bigint NOT NULL REFERENCES ${s}.cubes (cube_key) ON DELETE CASCADE,
        word     text NOT NULL,
        pos      bigint GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (cube_key, word)
      );
      CREATE INDEX cube_words_by_pos ON ${s}.cube_words (cube_key, pos);
      -- Cubes whose words are all recorded: new cubes, and older ones once their items are read.
      CREATE TABLE ${s}.cube_words_listed (
        cube_key bigint PRIMARY KEY REFERENCES ${s}.cubes (cube_key) ON DELETE CASCADE
      );
    `,
  },
  {
    version: 4,
    description: "a cube's rows of one user, agent or run found without reading the cube",
    // As SQLite's migration 14: a search filtered by a user (Mem0's user_id), agent or run keeps
    // few of a big cube's rows; partial, so rows without one cost nothing to write.
    sql: (s) => `
      CREATE INDEX items_by_user ON ${s}.items (cube_key, user_id) WHERE user_id IS NOT NULL;
      CREATE INDEX items_by_agent ON ${s}.items (cube_key, agent_id) WHERE agent_id IS NOT NULL;
      CREATE INDEX items_by_run ON ${s}.items (cube_key, run_id) WHERE run_id IS NOT NULL;
    `,
  },
  {
    version: 5,
    description: "a cube's rows of one speaker found without reading the cube",
    // As SQLite's migration 15 for speakers; tags have had their GIN index since version 1.
    sql: (s) => `
      CREATE INDEX items_by_speaker ON ${s}.items (cube_key, speaker) WHERE speaker IS NOT NULL;
    `,
  },
  {
    version: 6,
    description: "a cube's rows of other statuses than active found without reading the cube",
    // As SQLite's migration 17: partial, so active rows cost nothing to write.
    sql: (s) => `
      CREATE INDEX items_not_active ON ${s}.items (cube_key, status) WHERE status <> 'active';
    `,
  },
  {
    version: 7,
    description: 'sessions whose context keys may hold the words of turns an older memcube deleted',
    // As SQLite's migration 18: `MemoryOS.open` derives these sessions' keys again.
    sql: (s) => `
      CREATE TABLE ${s}.context_key_repairs (
        cube_key   bigint NOT NULL REFERENCES ${s}.cubes (cube_key) ON DELETE CASCADE,
        session_id text NOT NULL,
        PRIMARY KEY (cube_key, session_id)
      );
      INSERT INTO ${s}.context_key_repairs (cube_key, session_id)
        SELECT DISTINCT cube_key, session_id FROM ${s}.items
        WHERE status <> 'active' AND session_id IS NOT NULL AND turn_index IS NOT NULL;
    `,
  },
  {
    version: 8,
    description: "sessions whose context keys hold a party's own turns before it (notes, not answers)",
    // As SQLite's migration 19: sessions with a turn whose nearest active turn before it is its
    // own party's.
    sql: (s) => `
      INSERT INTO ${s}.context_key_repairs (cube_key, session_id)
        SELECT DISTINCT t.cube_key, t.session_id FROM ${s}.items t
        WHERE t.session_id IS NOT NULL AND t.turn_index IS NOT NULL
          AND coalesce(t.speaker, t.role, '') = (
            SELECT coalesce(p.speaker, p.role, '') FROM ${s}.items p
            WHERE p.cube_key = t.cube_key AND p.session_id = t.session_id AND p.status = 'active'
              AND p.turn_index < t.turn_index
            ORDER BY p.turn_index DESC LIMIT 1
          )
      ON CONFLICT DO NOTHING;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** One lock for every memcube schema of a database: the pgvector extension is database-wide. */
const MIGRATION_LOCK = "hashtextextended('memcube:migrate', 0)";

/**
 * Brings the schema up to date in one transaction, holding a transaction-scoped advisory lock:
 * two processes opening a new database at once migrate it once (the second waits, then finds
 * nothing to do), and the lock cannot outlive the transaction even behind a transaction pooler.
 * Refuses a schema written by a newer memcube. `target` stops at an older version (upgrade tests).
 */
export async function migrate(
  client: pg.PoolClient,
  schema: string,
  target: number = SCHEMA_VERSION,
): Promise<void> {
  await query(client, `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
  await ensurePgvector(client);
  await query(client, `CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await query(
    client,
    `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)`,
  );
  const [row] = await query<{ v: number | null }>(
    client,
    `SELECT max(version) AS v FROM ${schema}.schema_migrations`,
  );
  const current = row?.v ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new MemcubeError(
      'storage',
      `postgres schema '${schema}' is at version ${current}, newer than this memcube supports (${SCHEMA_VERSION}); upgrade memcube`,
    );
  }
  for (const m of MIGRATIONS.filter((m) => m.version > current && m.version <= target)) {
    await query(client, m.sql(schema));
    await query(client, `INSERT INTO ${schema}.schema_migrations (version, applied_at) VALUES ($1, $2)`, [
      m.version,
      Date.now(),
    ]);
  }
}

async function ensurePgvector(client: pg.PoolClient): Promise<void> {
  const installed = async () =>
    (
      await query<{ v: string }>(client, "SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'")
    )[0]?.v;
  let version = await installed();
  if (version === undefined) {
    try {
      await query(client, 'CREATE EXTENSION IF NOT EXISTS vector');
    } catch (err) {
      throw new MemcubeError(
        'storage',
        `postgres: the pgvector extension is not installed and could not be created (${(err as Error).message}); ` +
          'run `CREATE EXTENSION vector` as a privileged user',
        { cause: err },
      );
    }
    version = await installed();
  }
  const have = (version ?? '0').split('.').map((p) => Number.parseInt(p, 10) || 0);
  const order = MIN_PGVECTOR.map((want, i) => (have[i] ?? 0) - want).find((d) => d !== 0) ?? 0;
  const tooOld = order < 0;
  if (tooOld) {
    throw new MemcubeError(
      'storage',
      `postgres: pgvector ${version} is too old; memcube needs ${MIN_PGVECTOR.join('.')} or newer (ALTER EXTENSION vector UPDATE)`,
    );
  }
}

export function vectorIndexName(dimensions: number): string {
  if (!Number.isInteger(dimensions) || dimensions <= 0) throw new Error(`bad vector dimension ${dimensions}`);
  return `item_vectors_hnsw_${dimensions}`;
}

/** HNSW build parameters: pgvector's defaults, written out so the trade-off is visible (docs/deploy.md). */
const HNSW_M = 16;
const HNSW_EF_CONSTRUCTION = 64;

/**
 * The partial HNSW index for one dimension, over live rows only: a tombstone never takes a slot
 * in a nearest-neighbour scan. Created once per dimension, when the first cube needs it.
 */
export async function ensureVectorIndex(
  client: pg.PoolClient,
  schema: string,
  dimensions: number,
): Promise<void> {
  if (dimensions > MAX_HNSW_DIMENSIONS) return;
  const name = vectorIndexName(dimensions);
  const [found] = await query<{ r: string | null }>(client, 'SELECT to_regclass($1) AS r', [
    `${schema}.${name}`,
  ]);
  if (found?.r) return;
  // Two transactions creating the same new index would collide in the catalogue; take turns.
  await query(client, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
    `memcube:index:${schema}.${name}`,
  ]);
  await query(
    client,
    `CREATE INDEX IF NOT EXISTS ${name} ON ${schema}.item_vectors
       USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) WITH (m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION})
       WHERE dims = ${dimensions} AND live`,
  );
}
