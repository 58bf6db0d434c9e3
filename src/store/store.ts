import type {
  AuditOperation,
  AuditOrder,
  AuditRecord,
  CubeInfo,
  DerivedKeys,
  ItemFilter,
  MemoryItem,
  MemoryKind,
  MemoryStatus,
  MemoryVersion,
  Metadata,
  Role,
} from '../core/types.js';
import type { AccessStore } from './access.js';

/** Where an item came from, as ranking reads it: its session, who said it and in what role (null: none). */
export interface ItemOrigin {
  session: string | null;
  speaker: string | null;
  role: Role | null;
  /** When the item stopped being true (its `validTo`, epoch ms); absent while it has no end. */
  endsAt?: number;
}

/**
 * Every item operation names its tenant and cube; the store resolves that pair itself,
 * so no caller can reach another tenant's data by passing a foreign id.
 */
export interface CubeScope {
  tenant: string;
  cube: string;
}

export interface WriteContext {
  actor: string;
  /** Milliseconds since the epoch; the record time of this write. */
  now: number;
  /** The request that caused the write (server), recorded in the audit record's details as `requestId`. */
  requestId?: string;
}

/**
 * What the lexical index sees, by column: the item's own text (speaker and content), the
 * context it answers, and derived keys (entities, dates). Columns are weighted at query time.
 */
export interface IndexFields {
  text: string;
  context: string;
  keys: string;
}

export interface LexicalWeights {
  text: number;
  context: number;
  keys: number;
}

/** A lexical search narrowed to the rows some of its words find, for a caller that ranked the others. */
export interface LexicalNarrowing {
  /** Of the terms, the ones that find rows: the best rows holding one of them, scored by every term. */
  foundBy: string[];
  /**
   * The best rows by the other terms alone, best first, as this store ranked them. A row lacking
   * `foundBy` scores the same by every term, so these merged with the narrowed hits are the
   * search's top down to their last score. A store that cannot narrow (FTS5, PostgreSQL) searches
   * every row and ignores both.
   */
  alone: ScoredId[];
}

/** A turn's position in its session. */
export interface TurnRef {
  sessionId: string;
  turnIndex: number;
}

/** A fully formed item to insert; ingest builds these. Times are epoch milliseconds. */
/** A dedupe window that holds every time a Date can. */
export const ANY_TIME = { from: -8_640_000_000_000_000, to: 8_640_000_000_000_000 } as const;

export interface NewItemRecord {
  id: string;
  kind: MemoryKind;
  content: string;
  /** Index columns; `index.text` is also what the embedder sees. */
  index: IndexFields;
  derived: DerivedKeys;
  role: Role | null;
  speaker: string | null;
  userId: string | null;
  agentId: string | null;
  sessionId: string | null;
  runId: string | null;
  validFrom: number | null;
  validTo: number | null;
  /**
   * When an identical active memory (same content, kind, session, role and speaker) is this one,
   * the message sent again: only if its event time (its `validFrom`, else when it was added) lies
   * in this window, ends included. Outside it, the same words are new evidence. `ANY_TIME`: at
   * any time.
   */
  dedupeWindow: { from: number; to: number };
  sourceIds: string[];
  tags: string[];
  metadata: Metadata;
  contentHash: string;
  embedding: Float32Array | null;
}

export interface InsertOutcome {
  id: string;
  /** False when an active item with the same content already existed in the same session. */
  created: boolean;
}

/**
 * A turn's new context key (the text of the active turns before it in its session), written with
 * a change to a turn before it: so a deleted turn's words leave the keys of the turns after it,
 * and a restored or edited turn's come back or follow. Not a version: derived keys are not content.
 */
export interface ContextKeyUpdate {
  id: string;
  context: string | null;
}

/**
 * A session's turns from `fromTurn` on, as context keys were derived from them: how many rows (of
 * any status) and the sum of their versions. A status change, an edit and a new turn each move
 * it. A write that carries one checks it in its transaction, and refuses with
 * `SessionChangedError` when another process changed those turns since they were read (writers
 * in one process are kept apart by the session lock).
 */
export interface SessionStamp {
  sessionId: string;
  fromTurn: number;
  rows: number;
  versions: number;
}

/** Context keys to write with a change, and the stamp of the turns they were derived from. */
export interface ContextKeyWrite {
  updates: ContextKeyUpdate[];
  derivedFrom: SessionStamp;
}

export interface ItemChange {
  content?: {
    content: string;
    index: IndexFields;
    derived: DerivedKeys;
    contentHash: string;
    embedding: Float32Array | null;
  };
  tags?: string[];
  metadata?: Metadata;
  validFrom?: number | null;
  validTo?: number | null;
}

export interface StoreItemFilter extends Omit<ItemFilter, 'from' | 'to'> {
  from?: number;
  to?: number;
}

/** How much of a cube's vocabulary a reader has: the words up to `size` of that generation. */
export interface VocabularyMark {
  generation: number;
  size: number;
}

/** Words of a cube's vocabulary after a mark (all of them for another generation). */
export interface VocabularyPage extends VocabularyMark {
  /** Position of `words[0]` in the vocabulary: the mark's size, or 0 for a new generation. */
  from: number;
  words: string[];
}

export interface ScoredId {
  id: string;
  score: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  nextCursor?: string;
}

export interface AuditQuery {
  itemId?: string;
  /** Only records written by this actor (a key id, for the server). */
  actor?: string;
  /** Only records after this audit id (for paging oldest first). */
  afterId?: number;
  /** Only records before this audit id (for paging newest first). */
  beforeId?: number;
  /** Oldest first (the default), or newest first. */
  order?: AuditOrder;
  from?: number;
  to?: number;
  limit: number;
}

export interface CubeStats {
  items: number;
  byKind: Partial<Record<MemoryKind, number>>;
  byStatus: Partial<Record<MemoryStatus, number>>;
  sessions: number;
  versions: number;
  auditRecords: number;
  vectors: number;
  firstEventAt: string | null;
  lastEventAt: string | null;
}

/** One item with its full history, as export writes it and import reads it back. */
export interface ItemBundle {
  item: MemoryItem;
  index: IndexFields;
  versions: MemoryVersion[];
}

export interface EmbedderIdentity {
  id: string;
  dimensions: number;
}

export interface Store {
  close(): Promise<void>;

  /** Tenants, keys and grants kept beside this store's cubes, where the backend has them. */
  accessStore?(): AccessStore;

  getCube(tenant: string, name: string): Promise<CubeInfo | null>;
  /** Creates the cube; a conflict if it exists. */
  createCube(tenant: string, name: string, embedder: EmbedderIdentity, ctx: WriteContext): Promise<CubeInfo>;
  listCubes(tenant: string): Promise<CubeInfo[]>;
  /**
   * Removes the cube with its items, versions, index entries, vectors and grants, in one
   * transaction; its audit records stay, followed by a `delete_cube` record.
   */
  deleteCube(tenant: string, name: string, ctx: WriteContext): Promise<void>;

  /**
   * Inserts in one transaction: items, first versions, index entries, vectors, audit. With
   * `derivedFrom`, the records' context keys were derived from those turns: the insert refuses
   * (`SessionChangedError`) when they have changed since.
   */
  insertItems(
    scope: CubeScope,
    records: NewItemRecord[],
    ctx: WriteContext,
    derivedFrom?: SessionStamp,
  ): Promise<InsertOutcome[]>;
  /** Items of the cube with these ids, any status, in the order asked; unknown ids are skipped. */
  getItems(scope: CubeScope, ids: string[]): Promise<MemoryItem[]>;
  /**
   * Builds the cube's in-process indexes, for stores that have them (a big cube's are otherwise
   * built in the background after its first search): true once they are in, false when writes
   * kept outrunning the build and it is still running.
   */
  warm?(scope: CubeScope): Promise<boolean>;
  /**
   * The session, speaker and role of each item of the cube with these ids, without loading the items:
   * ranking by session and by who said what looks at a hundred candidates per search. Unknown ids are
   * left out.
   */
  originsOf(scope: CubeScope, ids: string[]): Promise<Map<string, ItemOrigin>>;
  /** The earliest and latest event time (epoch ms) of the cube's items, whatever their status; null when it has none. */
  eventSpan(scope: CubeScope): Promise<{ first: number; last: number } | null>;
  listItems(
    scope: CubeScope,
    filter: StoreItemFilter,
    page: { limit: number; cursor?: string; order: 'asc' | 'desc' },
  ): Promise<Page<MemoryItem>>;
  /**
   * Applies a change as a new version, keeping the old one, and writes `contextKeys` (of the
   * turns after it) in the same transaction, unless their turns changed since they were read.
   */
  updateItem(
    scope: CubeScope,
    id: string,
    change: ItemChange,
    ctx: WriteContext,
    contextKeys?: ContextKeyWrite,
  ): Promise<MemoryItem>;
  /**
   * Moves an item to a lifecycle state as a new version (delete = tombstone, restore = active),
   * and writes `contextKeys` (of the item and the turns after it) in the same transaction, unless
   * their turns changed since they were read.
   */
  setStatus(
    scope: CubeScope,
    id: string,
    status: MemoryStatus,
    operation: AuditOperation,
    ctx: WriteContext,
    contextKeys?: ContextKeyWrite,
  ): Promise<MemoryItem>;
  history(scope: CubeScope, id: string): Promise<MemoryVersion[]>;

  /** BM25 over the index text; `terms` are already normalised words, matched with OR. */
  searchLexical(
    scope: CubeScope,
    terms: string[],
    filter: StoreItemFilter,
    limit: number,
    weights: LexicalWeights,
    narrowing?: LexicalNarrowing,
  ): Promise<ScoredId[]>;
  /**
   * The cube's vocabulary (its distinct words, unstemmed, case folded) from position `from` on, for
   * stores that keep one in process; null when it cannot be read now (a big cube's index is still
   * being built, or the store keeps none). A reader of another `generation` reads again from 0.
   */
  vocabulary?(scope: CubeScope, since: VocabularyMark | null): Promise<VocabularyPage | null>;
  /**
   * How many rows a lexical search over each word reads in the cube (its postings), from an
   * in-process index; null when there is none (yet). The related-words channel keeps its search
   * within a budget with it.
   */
  postingCounts?(scope: CubeScope, words: string[]): Promise<number[] | null>;
  /** Cosine similarity against stored vectors, highest first. */
  searchVector(
    scope: CubeScope,
    vector: Float32Array,
    filter: StoreItemFilter,
    limit: number,
  ): Promise<ScoredId[]>;

  /** Ids of the cube ending in `suffix` (a short id), at most `limit`. */
  findIdsBySuffix(scope: CubeScope, suffix: string, limit: number): Promise<string[]>;
  /**
   * The last `turns` active turns of a session (the highest indices), oldest first: a deleted turn's
   * words must not reach the keys of turns added after it.
   */
  sessionTail(scope: CubeScope, sessionId: string, turns: number): Promise<MemoryItem[]>;
  /** The session's turns from `fromTurn` on, stamped (see `SessionStamp`). */
  sessionStamp(scope: CubeScope, sessionId: string, fromTurn: number): Promise<SessionStamp>;
  /**
   * Sessions whose context keys an older memcube may have derived otherwise, listed when the
   * schema was upgraded: every session that then had a turn not active (a delete left its words
   * in the keys after it), or two active turns in a row of one party (keyed by its own turns).
   */
  contextKeyRepairs(): Promise<Array<{ scope: CubeScope; sessionId: string }>>;
  /**
   * Writes a listed session's context keys, derived again, and strikes it off the list, in one
   * transaction, unless its turns changed since they were read (`SessionChangedError`).
   */
  repairContextKeys(scope: CubeScope, keys: ContextKeyWrite): Promise<void>;
  /**
   * Items at these session positions that pass the filter (active items for `{}`), in the order
   * of the refs; positions with no such item are skipped.
   */
  getTurns(scope: CubeScope, refs: TurnRef[], filter: StoreItemFilter): Promise<MemoryItem[]>;

  listAudit(scope: CubeScope, query: AuditQuery): Promise<AuditRecord[]>;
  stats(scope: CubeScope): Promise<CubeStats>;

  /** Every item with its versions, in insertion order, a page at a time. */
  exportItems(scope: CubeScope): AsyncIterable<ItemBundle>;
  /**
   * Writes items, versions and audit records exactly as given, with vectors; all or nothing.
   * With `createWith`, the cube is created in the same transaction.
   */
  importItems(
    scope: CubeScope,
    bundles: Array<ItemBundle & { embedding: Float32Array | null }>,
    audit: AuditRecord[],
    ctx: WriteContext,
    createWith?: EmbedderIdentity,
  ): Promise<void>;

  /** The embedded text (`index.text`) of every item in the cube, for re-embedding, a page at a time. */
  indexTexts(scope: CubeScope): AsyncIterable<Array<{ id: string; text: string }>>;
  /** Replaces every vector of the cube and records the new embedder, in one transaction. */
  replaceVectors(
    scope: CubeScope,
    embedder: EmbedderIdentity,
    vectors: Map<string, Float32Array>,
    ctx: WriteContext,
  ): Promise<void>;

  getCachedEmbeddings(embedderId: string, hashes: string[]): Promise<Map<string, Float32Array>>;
  putCachedEmbeddings(embedderId: string, entries: Array<[string, Float32Array]>): Promise<void>;
}
