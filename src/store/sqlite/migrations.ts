import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { MemcubeError } from '../../core/errors.js';

interface Migration {
  version: number;
  description: string;
  up: (db: Database.Database) => void;
}

/**
 * The columns `item_versions` has had since schema 1 (there WITHOUT ROWID); schema 7 rebuilt the
 * table with them as a rowid table. Frozen: a later change to the table is a new migration.
 */
export const ITEM_VERSION_COLUMNS = `
  item_key     INTEGER NOT NULL REFERENCES items (item_key),
  version      INTEGER NOT NULL,
  operation    TEXT NOT NULL,
  content      TEXT NOT NULL,
  status       TEXT NOT NULL,
  tags         TEXT NOT NULL,
  metadata     TEXT NOT NULL,
  valid_from   INTEGER,
  valid_to     INTEGER,
  changed_at   INTEGER NOT NULL,
  changed_by   TEXT NOT NULL,
  PRIMARY KEY (item_key, version)`;

/**
 * The triggers that kept the tag index from schema 15 until 16 dropped them (they cost about a
 * third of a bulk insert); `bench/tag-index-writes.ts` recreates them to measure that.
 */
export const SCHEMA_15_TAG_TRIGGERS = `
  CREATE TRIGGER item_tags_on_insert AFTER INSERT ON items WHEN NEW.tags <> '[]' BEGIN
    INSERT OR IGNORE INTO item_tags (cube_key, tag, item_key)
      SELECT NEW.cube_key, value, NEW.item_key FROM json_each(NEW.tags);
  END;
  CREATE TRIGGER item_tags_on_update AFTER UPDATE OF tags, cube_key ON items
    WHEN NEW.tags IS NOT OLD.tags OR NEW.cube_key IS NOT OLD.cube_key BEGIN
    DELETE FROM item_tags WHERE cube_key = OLD.cube_key AND item_key = OLD.item_key
      AND tag IN (SELECT value FROM json_each(OLD.tags));
    INSERT OR IGNORE INTO item_tags (cube_key, tag, item_key)
      SELECT NEW.cube_key, value, NEW.item_key FROM json_each(NEW.tags);
  END;
  CREATE TRIGGER item_tags_on_delete AFTER DELETE ON items WHEN OLD.tags <> '[]' BEGIN
    DELETE FROM item_tags WHERE cube_key = OLD.cube_key AND item_key = OLD.item_key
      AND tag IN (SELECT value FROM json_each(OLD.tags));
  END;`;

/** Append-only: a released migration is never edited, only followed by a new one. */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'cubes, items, versions, audit, full-text index, embedding cache',
    up: (db) => {
      db.exec(`
        CREATE TABLE cubes (
          cube_key     INTEGER PRIMARY KEY,
          tenant       TEXT NOT NULL,
          name         TEXT NOT NULL,
          embedder_id  TEXT NOT NULL,
          dimensions   INTEGER NOT NULL,
          created_at   INTEGER NOT NULL,
          UNIQUE (tenant, name)
        );

        CREATE TABLE items (
          item_key     INTEGER PRIMARY KEY,
          id           TEXT NOT NULL UNIQUE,
          cube_key     INTEGER NOT NULL REFERENCES cubes (cube_key),
          kind         TEXT NOT NULL,
          content      TEXT NOT NULL,
          index_text   TEXT NOT NULL,
          role         TEXT,
          speaker      TEXT,
          user_id      TEXT,
          agent_id     TEXT,
          session_id   TEXT,
          run_id       TEXT,
          turn_index   INTEGER,
          created_at   INTEGER NOT NULL,
          updated_at   INTEGER NOT NULL,
          valid_from   INTEGER,
          valid_to     INTEGER,
          source_ids   TEXT NOT NULL,
          tags         TEXT NOT NULL,
          metadata     TEXT NOT NULL,
          content_hash TEXT NOT NULL,
          status       TEXT NOT NULL,
          version      INTEGER NOT NULL
        );
        CREATE INDEX items_by_event_time ON items (cube_key, coalesce(valid_from, created_at));
        CREATE INDEX items_by_session ON items (cube_key, session_id, turn_index);
        CREATE INDEX items_by_hash ON items (cube_key, content_hash);

        CREATE TABLE item_versions (
          item_key     INTEGER NOT NULL REFERENCES items (item_key),
          version      INTEGER NOT NULL,
          operation    TEXT NOT NULL,
          content      TEXT NOT NULL,
          status       TEXT NOT NULL,
          tags         TEXT NOT NULL,
          metadata     TEXT NOT NULL,
          valid_from   INTEGER,
          valid_to     INTEGER,
          changed_at   INTEGER NOT NULL,
          changed_by   TEXT NOT NULL,
          PRIMARY KEY (item_key, version)
        ) WITHOUT ROWID;

        CREATE TABLE audit (
          audit_key      INTEGER PRIMARY KEY,
          at             INTEGER NOT NULL,
          tenant         TEXT NOT NULL,
          cube_key       INTEGER NOT NULL REFERENCES cubes (cube_key),
          item_id        TEXT,
          operation      TEXT NOT NULL,
          actor          TEXT NOT NULL,
          version_before INTEGER,
          version_after  INTEGER,
          details        TEXT NOT NULL
        );
        CREATE INDEX audit_by_cube_time ON audit (cube_key, at);
        CREATE INDEX audit_by_item ON audit (item_id);

        -- Contentless: the text lives in items.index_text; the index holds only postings.
        CREATE VIRTUAL TABLE items_fts USING fts5 (
          index_text,
          content = '',
          contentless_delete = 1,
          tokenize = 'porter unicode61 remove_diacritics 2'
        );

        CREATE TABLE embedding_cache (
          embedder_id TEXT NOT NULL,
          text_hash   TEXT NOT NULL,
          vector      BLOB NOT NULL,
          PRIMARY KEY (embedder_id, text_hash)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    description: 'derived keys; full-text index with text, context and keys columns',
    up: (db) => {
      db.exec(`
        ALTER TABLE items ADD COLUMN index_context TEXT NOT NULL DEFAULT '';
        ALTER TABLE items ADD COLUMN index_keys TEXT NOT NULL DEFAULT '';
        ALTER TABLE items ADD COLUMN derived TEXT NOT NULL DEFAULT '{"dates":[],"entities":[],"context":null}';
        DROP TABLE items_fts;
        CREATE VIRTUAL TABLE items_fts USING fts5 (
          text,
          context,
          keys,
          content = '',
          contentless_delete = 1,
          tokenize = 'porter unicode61 remove_diacritics 2'
        );
        INSERT INTO items_fts (rowid, text, context, keys) SELECT item_key, index_text, index_context, index_keys FROM items;
      `);
    },
  },
  {
    version: 3,
    description: 'tenants, API keys, cube grants; audit records that outlive their cube',
    up: (db) => {
      db.exec(`
        CREATE TABLE tenants (
          id         TEXT PRIMARY KEY,
          name       TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );

        CREATE TABLE api_keys (
          id          TEXT PRIMARY KEY,
          tenant      TEXT NOT NULL,
          name        TEXT NOT NULL,
          secret_hash TEXT NOT NULL,
          scopes      TEXT NOT NULL,
          cubes       TEXT,
          created_at  INTEGER NOT NULL,
          created_by  TEXT NOT NULL,
          expires_at  INTEGER,
          revoked_at  INTEGER
        );
        CREATE INDEX api_keys_by_tenant ON api_keys (tenant);

        CREATE TABLE cube_grants (
          cube_key     INTEGER NOT NULL REFERENCES cubes (cube_key) ON DELETE CASCADE,
          grantee_kind TEXT NOT NULL,
          grantee      TEXT NOT NULL,
          permission   TEXT NOT NULL,
          created_at   INTEGER NOT NULL,
          created_by   TEXT NOT NULL,
          PRIMARY KEY (cube_key, grantee_kind, grantee)
        ) WITHOUT ROWID;
        CREATE INDEX cube_grants_by_grantee ON cube_grants (grantee_kind, grantee);

        -- The cube's name is kept on each record and the key is no longer a foreign key, so the
        -- audit trail of a deleted cube stays; tenant-level records have no cube.
        CREATE TABLE audit_v3 (
          audit_key      INTEGER PRIMARY KEY,
          at             INTEGER NOT NULL,
          tenant         TEXT NOT NULL,
          cube_key       INTEGER,
          cube_name      TEXT NOT NULL,
          item_id        TEXT,
          operation      TEXT NOT NULL,
          actor          TEXT NOT NULL,
          version_before INTEGER,
          version_after  INTEGER,
          details        TEXT NOT NULL
        );
        INSERT INTO audit_v3
          SELECT a.audit_key, a.at, a.tenant, a.cube_key, c.name, a.item_id, a.operation, a.actor,
                 a.version_before, a.version_after, a.details
          FROM audit a JOIN cubes c ON c.cube_key = a.cube_key;
        DROP TABLE audit;
        ALTER TABLE audit_v3 RENAME TO audit;
        CREATE INDEX audit_by_cube_time ON audit (cube_key, at);
        CREATE INDEX audit_by_item ON audit (item_id);
        CREATE INDEX audit_by_tenant ON audit (tenant, audit_key);
        CREATE INDEX audit_by_actor ON audit (actor, audit_key);
      `);
    },
  },
  {
    version: 4,
    description: 'vector change log, so each connection keeps its in-process vector index fresh',
    up: (db) => {
      // item_key NULL: every vector of the cube changed (re-embedding, cube deleted).
      db.exec(`
        CREATE TABLE vector_changes (
          seq      INTEGER PRIMARY KEY AUTOINCREMENT,
          cube_key INTEGER NOT NULL,
          item_key INTEGER
        );
      `);
    },
  },
  {
    version: 5,
    description: 'the change log also feeds the in-process full-text index: every item write is logged',
    up: (db) => {
      db.exec('ALTER TABLE vector_changes RENAME TO index_changes;');
    },
  },
  {
    version: 6,
    description:
      'vectors move from sqlite-vec tables to one plain table: a point read takes microseconds, not 0.2 ms',
    up: (db) => {
      // vec0 keeps 1,024 vectors per 2 MB blob, so reading one vector walks that blob's overflow
      // pages; a row of its own is one B-tree seek. That makes exact rescoring affordable.
      db.exec(`
        CREATE TABLE item_vectors (
          item_key  INTEGER PRIMARY KEY,
          cube_key  INTEGER NOT NULL,
          live      INTEGER NOT NULL,
          embedding BLOB NOT NULL
        );
        CREATE INDEX item_vectors_by_cube ON item_vectors (cube_key, live);
      `);
      const tables = db
        .prepare(
          `SELECT name FROM sqlite_master
           WHERE type = 'table' AND name GLOB 'vec_items_[0-9]*' AND sql LIKE '%USING vec0%'`,
        )
        .all() as Array<{ name: string }>;
      // `live` is recomputed from the item's status: earlier versions stored an archived item's
      // vector as live when its content was edited. Vectors without an item are left behind.
      for (const { name } of tables) {
        db.exec(`
          INSERT INTO item_vectors (item_key, cube_key, live, embedding)
            SELECT v.item_key, i.cube_key, i.status = 'active', v.embedding
            FROM ${name} v JOIN items i ON i.item_key = v.item_key;
          DROP TABLE ${name};
        `);
      }
    },
  },
  {
    version: 7,
    description:
      'item versions in a rowid table and the duplicate check keyed by session: a bulk load writes a quarter fewer bytes',
    up: (db) => {
      // A WITHOUT ROWID row keeps at most ~2 KB in its page and puts the rest of a long turn on an
      // 8 KB overflow page of its own, so versions took 2.4 KB per item for 1.1 KB of data. And
      // (cube, content_hash) put each insert on a random leaf: a 1,000-item transaction dirtied
      // ~600 pages of that index at 100K items. Keyed by session first, a batch's inserts land
      // on the few leaves of its sessions; the duplicate check matches the session anyway.
      // Version rows without their item (this store writes none) are left behind: with foreign
      // keys on, copying one would abort the upgrade.
      db.exec(`
        CREATE TABLE item_versions_v7 (${ITEM_VERSION_COLUMNS});
        INSERT INTO item_versions_v7 (item_key, version, operation, content, status, tags, metadata, valid_from, valid_to, changed_at, changed_by)
          SELECT item_key, version, operation, content, status, tags, metadata, valid_from, valid_to, changed_at, changed_by
          FROM item_versions WHERE item_key IN (SELECT item_key FROM items) ORDER BY item_key, version;
        DROP TABLE item_versions;
        ALTER TABLE item_versions_v7 RENAME TO item_versions;
        DROP INDEX items_by_hash;
        CREATE INDEX items_by_session_hash ON items (cube_key, session_id, content_hash);
      `);
    },
  },
  {
    version: 8,
    description: "an index of each cube's rows in key order, for paging through a cube",
    up: (db) => {
      // (cube_key) and the rowid: exports, re-embedding and background index builds walk one
      // cube in key order without sorting its rows for every page, and without reading other
      // cubes' rows. Inserts land on the cube's last leaf.
      db.exec('CREATE INDEX items_by_cube ON items (cube_key);');
    },
  },
  {
    version: 9,
    description:
      'the full-text index merges its segments 8 at a time, not 4: bulk loads rewrite postings less often',
    up: (db) => {
      // FTS5 writes each transaction's postings as a new segment and merges a level's segments
      // once it has `automerge` of them, so every posting is rewritten once per level. At 4 (the
      // default) merging took a third of a 1,000-item insert's time at 1M items; at 8 there are
      // fewer levels. A query reads up to 7 segments a level instead of 3; big cubes are searched
      // through their in-process postings anyway.
      db.exec("INSERT INTO items_fts (items_fts, rank) VALUES ('automerge', 8);");
    },
  },
  {
    version: 10,
    description:
      "rows stop repeating themselves: '' for an index text that is the content or a version's content that is the item's, no derived context that the index context holds",
    up: () => {
      // Nothing to convert: rows written in full read as before. The version number is what
      // matters, so that an older memcube refuses a file whose '' it would read as empty text.
    },
  },
  {
    version: 11,
    description: "a covering index from an item's id to its cube and session, for the session boost",
    up: (db) => {
      // Every search reads the sessions of its best 100 hits by id. Through the id's unique index
      // each lookup also reads the item's row (~10 µs at 100K items); this index answers alone
      // (sessionsOf 0.85 → 0.40 ms a search on the 100K bench cube, bench/store-calls.ts). UUIDv7
      // ids arrive in order: inserts append.
      db.exec('CREATE INDEX items_session_of ON items (id, cube_key, session_id);');
    },
  },
  {
    version: 12,
    description:
      'the full-text index moves to a file of its own, caught up from the change log: a bulk load writes it from another core',
    up: (db) => {
      // The word index (word-index.ts) is rebuilt from the items in its own file on first use.
      // `words`: whether the entry changed the item's searchable text (a status or an event time
      // does not). `store_identity`: the word index checks that it belongs to this store.
      db.exec(`
        DROP TABLE items_fts;
        ALTER TABLE index_changes ADD COLUMN words INTEGER NOT NULL DEFAULT 1;
        CREATE TABLE store_identity (id TEXT NOT NULL);
      `);
      db.prepare('INSERT INTO store_identity (id) VALUES (?)').run(randomUUID());
    },
  },
  {
    version: 13,
    description: "ranking reads each candidate's speaker and role with its session, from the index alone",
    up: (db) => {
      // The subject focus (retrieve/speakers.ts) reads the speakers and roles of the same hundred
      // candidates whose sessions the session boost reads; one covering index answers both.
      db.exec(`
        DROP INDEX items_session_of;
        CREATE INDEX items_origin_of ON items (id, cube_key, session_id, speaker, role);
      `);
    },
  },
  {
    version: 14,
    description: "a cube's rows of one user, agent or run found without reading the cube",
    up: (db) => {
      // A search filtered by a user (Mem0's user_id), agent or run keeps few of a big cube's rows,
      // which the in-process indexes cannot apply, so SQL finds them: without an index, by reading
      // every row of the cube (0.6 s at 1M items). Partial: rows without one cost nothing to write.
      db.exec(`
        CREATE INDEX IF NOT EXISTS items_by_user ON items (cube_key, user_id) WHERE user_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS items_by_agent ON items (cube_key, agent_id) WHERE agent_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS items_by_run ON items (cube_key, run_id) WHERE run_id IS NOT NULL;
      `);
    },
  },
  {
    version: 15,
    description: "a cube's rows of one speaker or tag found without reading the cube",
    up: (db) => {
      // As migration 14 for users: a speaker's or a tag's rows in a big cube were found by
      // reading every row (1.4 s at 1M items). Tags live in a JSON list, so a table of their own
      // indexes them, kept by triggers on every write path (add, update, import, cube deletion;
      // nothing moves an item to another cube today, but the update trigger would follow it).
      // Rows without a speaker or tags write nothing more. Migration 16 drops the triggers.
      db.exec(`
        CREATE INDEX items_by_speaker ON items (cube_key, speaker) WHERE speaker IS NOT NULL;
        CREATE TABLE item_tags (
          cube_key  INTEGER NOT NULL,
          tag       TEXT NOT NULL,
          item_key  INTEGER NOT NULL,
          PRIMARY KEY (cube_key, tag, item_key)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO item_tags (cube_key, tag, item_key)
          SELECT i.cube_key, t.value, i.item_key FROM items i, json_each(i.tags) t WHERE i.tags <> '[]';
        ${SCHEMA_15_TAG_TRIGGERS}
      `);
    },
  },
  {
    version: 16,
    description: 'the tag index kept by the store, not by triggers',
    up: (db) => {
      // Triggers on `items`, even ones whose WHEN never holds for an untagged row, slowed every
      // bulk insert by about a third (`bench/tag-index-writes.ts`: 60,000 untagged rows, 22,000
      // a second with them, 33,000 without). The store's write paths (`add`, update, import,
      // cube deletion) keep `item_tags` themselves now; its rows stay as they are.
      db.exec(`
        DROP TRIGGER IF EXISTS item_tags_on_insert;
        DROP TRIGGER IF EXISTS item_tags_on_update;
        DROP TRIGGER IF EXISTS item_tags_on_delete;
      `);
    },
  },
  {
    version: 17,
    description: "a cube's rows of other statuses than active found without reading the cube",
    up: (db) => {
      // A search or listing of archived, expired or frozen rows read every row of the cube (the
      // in-process indexes hold active rows only). Partial: active rows, most of a cube, cost
      // nothing to write, and a status change moves a row in or out. SQLite uses it only when
      // the statement has this WHERE term itself, so the filter SQL adds it (`filterToSql`).
      db.exec(
        `CREATE INDEX IF NOT EXISTS items_not_active ON items (cube_key, status) WHERE status <> 'active';`,
      );
    },
  },
  {
    version: 18,
    description: 'sessions whose context keys may hold the words of turns an older memcube deleted',
    up: (db) => {
      // Before schema 18 a delete left the deleted turn's words in the keys of the turns after
      // it. Every session with a turn that is not active is listed; `MemoryOS.open` derives
      // their keys again (the store cannot: deriving is the ingest layer's) and strikes them off.
      db.exec(`
        CREATE TABLE context_key_repairs (
          cube_key   INTEGER NOT NULL REFERENCES cubes (cube_key) ON DELETE CASCADE,
          session_id TEXT NOT NULL,
          PRIMARY KEY (cube_key, session_id)
        ) WITHOUT ROWID;
        INSERT INTO context_key_repairs (cube_key, session_id)
          SELECT DISTINCT cube_key, session_id FROM items
          WHERE status <> 'active' AND session_id IS NOT NULL AND turn_index IS NOT NULL;
      `);
    },
  },
  {
    version: 19,
    description: "sessions whose context keys hold a party's own turns before it (notes, not answers)",
    up: (db) => {
      // Before schema 19 a turn was keyed by the turns before it whoever said them, so a user's
      // notes added one by one to a session were found by each other's words. A turn now
      // answers only another party's turns, so a key can change only where the nearest active
      // turn before a turn (of any status: deleted turns are keyed too) is its own party's
      // (speaker, else role). Those sessions are listed; `MemoryOS.open` derives their keys again.
      db.exec(`
        INSERT OR IGNORE INTO context_key_repairs (cube_key, session_id)
          SELECT DISTINCT t.cube_key, t.session_id FROM items t
          WHERE t.session_id IS NOT NULL AND t.turn_index IS NOT NULL
            AND coalesce(t.speaker, t.role, '') = (
              SELECT coalesce(p.speaker, p.role, '') FROM items p
              WHERE p.cube_key = t.cube_key AND p.session_id = t.session_id AND p.status = 'active'
                AND p.turn_index < t.turn_index
              ORDER BY p.turn_index DESC LIMIT 1
            );
      `);
    },
  },
  {
    version: 20,
    description: "ranking reads each candidate's end of truth with its origin, from the index alone",
    up: (db) => {
      // Facts no longer true (retrieve/ended.ts) are lowered by their `valid_to`, read with the
      // sessions, speakers and roles of the same hundred candidates: the covering index holds it.
      db.exec(`
        DROP INDEX items_origin_of;
        CREATE INDEX items_origin_of ON items (id, cube_key, session_id, speaker, role, valid_to);
      `);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to date in one transaction; refuses a database from a newer memcube.
 * The version is read under the write lock, so two processes opening a new file at once
 * migrate it once: the second waits, then finds nothing left to do.
 */
export function migrate(db: Database.Database): void {
  const readVersion = (): number => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
    return (
      (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0
    );
  };
  const checkNotNewer = (current: number): void => {
    if (current > SCHEMA_VERSION) {
      throw new MemcubeError(
        'storage',
        `database schema version ${current} is newer than this memcube supports (${SCHEMA_VERSION}); upgrade memcube`,
      );
    }
  };
  db.transaction(() => {
    const current = readVersion();
    checkNotNewer(current);
    const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    for (const m of MIGRATIONS.filter((m) => m.version > current)) {
      m.up(db);
      record.run(m.version, Date.now());
    }
  }).immediate();
}
