import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { ConflictError, MemcubeError, NotFoundError, SessionChangedError } from '../../core/errors.js';
import type {
  AuditOperation,
  AuditRecord,
  CubeInfo,
  MemoryItem,
  MemoryStatus,
  MemoryVersion,
} from '../../core/types.js';
import { AUDIT_INSERT_COLUMNS, importedAuditValues } from '../audit-values.js';
import {
  assertContent,
  assertMutable,
  assertVectorLength,
  decodeCursor,
  encodeCursor,
} from '../item-rules.js';
import {
  duplicateProbeValues,
  ITEM_INSERT_COLUMNS,
  importedItemValues,
  itemPlaceholders,
  newItemValues,
  type OriginRow,
  originsFromRows,
} from '../item-values.js';
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
  LexicalNarrowing,
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
import { type AuditEntry, selectAudit, writeAudit } from './audit.js';
import {
  CubeIndexes,
  DEFAULT_BACKGROUND_BUILD_MIN_ITEMS,
  DEFAULT_SMALL_LEXICAL_BYTES,
  logIndexChange,
  nextTurn,
} from './cube-indexes.js';
import {
  activeItemsWindow,
  filterToSql,
  indexesApply,
  isNarrowing,
  type ListedTag,
  listsByStatus,
  RARE_TAG_ROWS,
  splitActive,
  tagToList,
  wordIndexApplies,
} from './filter-sql.js';
import { type ClassMasks, classMasks } from './item-classes.js';
import { LexicalIndex } from './lexical-index.js';
import { migrate } from './migrations.js';
import { prepared } from './prepared.js';
import {
  blobToVector,
  COMPACT_FORM,
  type CubeRow,
  cubeInfo,
  derivedOf,
  INDEX_TEXT_SQL,
  type ItemRow,
  indexTextOf,
  iso,
  msOrNull,
  rowToItem,
  rowToVersion,
  SAME_AS_CONTENT,
  VERSION_COLUMNS_SQL,
  type VersionRow,
  vectorToBlob,
} from './rows.js';
import { SqliteAccessStore } from './sqlite-access.js';
import { UpkeepThread } from './upkeep-thread.js';
import type { BinaryVectorIndex, TimeWindow } from './vector-index.js';
import { RESCORE_SQL, type RescoredKey, VectorRescorer } from './vector-rescorer.js';
import { CATCH_UP_BATCH, catchUpWords, openWordIndex, type WordIndex } from './word-index.js';

export interface SqliteStoreOptions {
  /** `full` fsyncs each commit (survives power loss); `normal` survives process crashes only. */
  durability?: 'full' | 'normal';
  /**
   * Cubes with at least this many active items search their vectors through an in-process binary
   * index (a Hamming scan shortlists candidates, rescored exactly from the stored floats); smaller
   * cubes are scored exactly in SQL (sqlite-vec's cosine over the cube's rows). Words are scored
   * in memory for every cube (postings scored as FTS5's BM25 over the cube's own rows, at least 100
   * of them for the idf); those of
   * smaller cubes are kept within `smallLexicalBytes`. Default `MEMCUBE_INDEX_MIN_ITEMS` from the
   * environment, else 5,000.
   */
  indexMinItems?: number;
  /**
   * Bytes (estimated) the in-process word indexes of cubes under `indexMinItems` rows may hold in
   * all: past it, one unused for 5 minutes makes room for another cube's, and a cube that finds
   * no room is searched by FTS5. 0: small cubes always are. Default 200 MiB.
   */
  smallLexicalBytes?: number;
  /**
   * Indexes of at least this many rows (a cube's active items for vectors, all its rows for words)
   * are built in the background, SQLite answering meanwhile, instead of on the first search
   * (default 10,000); `warm` waits for them.
   */
  backgroundBuildMinItems?: number;
  /**
   * `background` (default): once the store has taken a bulk insert (100+ records) or a second
   * insert, a worker thread copies the write-ahead log into the database, so commits no longer pay
   * for checkpoints; `inline`: each commit that fills the log past 1,000 pages checkpoints it
   * itself (SQLite's default; on one core the worker would only compete with the writer).
   */
  checkpoints?: 'background' | 'inline';
  /**
   * `background` (default for a file): a big cube's vector search hands its candidates to a
   * worker thread with its own read-only connection for exact rescoring, while the words are
   * scored on this one (started by `warm` or the first such search; until it is up, and if it
   * fails, the rescoring runs here); `inline`: always here.
   */
  vectorRescoring?: 'background' | 'inline';
}

/** The columns of an item row that each version records besides its content. */
type VersionedFields = Pick<
  ItemRow,
  'item_key' | 'version' | 'status' | 'tags' | 'metadata' | 'valid_from' | 'valid_to'
>;

interface ResolvedCube {
  key: number;
  name: string;
  tenant: string;
  /** Vector length of the cube's embedder; 0: the cube keeps no vectors. */
  dimensions: number;
}

/** A vector search of the in-process index: the cube, its index, the query and what it keeps. */
interface NearestQuery {
  cube: ResolvedCube;
  index: BinaryVectorIndex;
  vector: Float32Array;
  blob: Buffer;
  filter: StoreItemFilter;
  window: TimeWindow;
  limit: number;
}

const PAGE = 500;
/** Bytes per database page for new files. */
const PAGE_SIZE = 8192;
/** SQLite's default: a commit that leaves more pages than this in the log checkpoints it. */
const INLINE_CHECKPOINT_PAGES = 1_000;
/**
 * With the background checkpointer the writer checkpoints only past this (80 MB). The log starts
 * over from its top only when a commit finds it all copied, which a sustained load rarely leaves
 * time for; this checkpoint, cheap by then (the worker has copied most of it), starts it over.
 */
const BACKSTOP_CHECKPOINT_PAGES = 10_000;
/** What the log file is cut back to when it starts over (it would otherwise stay at its peak). */
const LOG_SIZE_LIMIT_BYTES = 32 * 1024 * 1024;
/**
 * An insert this big starts the checkpointer at once; smaller ones from the second on. A one-shot
 * `memcube add` then does not pay ~0.1 s to start and stop a thread it has no use for.
 */
const BULK_INSERT_RECORDS = 100;
/** Hamming candidates rescored exactly per query at least (recall@10 0.9975 at 100K, bench cube). */
const ANN_CANDIDATES = 200;
/**
 * Bigger cubes hold more near-ties in Hamming distance: one more candidate per this many items.
 * On the 1M bench cube, recall@10 with 200 / 500 / 1,000 / 2,000 candidates: 0.93 / 0.985 /
 * 0.995 / 1.0 (80 questions; 0.977 with 500 over the bench's 200).
 */
const ITEMS_PER_CANDIDATE = 1_000;
/**
 * Of many Hamming candidates, only this share (and at least `ANN_CANDIDATES`) is rescored from
 * its row, the ones whose codes best match the query's own values: a row read is the costly part
 * of a 1M search when its page is not cached. 1M bench cube, 60 questions (one-off script, exact
 * truth by brute force): recall@10 0.9933 with 1,000 candidates rescored, 0.9933 with the best 500
 * of them, 0.9900 with 400, 0.9783 with 300; `memcube bench` then measured 0.9909 (was 0.9941).
 */
const RESCORED_SHARE = 0.5;
const DEFAULT_INDEX_MIN_ITEMS = 5_000;
/** How often a caller waiting for the upkeep thread to catch the word index up looks again. */
const WORDS_POLL_MS = 2;
/** After a failed catch-up of the word index, writes leave it alone this long (each try may wait 5 s for a lock). */
const WORDS_RETRY_MS = 1_000;
/** Full-text hits ranked per wanted hit, before the cube and status check (the index spans all cubes). */
const LEXICAL_OVERFETCH = 4;
/**
 * A filter the indexes cannot apply themselves (a tag, a user) is checked on their best rows of
 * the roles, kinds and time window they do apply, read this many times as deep as an unfiltered
 * search, then deeper: scoring every row the filter keeps in SQL cost 0.1 to 0.5 s at 200K items. A filter that keeps
 * too few of them (a user, a speaker, a tag) falls back to SQL, which finds a user's, agent's,
 * run's, speaker's or tag's rows by their own indexes (schemas 14 and 15), other rows by reading
 * the cube.
 */
const FILTERED_DEPTHS = [4, 16, 64];
const FIRST_DEPTH = FILTERED_DEPTHS[0] as number;
const DEEPEST = FILTERED_DEPTHS[FILTERED_DEPTHS.length - 1] as number;

/**
 * Whether a filtered read of the indexes `times` as deep as an unfiltered one, `kept` of whose
 * rows passed the filter, should go deeper: not when even the deepest read would keep fewer than
 * `needed` at this rate.
 */
function deeperMayDo(times: number, kept: number, needed: number): boolean {
  return times < DEEPEST && kept > 0 && (times * needed) / kept <= DEEPEST;
}

/** Hamming candidates and rows rescored exactly for `limit` hits from an index of `size` rows, `times` as deep. */
function annDepth(size: number, limit: number, times = 1): { candidates: number; rescored: number } {
  const candidates = Math.max(ANN_CANDIDATES, 2 * limit, Math.ceil(size / ITEMS_PER_CANDIDATE));
  const rescored = Math.max(ANN_CANDIDATES, 2 * limit, Math.ceil(candidates * RESCORED_SHARE));
  return { candidates: times * candidates, rescored: times * rescored };
}

/**
 * The sessions, speakers and roles of items by id (parameters: a JSON array of ids, the cube key).
 * CROSS JOIN: one lookup per id, not a walk of the cube's rows; schema 13's covering index answers
 * it alone.
 */
export const ORIGINS_OF_SQL = `SELECT i.id AS id, i.session_id AS session, i.speaker AS speaker, i.role AS role, i.valid_to AS endsAt FROM json_each(?) k
  CROSS JOIN items i ON i.id = k.value WHERE i.cube_key = ?`;

/** The file as a database, or a storage error naming it (a folder, a file it may not open). */
function openDatabase(file: string): Database.Database {
  try {
    return new Database(file);
  } catch (err) {
    throw new MemcubeError('storage', `cannot open the database '${file}': ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** A storage error naming the file when SQLite found it is not a database, else null. */
function notADatabase(file: string, err: unknown): MemcubeError | null {
  if ((err as { code?: string }).code !== 'SQLITE_NOTADB') return null;
  return new MemcubeError(
    'storage',
    `'${file}' is not a memcube database (SQLite: ${(err as Error).message}); give a new path, or a database memcube wrote`,
    { cause: err },
  );
}

/** The embedded store: better-sqlite3 in WAL mode, FTS5 for BM25, sqlite-vec's distance functions for vectors. */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly indexes: CubeIndexes;
  /**
   * Checkpoints the log and catches the word index up. Started by a bulk insert or the second
   * insert (a store only read, like a search-only CLI call, needs none), or at open when the
   * word index is still to be built.
   */
  private upkeep: UpkeepThread | undefined;
  /** Started by `warm` or the first search of a cube big enough for the in-process indexes. */
  private rescorer: VectorRescorer | undefined;
  private inserts = 0;
  /** The last error catching the word index up after a write, and when a writer tries again. */
  private wordIndexFailure: Error | null = null;
  private wordsRetryAt = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    db: Database.Database,
    private readonly words: WordIndex,
    private readonly indexMinItems: number,
    backgroundBuildMinItems: number,
    smallLexicalBytes: number,
    private backgroundCheckpoints: { file: string; synchronous: 'FULL' | 'NORMAL' } | null,
    /** The file a background rescorer reads; null: rescoring runs on this connection. */
    private rescoringFile: string | null,
  ) {
    this.db = db;
    this.indexes = new CubeIndexes(db, backgroundBuildMinItems, undefined, undefined, smallLexicalBytes);
  }

  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = openDatabase(file);
    const synchronous = options.durability === 'normal' ? 'NORMAL' : 'FULL';
    try {
      sqliteVec.load(db);
      // Takes effect only on a new, empty file. A 2 KB vector row fits once in a 4 KB page but three
      // times in 8 KB, and items run to several KB: 8 KB pages write a third less per vector.
      db.pragma(`page_size = ${PAGE_SIZE}`);
      if (file !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db);
    } catch (err) {
      db.close();
      throw notADatabase(file, err) ?? err;
    }
    let words: WordIndex;
    try {
      words = openWordIndex(db, file);
    } catch (err) {
      db.close();
      throw err;
    }
    const indexMinItems =
      options.indexMinItems ?? Number(process.env.MEMCUBE_INDEX_MIN_ITEMS ?? DEFAULT_INDEX_MIN_ITEMS);
    const background = file !== ':memory:' && (options.checkpoints ?? 'background') === 'background';
    const store = new SqliteStore(
      db,
      words,
      indexMinItems,
      options.backgroundBuildMinItems ?? DEFAULT_BACKGROUND_BUILD_MIN_ITEMS,
      options.smallLexicalBytes ?? DEFAULT_SMALL_LEXICAL_BYTES,
      background ? { file: path.resolve(file), synchronous } : null,
      file !== ':memory:' && (options.vectorRescoring ?? 'background') === 'background'
        ? path.resolve(file)
        : null,
    );
    // A word index still to be built from the items (a new file beside an upgraded store, say):
    // a small store's is built here; a bigger one's on the other core, not by the first search
    // that needs it.
    try {
      if (!store.catchUpWordsOnce()) store.startUpkeep();
    } catch {
      // Its file held by another process past the busy wait, say: the thread, or the first
      // search that needs the words, catches it up.
      store.startUpkeep();
    }
    return store;
  }

  /** For tests and diagnostics: the database's page size in bytes. */
  pageSize(): number {
    return this.db.pragma('page_size', { simple: true }) as number;
  }

  /** For tests and diagnostics: whether a big cube's vector candidates are now rescored on the worker thread. */
  rescoresInBackground(): boolean {
    return this.rescorer?.usable ?? false;
  }

  /** For tests and diagnostics: estimated bytes held by the in-process word indexes of cubes under `indexMinItems` rows. */
  smallLexicalBytesHeld(): number {
    return this.indexes.smallLexicalHeld;
  }

  /** For tests and diagnostics: the result of `PRAGMA integrity_check`. */
  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // An insert or search made while the workers stop must not start others.
      this.backgroundCheckpoints = null;
      this.rescoringFile = null;
      // Their connections first: the writer's close, the last, then checkpoints and removes the log.
      // The word index may be left behind the log: whoever opens the store next catches it up.
      await Promise.all([this.upkeep?.stop(), this.rescorer?.stop()]);
      this.upkeep = undefined;
      this.rescorer = undefined;
      if (this.words.file !== null && this.words.db.open) this.words.db.close();
      if (this.db.open) this.db.close();
    })();
    return this.closing;
  }

  /**
   * Called after each insert commits: a bulk one, or the second of any size, starts the upkeep
   * thread for the writes after it (the log of a transaction is copied only once it has
   * committed, so a thread started sooner could not have helped this one; and the insert does
   * not share the cores with the thread's start).
   */
  private noteInsert(records: number): void {
    this.inserts++;
    if (records >= BULK_INSERT_RECORDS || this.inserts >= 2) this.startUpkeep();
    this.afterLoggedWrite();
  }

  /**
   * After a commit that logged changes: without the upkeep thread the word index is caught up
   * here and now (as the text was indexed in the writing transaction before schema 12), so the
   * log it keeps stays short even when no search needs the words.
   */
  private afterLoggedWrite(): void {
    if (this.upkeepRunning() || Date.now() < this.wordsRetryAt) return;
    try {
      // A build from the items (after an upgrade, say) goes a batch per write, the rest to the
      // searches that need it: no write waits for all of it.
      if (this.wordState().builtTo !== null) {
        this.catchUpWordsOnce();
        return;
      }
      const head = this.logHead();
      while (!this.wordsReached(head)) this.catchUpWordsOnce();
      this.wordIndexFailure = null;
    } catch (err) {
      // The write is committed and must be reported so (a retried insert would find it there).
      // The next write after a pause, or a search that reads FTS5 (which reports the error),
      // catches the index up.
      this.wordIndexFailure = err instanceof Error ? err : new Error(String(err));
      this.wordsRetryAt = Date.now() + WORDS_RETRY_MS;
    }
  }

  /** For diagnostics: the last error a writer met catching the word index up, until one succeeds. */
  wordIndexError(): Error | null {
    return this.wordIndexFailure;
  }

  private upkeepRunning(): boolean {
    return this.upkeep?.alive === true && this.backgroundCheckpoints !== null;
  }

  private logHead(): number {
    return (prepared(this.words.db, this.words.sql.head).get() as { seq: number }).seq;
  }

  /** How far the word index has read the log, and how far it is built from the items (null: built). */
  private wordState(): { seq: number; builtTo: number | null } {
    return prepared(this.words.db, this.words.sql.readState).get() as { seq: number; builtTo: number | null };
  }

  /** Whether the word index is built and has read the log up to `head`. */
  private wordsReached(head: number): boolean {
    const { seq, builtTo } = this.wordState();
    return builtTo === null && seq >= head;
  }

  private catchUpWordsOnce(): boolean {
    const { db, sql } = this.words;
    return catchUpWords(db, (q) => prepared(db, q), sql, CATCH_UP_BATCH);
  }

  /** How far the word index has read the log: the store keeps the entries after it. */
  private readonly wordIndexSeq = (): number => this.wordState().seq;

  private logChange(cubeKey: number, itemKey: number | null, words = true): void {
    logIndexChange(this.db, cubeKey, itemKey, { words, wordIndexSeq: this.wordIndexSeq });
  }

  /**
   * Waits until the word index holds every write committed before the call: FTS5 answers only
   * from it. Writes committed meanwhile are not waited for.
   */
  async catchUpWordIndex(): Promise<void> {
    const head = this.logHead();
    let woken = false;
    while (!this.wordsReached(head)) {
      if (this.closing)
        throw new MemcubeError('storage', 'the store was closed while a search waited for it');
      if (this.upkeep && this.upkeepRunning()) {
        // The thread's transactions follow each other closely: racing it for the file's lock
        // would stall this event loop in SQLite's busy wait, so this call waits its turn here.
        if (!woken) this.upkeep.wake();
        woken = true;
        await sleep(WORDS_POLL_MS);
      } else {
        this.catchUpWordsOnce();
        // A build from the items runs in turns, so other calls go on meanwhile.
        await nextTurn();
      }
    }
  }

  private startUpkeep(): void {
    if (this.upkeep || !this.backgroundCheckpoints || !this.db.open || this.words.file === null) return;
    const { file, synchronous } = this.backgroundCheckpoints;
    const onFailure = () => {
      // The writer checkpoints and catches the word index up itself again.
      this.backgroundCheckpoints = null;
      if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
    };
    try {
      this.upkeep = UpkeepThread.start(
        { storeFile: file, wordFile: this.words.file, synchronous, sql: this.words.sql },
        onFailure,
      );
    } catch {
      // No thread to be had (a resource limit, say): the insert goes on with inline checkpoints.
      this.backgroundCheckpoints = null;
      return;
    }
    this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
    this.db.pragma(`journal_size_limit = ${LOG_SIZE_LIMIT_BYTES}`);
  }

  /** The rescoring thread once it is up, starting it on first call; undefined: rescore here. */
  private backgroundRescorer(): VectorRescorer | undefined {
    // Closing: the thread may already be told to stop, and its connection first.
    if (this.closing) return undefined;
    if (this.rescorer) return this.rescorer.usable ? this.rescorer : undefined;
    if (!this.rescoringFile || !this.db.open) return undefined;
    try {
      this.rescorer = VectorRescorer.start(this.rescoringFile);
    } catch {
      // No thread to be had: every search rescores here.
      this.rescoringFile = null;
    }
    return undefined;
  }

  private stmt(sql: string): Database.Statement {
    return prepared(this.db, sql);
  }

  private resolve(scope: CubeScope): ResolvedCube {
    const row = this.stmt('SELECT * FROM cubes WHERE tenant = ? AND name = ?').get(
      scope.tenant,
      scope.cube,
    ) as CubeRow | undefined;
    if (!row) throw new NotFoundError(`unknown cube '${scope.cube}'`);
    return {
      key: row.cube_key,
      name: row.name,
      tenant: row.tenant,
      dimensions: row.dimensions,
    };
  }

  private audit(cube: ResolvedCube, entry: AuditEntry, ctx: WriteContext): void {
    writeAudit(this.db, { tenant: cube.tenant, cubeKey: cube.key, cubeName: cube.name }, entry, ctx);
  }

  private itemRow(cube: ResolvedCube, id: string): ItemRow {
    const row = this.stmt('SELECT * FROM items WHERE cube_key = ? AND id = ?').get(cube.key, id) as
      | ItemRow
      | undefined;
    if (!row) throw new NotFoundError(`no item '${id}' in cube '${cube.name}'`);
    return row;
  }

  /**
   * Keeps the tag index (`item_tags`) in step with an item's tags, from `previous` to `tags`:
   * add, update and import call it; deleting a cube drops the cube's rows. Untagged rows write
   * nothing (schema 16: triggers did this and slowed every insert).
   */
  private indexTags(
    cubeKey: number,
    itemKey: number,
    tags: readonly string[],
    previous: readonly string[] = [],
  ): void {
    for (const tag of previous) {
      if (tags.includes(tag)) continue;
      this.stmt('DELETE FROM item_tags WHERE cube_key = ? AND tag = ? AND item_key = ?').run(
        cubeKey,
        tag,
        itemKey,
      );
    }
    for (const tag of tags) {
      if (previous.includes(tag)) continue;
      this.stmt('INSERT OR IGNORE INTO item_tags (cube_key, tag, item_key) VALUES (?, ?, ?)').run(
        cubeKey,
        tag,
        itemKey,
      );
    }
  }

  /**
   * Records the item as it now is. Its content is the item's own until the content changes
   * (`keepReplacedContent`), so the version stores the marker instead of a second copy.
   */
  private writeVersion(row: VersionedFields, operation: AuditOperation, ctx: WriteContext): void {
    this.stmt(
      `INSERT INTO item_versions (item_key, version, operation, content, status, tags, metadata, valid_from, valid_to, changed_at, changed_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      row.item_key,
      row.version,
      operation,
      SAME_AS_CONTENT,
      row.status,
      row.tags,
      row.metadata,
      row.valid_from,
      row.valid_to,
      ctx.now,
      ctx.actor,
    );
  }

  /** Before the content changes: the versions that stood for the old content get their own copy. */
  private keepReplacedContent(before: ItemRow): void {
    this.stmt('UPDATE item_versions SET content = ? WHERE item_key = ? AND content = ?').run(
      before.content,
      before.item_key,
      SAME_AS_CONTENT,
    );
  }

  private putVector(
    cube: ResolvedCube,
    itemKey: number,
    vector: Float32Array | null,
    live: boolean,
    replacing: boolean,
  ): void {
    if (cube.dimensions === 0) return;
    if (vector) assertVectorLength(vector, cube.dimensions);
    if (replacing) this.stmt('DELETE FROM item_vectors WHERE item_key = ?').run(itemKey);
    if (vector) {
      this.stmt('INSERT INTO item_vectors (item_key, cube_key, live, embedding) VALUES (?, ?, ?, ?)').run(
        itemKey,
        cube.key,
        live ? 1 : 0,
        vectorToBlob(vector),
      );
    }
  }

  async getCube(tenant: string, name: string): Promise<CubeInfo | null> {
    const row = this.stmt('SELECT * FROM cubes WHERE tenant = ? AND name = ?').get(tenant, name) as
      | CubeRow
      | undefined;
    return row ? cubeInfo(row) : null;
  }

  async createCube(
    tenant: string,
    name: string,
    embedder: EmbedderIdentity,
    ctx: WriteContext,
  ): Promise<CubeInfo> {
    return this.db.transaction(() => this.insertCube(tenant, name, embedder, ctx)).immediate();
  }

  private insertCube(tenant: string, name: string, embedder: EmbedderIdentity, ctx: WriteContext): CubeInfo {
    if (this.stmt('SELECT 1 FROM cubes WHERE tenant = ? AND name = ?').get(tenant, name)) {
      throw new ConflictError(`cube '${name}' already exists`);
    }
    this.stmt(
      'INSERT INTO cubes (tenant, name, embedder_id, dimensions, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(tenant, name, embedder.id, embedder.dimensions, ctx.now);
    const cube = this.resolve({ tenant, cube: name });
    this.audit(
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
    return cubeInfo(this.stmt('SELECT * FROM cubes WHERE cube_key = ?').get(cube.key) as CubeRow);
  }

  async listCubes(tenant: string): Promise<CubeInfo[]> {
    const rows = this.stmt('SELECT * FROM cubes WHERE tenant = ? ORDER BY name').all(tenant) as CubeRow[];
    return rows.map(cubeInfo);
  }

  async deleteCube(tenant: string, name: string, ctx: WriteContext): Promise<void> {
    const cubeKey = this.db
      .transaction(() => {
        const cube = this.resolve({ tenant, cube: name });
        const items = (
          this.stmt('SELECT count(*) AS n FROM items WHERE cube_key = ?').get(cube.key) as { n: number }
        ).n;
        this.stmt('DELETE FROM item_vectors WHERE cube_key = ?').run(cube.key);
        // The word index drops the cube's rows when it reads this entry.
        this.logChange(cube.key, null);
        this.stmt(
          'DELETE FROM item_versions WHERE item_key IN (SELECT item_key FROM items WHERE cube_key = ?)',
        ).run(cube.key);
        this.stmt('DELETE FROM items WHERE cube_key = ?').run(cube.key);
        this.stmt('DELETE FROM item_tags WHERE cube_key = ?').run(cube.key);
        // Grants go with the cube (ON DELETE CASCADE); audit records stay.
        this.stmt('DELETE FROM cubes WHERE cube_key = ?').run(cube.key);
        this.audit(
          cube,
          {
            itemId: null,
            operation: 'delete_cube',
            versionBefore: null,
            versionAfter: null,
            details: { items },
          },
          ctx,
        );
        // SQLite reuses the largest rowid of a deleted row: the next cube could inherit these records.
        this.stmt('UPDATE audit SET cube_key = NULL WHERE cube_key = ?').run(cube.key);
        return cube.key;
      })
      .immediate();
    this.indexes.drop(cubeKey);
    this.afterLoggedWrite();
  }

  /** Tenants, keys and grants in the same database, sharing this connection. */
  accessStore(): SqliteAccessStore {
    return new SqliteAccessStore(this.db);
  }

  async insertItems(
    scope: CubeScope,
    records: NewItemRecord[],
    ctx: WriteContext,
    derivedFrom?: SessionStamp,
  ): Promise<InsertOutcome[]> {
    const outcomes = this.db
      .transaction(() => {
        const cube = this.resolve(scope);
        if (derivedFrom) this.assertSessionUnchanged(cube, derivedFrom);
        // A memory no longer true takes no restatement: saying it again is new evidence that it
        // is true again, stored as its own episode. One that ends later still does. Nor does one
        // outside the record's dedupe window (said at another time); of several, the latest.
        const findDuplicate = this.stmt(
          `SELECT id FROM items WHERE cube_key = ? AND content_hash = ? AND status = 'active' AND kind = ?
             AND session_id IS ? AND role IS ? AND speaker IS ? AND (valid_to IS NULL OR valid_to > ?)
             AND coalesce(valid_from, created_at) BETWEEN ? AND ? ORDER BY valid_from DESC, item_key DESC LIMIT 1`,
        );
        const nextTurnIndex = this.stmt(
          'SELECT coalesce(max(turn_index) + 1, 0) AS next FROM items WHERE cube_key = ? AND session_id = ?',
        );
        const insert = this.stmt(
          `INSERT INTO items (${ITEM_INSERT_COLUMNS}) VALUES (${itemPlaceholders('question')})`,
        );
        const outcomes: InsertOutcome[] = [];
        for (const r of records) {
          assertContent(r.content);
          const duplicate = findDuplicate.get(...duplicateProbeValues(cube.key, r, ctx.now)) as
            | { id: string }
            | undefined;
          if (duplicate) {
            outcomes.push({ id: duplicate.id, created: false });
            continue;
          }
          const turnIndex =
            r.sessionId === null ? null : (nextTurnIndex.get(cube.key, r.sessionId) as { next: number }).next;
          const { lastInsertRowid } = insert.run(
            ...newItemValues(cube.key, r, turnIndex, ctx.now, COMPACT_FORM),
          );
          const itemKey = Number(lastInsertRowid);
          this.indexTags(cube.key, itemKey, r.tags);
          // The first version holds what was just inserted; no need to read the row back.
          this.writeVersion(
            {
              item_key: itemKey,
              version: 1,
              status: 'active',
              tags: JSON.stringify(r.tags),
              metadata: JSON.stringify(r.metadata),
              valid_from: r.validFrom,
              valid_to: r.validTo,
            },
            'add',
            ctx,
          );
          // The in-process indexes and the word index read the new row from the log.
          this.logChange(cube.key, itemKey);
          this.putVector(cube, itemKey, r.embedding, true, false);
          this.audit(cube, { itemId: r.id, operation: 'add', versionBefore: null, versionAfter: 1 }, ctx);
          outcomes.push({ id: r.id, created: true });
        }
        return outcomes;
      })
      .immediate();
    this.noteInsert(records.length);
    return outcomes;
  }

  async warm(scope: CubeScope): Promise<boolean> {
    const cube = this.resolve(scope);
    const warmed = await this.indexes.warm(cube.key, cube.dimensions, this.indexMinItems);
    // A cube searched through its vector index rescores on the thread: started here, not in a search.
    if (cube.dimensions > 0 && this.indexes.vector(cube.key, cube.dimensions, this.indexMinItems)) {
      this.backgroundRescorer();
    }
    return warmed;
  }

  async getItems(scope: CubeScope, ids: string[]): Promise<MemoryItem[]> {
    const cube = this.resolve(scope);
    // One cached statement for any number of ids (an `IN (?, ?, …)` list was prepared per call);
    // CROSS JOIN: one unique-index lookup per id, not a walk of the cube's rows.
    const rows = this.stmt(
      'SELECT i.* FROM json_each(?) k CROSS JOIN items i ON i.id = k.value WHERE i.cube_key = ?',
    ).all(JSON.stringify(ids), cube.key) as ItemRow[];
    const byId = new Map(rows.map((row) => [row.id, rowToItem(row, cube.name)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async eventSpan(scope: CubeScope): Promise<{ first: number; last: number } | null> {
    const cube = this.resolve(scope);
    // Two subqueries: each of min and max alone is one step along items_by_event_time.
    const row = this.stmt(
      `SELECT (SELECT min(coalesce(valid_from, created_at)) FROM items WHERE cube_key = ?) AS first,
              (SELECT max(coalesce(valid_from, created_at)) FROM items WHERE cube_key = ?) AS last`,
    ).get(cube.key, cube.key) as { first: number | null; last: number | null };
    return row.first === null || row.last === null ? null : { first: row.first, last: row.last };
  }

  async originsOf(scope: CubeScope, ids: string[]): Promise<Map<string, ItemOrigin>> {
    const cube = this.resolve(scope);
    return originsFromRows(this.stmt(ORIGINS_OF_SQL).all(JSON.stringify(ids), cube.key) as OriginRow[]);
  }

  async listItems(
    scope: CubeScope,
    filter: StoreItemFilter,
    page: { limit: number; cursor?: string; order: 'asc' | 'desc' },
  ): Promise<Page<MemoryItem>> {
    const cube = this.resolve(scope);
    const where = filterToSql(filter, this.listedTag(cube, filter, false));
    const after = page.cursor === undefined ? null : decodeCursor(page.cursor);
    const op = page.order === 'asc' ? '>' : '<';
    // Several statuses' rows come out of the status index unordered; without the hint SQLite
    // would rather read the whole cube in key order than sort the few rows it lists.
    const hint = listsByStatus(filter) ? 'INDEXED BY items_not_active' : '';
    const rows = this.stmt(
      `SELECT * FROM items i ${hint} WHERE i.cube_key = ? AND ${where.sql} ${after === null ? '' : `AND i.item_key ${op} ?`}
       ORDER BY i.item_key ${page.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`,
    ).all(cube.key, ...where.params, ...(after === null ? [] : [after]), page.limit + 1) as ItemRow[];
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
    const updated = this.db
      .transaction(() => {
        const cube = this.resolve(scope);
        if (contextKeys) this.assertSessionUnchanged(cube, contextKeys.derivedFrom);
        const before = this.itemRow(cube, id);
        assertMutable(before, 'update');
        const content = change.content;
        if (content) assertContent(content.content);
        if (content && content.content !== before.content) this.keepReplacedContent(before);
        this.stmt(
          `UPDATE items SET content = ?, index_text = ?, index_context = ?, index_keys = ?, derived = ?, content_hash = ?,
             tags = ?, metadata = ?, valid_from = ?, valid_to = ?, version = version + 1, updated_at = ? WHERE item_key = ?`,
        ).run(
          content?.content ?? before.content,
          content ? COMPACT_FORM.indexText(content.content, content.index.text) : before.index_text,
          content?.index.context ?? before.index_context,
          content?.index.keys ?? before.index_keys,
          content ? COMPACT_FORM.derived(content.derived, content.index.context) : before.derived,
          content?.contentHash ?? before.content_hash,
          change.tags === undefined ? before.tags : JSON.stringify(change.tags),
          change.metadata === undefined ? before.metadata : JSON.stringify(change.metadata),
          change.validFrom === undefined ? before.valid_from : change.validFrom,
          change.validTo === undefined ? before.valid_to : change.validTo,
          ctx.now,
          before.item_key,
        );
        if (change.tags !== undefined) {
          this.indexTags(cube.key, before.item_key, change.tags, JSON.parse(before.tags) as string[]);
        }
        const after = this.stmt('SELECT * FROM items WHERE item_key = ?').get(before.item_key) as ItemRow;
        this.writeVersion(after, 'update', ctx);
        if (content) {
          this.logChange(cube.key, after.item_key);
          this.putVector(cube, after.item_key, content.embedding, after.status === 'active', true);
        } else if (change.validFrom !== undefined) {
          // The event time is what a time window filters on.
          this.logChange(cube.key, after.item_key, false);
        }
        this.audit(
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
        this.writeContextKeys(cube, keys);
        return rowToItem(keys.length ? this.itemRow(cube, id) : after, cube.name);
      })
      .immediate();
    this.afterLoggedWrite();
    return updated;
  }

  /** New context keys for turns of the cube, their words indexed again; no version, no audit record. */
  private writeContextKeys(cube: ResolvedCube, updates: ContextKeyUpdate[]): void {
    for (const { id, context } of updates) {
      const row = this.itemRow(cube, id);
      const indexContext = context ?? '';
      this.stmt('UPDATE items SET index_context = ?, derived = ? WHERE item_key = ?').run(
        indexContext,
        COMPACT_FORM.derived({ ...derivedOf(row), context }, indexContext),
        row.item_key,
      );
      this.logChange(cube.key, row.item_key);
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
    const changed = this.db
      .transaction(() => {
        const cube = this.resolve(scope);
        if (contextKeys) this.assertSessionUnchanged(cube, contextKeys.derivedFrom);
        const before = this.itemRow(cube, id);
        if (before.status === 'frozen')
          throw new ConflictError(`item '${id}' is frozen (compliance hold) and cannot be changed`);
        if (before.status === status) throw new ConflictError(`item '${id}' is already ${status}`);
        this.stmt(
          'UPDATE items SET status = ?, version = version + 1, updated_at = ? WHERE item_key = ?',
        ).run(status, ctx.now, before.item_key);
        const after = this.stmt('SELECT * FROM items WHERE item_key = ?').get(before.item_key) as ItemRow;
        this.writeVersion(after, operation, ctx);
        this.stmt('UPDATE item_vectors SET live = ? WHERE item_key = ?').run(
          status === 'active' ? 1 : 0,
          before.item_key,
        );
        this.logChange(cube.key, before.item_key, false);
        this.audit(
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
        this.writeContextKeys(cube, keys);
        return rowToItem(keys.length ? this.itemRow(cube, id) : after, cube.name);
      })
      .immediate();
    this.afterLoggedWrite();
    return changed;
  }

  async history(scope: CubeScope, id: string): Promise<MemoryVersion[]> {
    const cube = this.resolve(scope);
    const item = this.itemRow(cube, id);
    const rows = this.stmt(
      `SELECT ? AS item_id, ${VERSION_COLUMNS_SQL} FROM item_versions v WHERE v.item_key = ? ORDER BY v.version`,
    ).all(id, item.item_key) as VersionRow[];
    return rows.map(rowToVersion);
  }

  async searchLexical(
    scope: CubeScope,
    terms: string[],
    filter: StoreItemFilter,
    limit: number,
    weights: LexicalWeights,
    narrowing?: LexicalNarrowing,
  ): Promise<ScoredId[]> {
    if (terms.length === 0) return [];
    const cube = this.resolve(scope);
    const indexed = this.searchLexicalIndex(cube, terms, filter, limit, weights, narrowing);
    if (indexed) return indexed;
    await this.catchUpWordIndex();
    const where = filterToSql(filter);
    const { db, ftsTable, itemsTable } = this.words;
    // Terms are plain words; quoting keeps FTS5 from reading any of them as an operator.
    const match = terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
    if (!isNarrowing(filter)) {
      const ranked = this.rankLexical(cube, match, limit, weights);
      if (ranked) return ranked;
    }
    const rows = prepared(
      db,
      `SELECT i.id AS id, -bm25(items_fts, ?, ?, ?) AS score FROM ${ftsTable} JOIN ${itemsTable} i ON i.item_key = items_fts.rowid
       WHERE items_fts MATCH ? AND i.cube_key = ? AND ${where.sql}
       ORDER BY score DESC LIMIT ?`,
    ).all(weights.text, weights.context, weights.keys, match, cube.key, ...where.params, limit) as ScoredId[];
    return rows;
  }

  async postingCounts(scope: CubeScope, words: string[]): Promise<number[] | null> {
    const index = this.indexes.lexical(this.resolve(scope).key, this.indexMinItems);
    return index ? index.postingCounts(words) : null;
  }

  async vocabulary(scope: CubeScope, since: VocabularyMark | null): Promise<VocabularyPage | null> {
    const cube = this.resolve(scope);
    const index = this.indexes.lexical(cube.key, this.indexMinItems);
    if (!index) return null;
    const from = since?.generation === index.generation ? Math.min(since.size, index.vocabularySize) : 0;
    return { generation: index.generation, size: index.vocabularySize, from, words: index.vocabulary(from) };
  }

  /**
   * The cube's in-process postings, scored as FTS5 would score them over the cube's own rows (a
   * cube under 100 rows weighed as one of 100; FTS5's own answers, below, are not),
   * unfiltered, within a time window, of some roles and kinds, within named sessions (the rows
   * SQLite finds for the filter), or under any other filter (checked on the ranking's best rows,
   * else the rows SQLite finds), of whatever statuses (the index keeps each row's). Null (FTS5
   * answers) when a word is one only FTS5 knows (but for a narrowing's, left out), while
   * a big cube's index is being built, and for a small cube that found no room in the budget.
   */
  private searchLexicalIndex(
    cube: ResolvedCube,
    allTerms: string[],
    filter: StoreItemFilter,
    limit: number,
    weights: LexicalWeights,
    given: LexicalNarrowing | undefined,
  ): ScoredId[] | null {
    const { terms, narrowing } = given
      ? LexicalIndex.readableNarrowing(allTerms, given)
      : { terms: allTerms, narrowing: undefined };
    if (!LexicalIndex.queryTokens(terms)) return null;
    // One read transaction: the filter's rows come from the snapshot the index was refreshed to.
    return this.db.transaction(() => {
      const index = this.indexes.lexical(cube.key, this.indexMinItems);
      if (!index) return null;
      if (!filter.sessionIds) {
        // Statuses, a time window, roles and kinds the index applies itself; any other filter is
        // checked on its best rows.
        const bounds = {
          window: { from: filter.from, to: filter.to },
          roles: filter.roles,
          kinds: filter.kinds,
          statuses: filter.statuses,
          narrowing,
        };
        if (wordIndexApplies(filter)) return index.search(terms, weights, limit, bounds);
        const top = this.keptOfRanking(cube, filter, limit, (fetched) =>
          index.search(terms, weights, fetched, bounds),
        );
        if (top) return top;
      }
      // The named sessions' rows, whatever else the filter holds; or, for a filter that keeps few
      // rows, the cube's rows it keeps (found by SQL, through an index where the filter has one).
      // Scored by the index all the same, so that the lists an expansion round merges
      // (`narrowing.alone`) always share one scorer.
      const where = filterToSql(filter, this.listedTag(cube, filter, true));
      const kept = this.stmt(
        `SELECT i.item_key FROM items i ${filter.sessionIds ? 'INDEXED BY items_by_session' : ''} WHERE i.cube_key = ? AND ${where.sql}`,
      )
        .pluck()
        .all(cube.key, ...where.params) as number[];
      return index.search(terms, weights, limit, { keptKeys: kept, narrowing });
    })();
  }

  /**
   * The top of the full-text ranking alone, then only those rows checked against the cube and
   * status: joining every matching row to `items` first costs more than BM25 itself on common
   * words. Exact whenever `limit` rows survive the check; null (use the joined query) otherwise.
   */
  private rankLexical(
    cube: ResolvedCube,
    match: string,
    limit: number,
    weights: LexicalWeights,
  ): ScoredId[] | null {
    const fetched = limit * LEXICAL_OVERFETCH;
    const bm25 = [weights.text, weights.context, weights.keys];
    const ranked = prepared(
      this.words.db,
      `SELECT rowid AS key, -bm25(items_fts, ?, ?, ?) AS score FROM ${this.words.ftsTable} WHERE items_fts MATCH ?
       ORDER BY bm25(items_fts, ?, ?, ?) LIMIT ?`,
    ).all(...bm25, match, ...bm25, fetched) as Array<{ key: number; score: number }>;
    const ids = this.activeIds(
      cube,
      ranked.map((r) => r.key),
    );
    const hits: ScoredId[] = [];
    for (const { key, score } of ranked) {
      const id = ids.get(key);
      if (id !== undefined && hits.length < limit) hits.push({ id, score });
    }
    return hits.length === limit || ranked.length < fetched ? hits : null;
  }

  /**
   * The first `limit` hits of a ranking (`rank(fetched)`, best first) that the filter keeps, the
   * ranking read `FILTERED_DEPTHS` times as deep. Exact when `limit` survive, or when the ranking
   * ended before its depth; null (score the filter's rows in SQL) otherwise.
   */
  private keptOfRanking(
    cube: ResolvedCube,
    filter: StoreItemFilter,
    limit: number,
    rank: (fetched: number) => ScoredId[] | null,
  ): ScoredId[] | null {
    const where = filterToSql(filter);
    const keeps = this.stmt(
      `SELECT i.id FROM json_each(?) k CROSS JOIN items i ON i.id = k.value WHERE i.cube_key = ? AND ${where.sql}`,
    ).pluck();
    for (const times of FILTERED_DEPTHS) {
      const fetched = limit * times;
      const ranked = rank(fetched);
      if (!ranked) return null;
      const kept = new Set(
        keeps.all(JSON.stringify(ranked.map((h) => h.id)), cube.key, ...where.params) as string[],
      );
      const hits = ranked.filter((h) => kept.has(h.id));
      if (hits.length >= limit || ranked.length < fetched) return hits.slice(0, limit);
      if (!deeperMayDo(times, hits.length, limit)) return null;
    }
    return null;
  }

  /**
   * The filter's tag to list from the tag index (`tagToList`) in a statement that finds the cube's
   * rows: one page of them (`listItems`), or all (`wholeResult`: the channels' fallback).
   */
  private listedTag(
    cube: ResolvedCube,
    filter: StoreItemFilter,
    wholeResult: boolean,
  ): ListedTag | undefined {
    if (!filter.tags?.length) return undefined;
    const rows = this.stmt(
      'SELECT count(*) FROM (SELECT 1 FROM item_tags WHERE cube_key = ? AND tag = ? LIMIT ?)',
    ).pluck();
    const tag = tagToList(filter, (t) => rows.get(cube.key, t, RARE_TAG_ROWS + 1) as number, wholeResult);
    return tag === undefined ? undefined : { cubeKey: cube.key, tag };
  }

  /** Ids of the given rows that are active items of the cube. */
  private activeIds(cube: ResolvedCube, keys: number[]): Map<number, string> {
    const rows = this.stmt(
      // CROSS JOIN keeps the planner on rowid lookups rather than scanning the cube's index.
      `SELECT i.item_key AS key, i.id AS id FROM json_each(?) k CROSS JOIN items i ON i.item_key = k.value
       WHERE i.cube_key = ? AND i.status = 'active'`,
    ).all(JSON.stringify(keys), cube.key) as Array<{ key: number; id: string }>;
    return new Map(rows.map((r) => [r.key, r.id]));
  }

  async findIdsBySuffix(scope: CubeScope, suffix: string, limit: number): Promise<string[]> {
    const cube = this.resolve(scope);
    const rows = this.stmt(
      'SELECT id FROM items WHERE cube_key = ? AND substr(id, -length(?)) = ? LIMIT ?',
    ).all(cube.key, suffix, suffix, limit) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  }

  async sessionTail(scope: CubeScope, sessionId: string, turns: number): Promise<MemoryItem[]> {
    const cube = this.resolve(scope);
    const rows = this.stmt(
      `SELECT * FROM items WHERE cube_key = ? AND session_id = ? AND status = 'active'
       ORDER BY turn_index DESC LIMIT ?`,
    ).all(cube.key, sessionId, turns) as ItemRow[];
    return rows.reverse().map((row) => rowToItem(row, cube.name));
  }

  async sessionStamp(scope: CubeScope, sessionId: string, fromTurn: number): Promise<SessionStamp> {
    return this.stampOf(this.resolve(scope), sessionId, fromTurn);
  }

  private stampOf(cube: ResolvedCube, sessionId: string, fromTurn: number): SessionStamp {
    const { rows, versions } = this.stmt(
      `SELECT count(*) AS rows, coalesce(sum(version), 0) AS versions FROM items
       WHERE cube_key = ? AND session_id = ? AND turn_index >= ?`,
    ).get(cube.key, sessionId, fromTurn) as { rows: number; versions: number };
    return { sessionId, fromTurn, rows, versions };
  }

  async contextKeyRepairs(): Promise<Array<{ scope: CubeScope; sessionId: string }>> {
    const rows = this.stmt(
      `SELECT c.tenant, c.name, r.session_id FROM context_key_repairs r JOIN cubes c ON c.cube_key = r.cube_key
       ORDER BY r.cube_key, r.session_id`,
    ).all() as Array<{ tenant: string; name: string; session_id: string }>;
    return rows.map((r) => ({ scope: { tenant: r.tenant, cube: r.name }, sessionId: r.session_id }));
  }

  async repairContextKeys(scope: CubeScope, keys: ContextKeyWrite): Promise<void> {
    this.db
      .transaction(() => {
        const cube = this.resolve(scope);
        this.assertSessionUnchanged(cube, keys.derivedFrom);
        this.writeContextKeys(cube, keys.updates);
        this.stmt('DELETE FROM context_key_repairs WHERE cube_key = ? AND session_id = ?').run(
          cube.key,
          keys.derivedFrom.sessionId,
        );
      })
      .immediate();
    this.afterLoggedWrite();
  }

  /** Refuses a write whose context keys were derived from turns that have changed since. */
  private assertSessionUnchanged(cube: ResolvedCube, stamp: SessionStamp): void {
    const now = this.stampOf(cube, stamp.sessionId, stamp.fromTurn);
    if (now.rows !== stamp.rows || now.versions !== stamp.versions)
      throw new SessionChangedError(stamp.sessionId);
  }

  async getTurns(scope: CubeScope, refs: TurnRef[], filter: StoreItemFilter): Promise<MemoryItem[]> {
    if (refs.length === 0) return [];
    const cube = this.resolve(scope);
    const where = filterToSql(filter);
    // One statement for all refs (a search asks for up to 60 neighbours): CROSS JOIN keeps the
    // refs outermost, one items_by_session lookup each.
    const rows = this.stmt(
      `SELECT i.* FROM json_each(?) k CROSS JOIN items i INDEXED BY items_by_session
       ON i.cube_key = ? AND i.session_id = k.value ->> '$[0]' AND i.turn_index = k.value ->> '$[1]'
       WHERE ${where.sql} ORDER BY k.key`,
    ).all(
      JSON.stringify(refs.map((r) => [r.sessionId, r.turnIndex])),
      cube.key,
      ...where.params,
    ) as ItemRow[];
    return rows.map((row) => rowToItem(row, cube.name));
  }

  async searchVector(
    scope: CubeScope,
    vector: Float32Array,
    filter: StoreItemFilter,
    limit: number,
  ): Promise<ScoredId[]> {
    // One read: the cube's embedder, the index refresh and the rows scored see the same state
    // (rows rescored on the thread are read after it, in the thread's own read).
    const found = this.db.transaction((): ScoredId[] | (() => Promise<ScoredId[]>) => {
      const cube = this.resolve(scope);
      if (cube.dimensions === 0) return [];
      assertVectorLength(vector, cube.dimensions);
      const blob = vectorToBlob(vector);
      // Named sessions' rows are few and indexed: SQL scores them exactly.
      const window = filter.sessionIds ? null : activeItemsWindow(filter);
      const split = filter.sessionIds ? null : splitActive(filter);
      const index =
        window || split ? this.indexes.vector(cube.key, cube.dimensions, this.indexMinItems) : null;
      if (index && index.size >= this.indexMinItems) {
        if (window) {
          const hits = this.nearestActive({ cube, index, vector, blob, filter, window, limit }, true);
          if (hits) return hits;
        } else if (split) {
          // The index holds the active rows; SQL scores the others exactly (through their status
          // index when nothing else narrows them). Both in this read, so a row changing status
          // between them is found once.
          const activeWindow = { from: filter.from, to: filter.to };
          const active =
            this.nearestActive(
              { cube, index, vector, blob, filter: split.active, window: activeWindow, limit },
              false,
            ) ?? this.scoredBySql(cube, blob, split.active, limit);
          const others = this.scoredBySql(cube, blob, split.others, limit);
          // Ranked again together, ties by key, as SQL's exact scan of both would rank them.
          return this.stmt(
            `SELECT i.id AS id, 1 - vec_distance_cosine(v.embedding, ?) AS score
             FROM json_each(?) k CROSS JOIN items i ON i.id = k.value CROSS JOIN item_vectors v ON v.item_key = i.item_key
             WHERE i.cube_key = ? ORDER BY score DESC, i.item_key LIMIT ?`,
          ).all(blob, JSON.stringify([...active, ...others].map((h) => h.id)), cube.key, limit) as ScoredId[];
        }
      }
      return this.scoredBySql(cube, blob, filter, limit);
    })();
    return typeof found === 'function' ? found() : found;
  }

  /**
   * The index's nearest active rows the filter keeps, rescored exactly: on the thread when asked
   * and one is up (the search then returns a promise of them), else here. Null when the filter
   * keeps too few of the index's rows: SQL scores them all.
   */
  private nearestActive(q: NearestQuery, onThread: false): ScoredId[] | null;
  private nearestActive(q: NearestQuery, onThread: boolean): ScoredId[] | (() => Promise<ScoredId[]>) | null;
  private nearestActive(q: NearestQuery, onThread: boolean): ScoredId[] | (() => Promise<ScoredId[]>) | null {
    const { cube, index, vector, blob, filter, window, limit } = q;
    const masks = classMasks(filter.roles, filter.kinds);
    // The index keeps each row's role and kind, which never change after `add`, so it applies
    // them itself. Their nearest rows lie farther than the cube's, where codes rank less
    // surely: read as deep as a filter's first read (1M bench cube, the user's turns:
    // recall@10 0.95 / 0.98 / 1.0 read 1 / 2 / 4 times as deep, 14 / 16 / 22 ms).
    if (indexesApply(filter)) {
      const narrowed = filter.roles !== undefined || filter.kinds !== undefined;
      const { candidates, rescored } = annDepth(index.size, limit, narrowed ? FIRST_DEPTH : 1);
      const keys = JSON.stringify(index.nearest(vector, candidates, window, rescored, masks));
      // Keys map to ids for good, so the index may have moved on by the time the rows come back.
      const toHits = (rows: RescoredKey[]) =>
        rows.map(({ key, score }) => ({ id: index.idOf(key) as string, score }));
      const inline = () => toHits(this.stmt(RESCORE_SQL).all(blob, keys, cube.key, limit) as RescoredKey[]);
      const rescorer = onThread ? this.backgroundRescorer() : undefined;
      // The thread reads what is committed, as this connection does; `live` changes with the status in one transaction.
      // A copy of the 2 KB vector: `blob` may view a larger buffer, which would be cloned whole.
      return rescorer
        ? () => rescorer.rescore(Buffer.from(blob), keys, cube.key, limit).then(toHits, inline)
        : inline();
    }
    // Any other filter of active items: the index's nearest rows of its roles and kinds it keeps.
    return this.nearestKept(cube, index, vector, blob, filter, { window, masks }, limit);
  }

  /** Exact scores in SQL: of the cube's live vectors, or of the rows a narrowing filter selects. */
  private scoredBySql(cube: ResolvedCube, blob: Buffer, filter: StoreItemFilter, limit: number): ScoredId[] {
    if (!isNarrowing(filter)) {
      // Distances over the cube's live vectors alone; only the best rows are joined to items.
      return this.stmt(
        `SELECT i.id AS id, best.score AS score FROM (
           SELECT item_key, 1 - vec_distance_cosine(embedding, ?) AS score FROM item_vectors
           WHERE cube_key = ? AND live = 1 ORDER BY score DESC, item_key LIMIT ?
         ) best CROSS JOIN items i ON i.item_key = best.item_key ORDER BY best.score DESC, best.item_key`,
      ).all(blob, cube.key, limit) as ScoredId[];
    }
    // Narrow filters select the rows first, then score only those.
    const where = filterToSql(filter, this.listedTag(cube, filter, true));
    return this.stmt(
      `SELECT i.id AS id, 1 - vec_distance_cosine(v.embedding, ?) AS score
       FROM items i JOIN item_vectors v ON v.item_key = i.item_key
       WHERE i.cube_key = ? AND ${where.sql} ORDER BY score DESC, i.item_key LIMIT ?`,
    ).all(blob, cube.key, ...where.params, limit) as ScoredId[];
  }

  /**
   * The best `limit` rows the filter keeps among the index's nearest, read `FILTERED_DEPTHS` times
   * as deep as an unfiltered search and rescored exactly. A depth is enough when twice `limit`
   * survive (at the last depth, `limit`), so that the rows ranked near `limit` were among those
   * read, or when the index held no more rows. Null when the filter keeps too few rows: SQL
   * scores them all.
   */
  private nearestKept(
    cube: ResolvedCube,
    index: BinaryVectorIndex,
    vector: Float32Array,
    blob: Buffer,
    filter: StoreItemFilter,
    applied: { window: TimeWindow; masks: ClassMasks },
    limit: number,
  ): ScoredId[] | null {
    const where = filterToSql(filter);
    const kept = this.stmt(
      `SELECT i.id AS id, 1 - vec_distance_cosine(v.embedding, ?) AS score
       FROM json_each(?) k CROSS JOIN item_vectors v ON v.item_key = k.value CROSS JOIN items i ON i.item_key = v.item_key
       WHERE v.cube_key = ? AND v.live = 1 AND ${where.sql} ORDER BY score DESC, v.item_key LIMIT ?`,
    );
    for (const times of FILTERED_DEPTHS) {
      const { candidates, rescored } = annDepth(index.size, limit, times);
      const keys = index.nearest(vector, candidates, applied.window, rescored, applied.masks);
      const wanted = times === DEEPEST ? limit : 2 * limit;
      const hits = kept.all(blob, JSON.stringify(keys), cube.key, ...where.params, wanted) as ScoredId[];
      if (hits.length >= wanted || keys.length < rescored) return hits.slice(0, limit);
      if (!deeperMayDo(times, hits.length, limit)) return null;
    }
    return null;
  }

  async listAudit(scope: CubeScope, query: AuditQuery): Promise<AuditRecord[]> {
    return selectAudit(this.db, { column: 'cube_key', value: this.resolve(scope).key }, query);
  }

  async stats(scope: CubeScope): Promise<CubeStats> {
    const cube = this.resolve(scope);
    const count = (sql: string): number => (this.stmt(sql).get(cube.key) as { n: number }).n;
    const grouped = (column: 'kind' | 'status'): Record<string, number> =>
      Object.fromEntries(
        (
          this.stmt(
            `SELECT ${column} AS k, count(*) AS n FROM items WHERE cube_key = ? GROUP BY ${column}`,
          ).all(cube.key) as Array<{ k: string; n: number }>
        ).map((r) => [r.k, r.n]),
      );
    const span = this.stmt(
      'SELECT min(coalesce(valid_from, created_at)) AS first, max(coalesce(valid_from, created_at)) AS last FROM items WHERE cube_key = ?',
    ).get(cube.key) as { first: number | null; last: number | null };
    return {
      items: count('SELECT count(*) AS n FROM items WHERE cube_key = ?'),
      byKind: grouped('kind'),
      byStatus: grouped('status'),
      sessions: count('SELECT count(DISTINCT session_id) AS n FROM items WHERE cube_key = ?'),
      versions: count(
        'SELECT count(*) AS n FROM item_versions v JOIN items i ON i.item_key = v.item_key WHERE i.cube_key = ?',
      ),
      auditRecords: count('SELECT count(*) AS n FROM audit WHERE cube_key = ?'),
      vectors: count('SELECT count(*) AS n FROM item_vectors WHERE cube_key = ?'),
      firstEventAt: span.first === null ? null : iso(span.first),
      lastEventAt: span.last === null ? null : iso(span.last),
    };
  }

  async *exportItems(scope: CubeScope): AsyncIterable<ItemBundle> {
    const cube = this.resolve(scope);
    let after = 0;
    for (;;) {
      const rows = this.stmt(
        // items_by_cube walks the cube in key order. Through another index SQLite sorted the
        // cube's remaining rows for every page (230 ms a page at 100K items, 7.6 ms this way).
        'SELECT * FROM items INDEXED BY items_by_cube WHERE cube_key = ? AND item_key > ? ORDER BY item_key LIMIT ?',
      ).all(cube.key, after, PAGE) as ItemRow[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const versions = this.stmt(
          `SELECT ? AS item_id, ${VERSION_COLUMNS_SQL} FROM item_versions v WHERE v.item_key = ? ORDER BY v.version`,
        ).all(row.id, row.item_key) as VersionRow[];
        yield {
          item: rowToItem(row, cube.name),
          index: { text: indexTextOf(row), context: row.index_context, keys: row.index_keys },
          versions: versions.map(rowToVersion),
        };
      }
      after = rows.at(-1)?.item_key ?? after;
    }
  }

  async importItems(
    scope: CubeScope,
    bundles: Array<ItemBundle & { embedding: Float32Array | null }>,
    audit: AuditRecord[],
    ctx: WriteContext,
    createWith?: EmbedderIdentity,
  ): Promise<void> {
    this.db
      .transaction(() => {
        if (createWith) this.insertCube(scope.tenant, scope.cube, createWith, ctx);
        const cube = this.resolve(scope);
        const taken = bundles.filter((b) => this.stmt('SELECT 1 FROM items WHERE id = ?').get(b.item.id));
        if (taken.length > 0) {
          const sample = taken.slice(0, 3).map((b) => b.item.id);
          throw new ConflictError(
            `${taken.length} item id(s) already exist in this database (${sample.join(', ')}${taken.length > 3 ? ', …' : ''}); import into a fresh database`,
          );
        }
        const insert = this.stmt(
          `INSERT INTO items (${ITEM_INSERT_COLUMNS}) VALUES (${itemPlaceholders('question')})`,
        );
        const insertVersion = this.stmt(
          `INSERT INTO item_versions (item_key, version, operation, content, status, tags, metadata, valid_from, valid_to, changed_at, changed_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const { item, index, versions, embedding } of bundles) {
          assertContent(item.content, 'item.content');
          for (const v of versions) assertContent(v.content, 'versions[].content');
          const { lastInsertRowid } = insert.run(...importedItemValues(cube.key, item, index, COMPACT_FORM));
          const itemKey = Number(lastInsertRowid);
          this.indexTags(cube.key, itemKey, item.tags);
          for (const v of versions) {
            insertVersion.run(
              itemKey,
              v.version,
              v.operation,
              v.content === item.content ? SAME_AS_CONTENT : v.content,
              v.status,
              JSON.stringify(v.tags),
              JSON.stringify(v.metadata),
              msOrNull(v.validFrom),
              msOrNull(v.validTo),
              Date.parse(v.changedAt),
              v.changedBy,
            );
          }
          this.logChange(cube.key, itemKey);
          this.putVector(cube, itemKey, embedding, item.status === 'active', false);
        }
        const insertAudit = this.stmt(
          `INSERT INTO audit (${AUDIT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        const target = { tenant: cube.tenant, cubeKey: cube.key, cubeName: cube.name };
        for (const a of audit) insertAudit.run(...importedAuditValues(target, a));
        this.audit(
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
      })
      .immediate();
    this.noteInsert(bundles.length);
  }

  async *indexTexts(scope: CubeScope): AsyncIterable<Array<{ id: string; text: string }>> {
    const cube = this.resolve(scope);
    let after = 0;
    for (;;) {
      const rows = this.stmt(
        // items_by_cube, as in `exportItems`: key order without a sort per page.
        `SELECT item_key, id, ${INDEX_TEXT_SQL} FROM items INDEXED BY items_by_cube WHERE cube_key = ? AND item_key > ? ORDER BY item_key LIMIT ?`,
      ).all(cube.key, after, PAGE) as Array<{ item_key: number; id: string; index_text: string }>;
      if (rows.length === 0) return;
      yield rows.map((r) => ({ id: r.id, text: r.index_text }));
      after = rows.at(-1)?.item_key ?? after;
    }
  }

  async replaceVectors(
    scope: CubeScope,
    embedder: EmbedderIdentity,
    vectors: Map<string, Float32Array>,
    ctx: WriteContext,
  ): Promise<void> {
    this.db
      .transaction(() => {
        const before = this.resolve(scope);
        this.stmt('DELETE FROM item_vectors WHERE cube_key = ?').run(before.key);
        this.stmt('UPDATE cubes SET embedder_id = ?, dimensions = ? WHERE cube_key = ?').run(
          embedder.id,
          embedder.dimensions,
          before.key,
        );
        const cube = this.resolve(scope);
        this.logChange(cube.key, null, false);
        const rows = this.stmt('SELECT item_key, id, status FROM items WHERE cube_key = ?').all(
          cube.key,
        ) as Array<{
          item_key: number;
          id: string;
          status: string;
        }>;
        for (const row of rows) {
          // The cube's old vectors were all deleted above.
          this.putVector(cube, row.item_key, vectors.get(row.id) ?? null, row.status === 'active', false);
        }
        this.audit(
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
      })
      .immediate();
    this.afterLoggedWrite();
  }

  async getCachedEmbeddings(embedderId: string, hashes: string[]): Promise<Map<string, Float32Array>> {
    const found = new Map<string, Float32Array>();
    const lookup = this.stmt('SELECT vector FROM embedding_cache WHERE embedder_id = ? AND text_hash = ?');
    for (const hash of hashes) {
      const row = lookup.get(embedderId, hash) as { vector: Buffer } | undefined;
      if (row) found.set(hash, blobToVector(row.vector));
    }
    return found;
  }

  async putCachedEmbeddings(embedderId: string, entries: Array<[string, Float32Array]>): Promise<void> {
    const put = this.stmt(
      'INSERT OR IGNORE INTO embedding_cache (embedder_id, text_hash, vector) VALUES (?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const [hash, vector] of entries) put.run(embedderId, hash, vectorToBlob(vector));
    })();
  }
}
