import { MAX_CONTEXT_TURNS, type ResolvedConfig } from '../core/config.js';
import { InvalidInputError, NotFoundError, SessionChangedError } from '../core/errors.js';
import { contentHash } from '../core/ids.js';
import {
  type AddOptions,
  type AuditQueryInput,
  auditQuerySchema,
  type ContextOptions,
  contextOptionsSchema,
  type ListOptions,
  listOptionsSchema,
  type SearchOptions,
  searchOptionsSchema,
  type UpdatePatch,
  updatePatchSchema,
} from '../core/schemas.js';
import {
  type AuditRecord,
  type CubeInfo,
  MEMORY_STATUSES,
  type MemoryItem,
  type MemoryStatus,
  type MemoryVersion,
  type Permission,
  type SearchHit,
} from '../core/types.js';
import { parseWith } from '../core/validate.js';
import type { Embedder } from '../embed/embedder.js';
import { allows, requirePermission } from '../govern/permissions.js';
import { contextKeysAround, readsEnough } from '../ingest/derive/context-keys.js';
import { deriveKeys, hasContextKey } from '../ingest/derive/derive-keys.js';
import {
  type AddInput,
  draftEpisodes,
  validateContent,
  withContextKeys,
  withOwnKeys,
} from '../ingest/episodes.js';
import { type ContextPack, packContext } from '../retrieve/context.js';
import { withNeighbours } from '../retrieve/neighbours.js';
import { embedsWords, vocabularyOf, type WordVectors, wordVectorsOf } from '../retrieve/related-words.js';
import { rankItems, toStoreFilter } from '../retrieve/search.js';
import { assertMutable } from '../store/item-rules.js';
import type {
  ContextKeyWrite,
  CubeScope,
  CubeStats,
  IndexFields,
  InsertOutcome,
  ItemChange,
  Page,
  SessionStamp,
  Store,
  WriteContext,
} from '../store/store.js';
import { resolveItemRef } from './item-refs.js';
import type { ProgressCallback } from './memory-os.js';
import { EXPORT_FORMAT_VERSION, type ExportLine } from './portable.js';
import type { SessionLocks } from './session-locks.js';
import { KEY_WRITE_ATTEMPTS, whileSessionChanges } from './session-writes.js';

/** Texts embedded at a time when an add reports its progress. */
const PROGRESS_CHUNK = 64;

/** The widest read, in turns each side, for the turns whose context keys a change moves. */
const MAX_CONTEXT_REACH = 1024;
/** Whether two reads of turns found the same items at the same versions. */
function sameVersions(a: MemoryItem[], b: MemoryItem[]): boolean {
  return (
    a.length === b.length && a.every((item, i) => item.id === b[i]?.id && item.version === b[i]?.version)
  );
}

export interface AddResult {
  /** One id per input message, in order; a duplicate maps to the id stored before. */
  ids: string[];
  items: InsertOutcome[];
}

export interface CubeDeps {
  store: Store;
  info: CubeInfo;
  /** Embeds what is stored; null when the cube is lexical-only. */
  embedder: Embedder | null;
  /** Embeds search queries (without writing to the store); null when the cube is lexical-only. */
  queryEmbedder: Embedder | null;
  config: ResolvedConfig;
  /** What the handle that opened the cube may do in it; default everything. */
  permission?: Permission;
  /** Recorded in the audit details of every write. */
  requestId?: string;
  /** Puts the writes of one session that derive context keys in order; one per store. */
  sessionLocks: SessionLocks;
}

/**
 * A memory cannot stop being true before it became true: a patch that sets either time and would
 * leave `validTo` at or before the event time is refused, naming the field it set, rather than
 * stored as a contradiction. A patch that sets neither is not checked: what is stored (an old
 * database, an import) stays updatable.
 */
function refuseEndBeforeStart(
  current: MemoryItem,
  patch: { validFrom?: number | null; validTo?: number | null },
  start: number,
): void {
  if (patch.validFrom === undefined && patch.validTo === undefined) return;
  const stored = current.validTo === null ? null : Date.parse(current.validTo);
  const end = patch.validTo === undefined ? stored : patch.validTo;
  if (end === null || end > start) return;
  const at = (ms: number) => new Date(ms).toISOString();
  if (patch.validTo !== undefined) {
    throw new InvalidInputError(
      `patch.validTo: ${at(end)} is not after the memory's event time, ${at(start)}; a memory stops being true after it became true`,
      'patch.validTo',
    );
  }
  // A cleared event time counts from when the memory was added.
  const which = patch.validFrom === null ? 'the time it was added' : 'the event time';
  throw new InvalidInputError(
    `patch.validFrom: ${which}, ${at(start)}, is not before the memory's end, ${at(end)}; move or clear the end in the same update`,
    'patch.validFrom',
  );
}

/** Whether every field the patch sets already holds that value. */
function changesNothing(
  current: MemoryItem,
  patch: {
    content?: string;
    tags?: string[];
    metadata?: Record<string, unknown>;
    validFrom?: number | null;
    validTo?: number | null;
  },
): boolean {
  const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));
  return (
    (patch.content === undefined || patch.content === current.content) &&
    (patch.tags === undefined || [...new Set(patch.tags)].join('\u0000') === current.tags.join('\u0000')) &&
    (patch.metadata === undefined || JSON.stringify(patch.metadata) === JSON.stringify(current.metadata)) &&
    (patch.validFrom === undefined || patch.validFrom === ms(current.validFrom)) &&
    (patch.validTo === undefined || patch.validTo === ms(current.validTo))
  );
}

/** A named, owned container of memories; every call is scoped to it inside the store. */
export class Cube {
  private readonly store: Store;
  private readonly scope: CubeScope;
  private readonly embedder: Embedder | null;
  private readonly queryEmbedder: Embedder | null;
  private readonly config: ResolvedConfig;
  private readonly sessionLocks: SessionLocks;
  private readonly requestId: string | undefined;
  readonly info: CubeInfo;
  readonly permission: Permission;

  constructor(deps: CubeDeps) {
    this.store = deps.store;
    this.info = deps.info;
    this.scope = { tenant: deps.info.tenant, cube: deps.info.name };
    this.embedder = deps.embedder;
    this.queryEmbedder = deps.queryEmbedder;
    this.config = deps.config;
    this.permission = deps.permission ?? 'admin';
    this.requestId = deps.requestId;
    this.sessionLocks = deps.sessionLocks;
  }

  /** Runs `work` as the only such write to the session in this process (none for no session). */
  private inSession<T>(sessionId: string | null, work: () => Promise<T>): Promise<T> {
    if (sessionId === null) return work();
    const key = [this.info.tenant, this.info.name, this.info.createdAt, sessionId].join('\u0000');
    return this.sessionLocks.run(key, work);
  }

  get name(): string {
    return this.info.name;
  }

  /** Checks the permission of a write, then stamps it with the actor, time and request. */
  private writeContext(what: string): WriteContext {
    requirePermission(this.permission, 'write', what);
    return {
      actor: this.config.actor,
      now: Date.now(),
      ...(this.requestId ? { requestId: this.requestId } : {}),
    };
  }

  /** Vectors of `texts`; with `onProgress`, embedded a chunk at a time so a long add can show progress. */
  private async embedAll(
    texts: string[],
    onProgress?: ProgressCallback,
  ): Promise<Array<Float32Array | null>> {
    if (!this.embedder || texts.length === 0) return texts.map(() => null);
    if (!onProgress) return this.embedder.embed(texts);
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += PROGRESS_CHUNK) {
      vectors.push(...(await this.embedder.embed(texts.slice(start, start + PROGRESS_CHUNK))));
      onProgress(vectors.length, texts.length);
    }
    return vectors;
  }

  /** A full id, or a short one (its last 12 hex digits) that names exactly one item of the cube. */
  private resolveId(ref: string): Promise<string> {
    return resolveItemRef(this.store, [this.scope], ref, `in cube '${this.name}'`);
  }

  /**
   * Stores messages (or one text) as episodes; returns ids that never change afterwards. All of
   * them in one transaction; `onProgress` hears how the embedding, the slow part, goes.
   */
  async add(
    input: AddInput,
    options?: AddOptions,
    progress: { onProgress?: ProgressCallback } = {},
  ): Promise<AddResult> {
    const ctx = this.writeContext('adding memories');
    const validated = draftEpisodes(input, options, this.config.limits, ctx.now);
    const sessionId = validated[0]?.sessionId ?? null;
    // Words, dates and vectors do not depend on the turns before: the slow part runs unlocked.
    const drafts = withOwnKeys(validated, this.config.ingest);
    const vectors = await this.embedWithWords(
      drafts.map((d) => d.index.text),
      drafts.map((d) => d.index),
      progress.onProgress,
    );
    return this.inSession(sessionId, () =>
      whileSessionChanges(async () => {
        const before =
          sessionId !== null && hasContextKey(this.config.ingest)
            ? await this.turnsBefore(sessionId)
            : undefined;
        const keyed = withContextKeys(drafts, before?.turns ?? [], this.config.ingest);
        const items = await this.store.insertItems(
          this.scope,
          keyed.map((d, i) => ({ ...d, embedding: vectors[i] ?? null })),
          ctx,
          before?.stamp,
        );
        return { ids: items.map((o) => o.id), items };
      }),
    );
  }

  /** Ranked items with the fused score and each channel's rank and score. */
  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const { limit, channels, asOf, ...filter } = parseWith(searchOptionsSchema, options, { root: 'options' });
    return rankItems(this.searchContext(), {
      query: String(query),
      filter: toStoreFilter(filter),
      limit,
      ...(channels ? { channels } : {}),
      ...(asOf === undefined ? {} : { asOf }),
    });
  }

  /**
   * Builds this cube's in-process search indexes now: true once they are in, false when writes
   * kept outrunning the build (it goes on in the background). A big cube (10,000 items and up, in
   * SQLite) otherwise starts building them on its first unfiltered search, answering from SQLite
   * until then; call this after opening to have them ready for the first question. It also
   * embeds the words of the cube's vocabulary that were stored before the related-words channel
   * existed (words are otherwise embedded as their items are added). True at once for stores
   * without such indexes. An aborted `signal` resolves it at once while the indexes build (to
   * false; the build goes on, or fails once the store is closed) and stops the embedding between
   * batches.
   */
  async warm(options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const building = this.store.warm?.(this.scope) ?? Promise.resolve(true);
    const built = options.signal ? await untilAborted(building, options.signal, false) : await building;
    // Embedding words writes the embedding cache: a read-only handle uses the words cached so far.
    if (allows(this.permission, 'write') && !options.signal?.aborted) {
      await this.wordVectors()?.embedMissing(options.signal);
    }
    return built;
  }

  /** Prompt-ready memory for `query` within a token budget, oldest first, each line citing its id. */
  async context(query: string, options: ContextOptions = {}): Promise<ContextPack> {
    const { tokenBudget, candidates, channels, asOf, ...filter } = parseWith(contextOptionsSchema, options, {
      root: 'options',
    });
    const storeFilter = toStoreFilter(filter);
    const ranked = await rankItems(this.searchContext(), {
      query: String(query),
      filter: storeFilter,
      limit: candidates,
      ...(channels ? { channels } : {}),
      ...(asOf === undefined ? {} : { asOf }),
    });
    const {
      neighbourRadius,
      neighbourShare,
      neighbourMaxHitChars,
      packLengthExponent,
      packTypicalTokens,
      contextTimesWhenChanged,
    } = this.config.retrieval;
    const pool = await withNeighbours(this.store, this.scope, ranked, storeFilter, {
      radius: neighbourRadius,
      share: neighbourShare,
      maxHitChars: neighbourMaxHitChars,
    });
    return packContext(pool, tokenBudget, {
      lengthPenalty: { exponent: packLengthExponent, typicalTokens: packTypicalTokens },
      timesWhenChanged: contextTimesWhenChanged,
    });
  }

  private searchContext() {
    return {
      store: this.store,
      scope: this.scope,
      embedder: this.queryEmbedder,
      retrieval: this.config.retrieval,
      vocabulary: this.wordVectors(),
    };
  }

  /** The cube's words with their vectors, for the related-words channel; null where it cannot run. */
  private wordVectors(): WordVectors | null {
    if (!this.embedder || !embedsWords(this.config.retrieval, this.store)) return null;
    return wordVectorsOf(
      this.store,
      { scope: this.scope, createdAt: this.info.createdAt },
      this.embedder,
      this.config.retrieval.relatedMaxVocabulary,
    );
  }

  /**
   * Vectors for `texts`, and (into the embedding cache, where searches read them) for the words of
   * `indexes` the related-words channel will use: embedded with the items, so a search never waits
   * for the model and writes nothing.
   */
  private async embedWithWords(
    texts: string[],
    indexes: IndexFields[],
    onProgress?: ProgressCallback,
  ): Promise<Array<Float32Array | null>> {
    // A vocabulary held full in this process takes no more words: none need embedding for it.
    const vocabulary = this.wordVectors();
    const words = vocabulary && !vocabulary.full ? vocabularyOf(indexes) : [];
    return (await this.embedAll([...texts, ...words], onProgress)).slice(0, texts.length);
  }

  /** One item, by its id or short id, whatever its status. */
  async get(ref: string): Promise<MemoryItem> {
    const id = await this.resolveId(ref);
    const [item] = await this.store.getItems(this.scope, [id]);
    if (!item) throw new NotFoundError(`no item '${id}' in cube '${this.name}'`);
    return item;
  }

  async list(options: ListOptions = {}): Promise<Page<MemoryItem>> {
    const { limit, cursor, order, ...filter } = parseWith(listOptionsSchema, options, { root: 'options' });
    return this.store.listItems(this.scope, toStoreFilter(filter), {
      limit,
      order,
      ...(cursor ? { cursor } : {}),
    });
  }

  /** Writes a new version; the previous one stays in `history`. */
  async update(ref: string, patch: UpdatePatch): Promise<MemoryItem> {
    requirePermission(this.permission, 'write', 'updating a memory');
    const current = await this.get(ref);
    const id = current.id;
    const p = parseWith(updatePatchSchema, patch, { root: 'patch' });
    const change: ItemChange = {};
    // The time its relative dates ("yesterday") count from: the event time, as the patch leaves it.
    const anchor =
      p.validFrom === undefined
        ? Date.parse(current.validFrom ?? current.createdAt)
        : (p.validFrom ?? Date.parse(current.createdAt));
    refuseEndBeforeStart(current, p, anchor);
    const text =
      p.content === undefined ? undefined : validateContent(p.content, this.config.limits, 'patch.content');
    // A patch that says what the memory already says writes no version and no audit record; a
    // deleted or frozen memory refuses it all the same.
    assertMutable(current, 'update');
    if (changesNothing(current, { ...p, content: text })) return current;
    // A new event time alone moves those dates too: the text is derived again, unchanged.
    const redated = text === undefined && p.validFrom !== undefined && current.derived.dates.length > 0;
    const content = text ?? (redated ? current.content : undefined);
    if (content !== undefined) {
      // New words, new dates and entities; the turns it answers stay what they were.
      const fresh = deriveKeys({ ...current, content }, anchor, [], this.config.ingest);
      const derived = { ...fresh.derived, context: current.derived.context };
      const index = { ...fresh.index, context: current.derived.context ?? '' };
      const [embedding] = await this.embedWithWords([index.text], [index]);
      change.content = {
        content,
        index,
        derived,
        contentHash: contentHash(content),
        embedding: embedding ?? null,
      };
    }
    if (p.tags !== undefined) change.tags = [...new Set(p.tags)];
    if (p.metadata !== undefined) change.metadata = p.metadata;
    if (p.validFrom !== undefined) change.validFrom = p.validFrom;
    if (p.validTo !== undefined) change.validTo = p.validTo;
    return this.inSession(current.sessionId, async () => {
      const content = change.content;
      if (!content)
        return this.store.updateItem(this.scope, id, change, this.writeContext('updating a memory'));
      return whileSessionChanges(async () => {
        // Its own key from the turns active before it now, and the turns after it keyed by its new
        // words, all from one stamped read of the session.
        const found = await this.contextKeysAfter(current, { content: content.content }, true);
        const context = found ? found.ownKey : (await this.get(id)).derived.context;
        const rekeyed = {
          ...change,
          content: {
            ...content,
            derived: { ...content.derived, context },
            index: { ...content.index, context: context ?? '' },
          },
        };
        const ctx = this.writeContext('updating a memory');
        return this.store.updateItem(this.scope, id, rekeyed, ctx, found?.keys);
      });
    });
  }

  /** Every version of the item, oldest first, with who changed it and when. */
  async history(ref: string): Promise<MemoryVersion[]> {
    return this.store.history(this.scope, await this.resolveId(ref));
  }

  /**
   * Tombstones the item: hidden from search and list, kept with its history, recoverable by
   * `restore`. Its words also leave the context keys of the turns after it.
   */
  async delete(ref: string): Promise<MemoryItem> {
    const ctx = this.writeContext('deleting a memory');
    const item = await this.get(ref);
    return this.inSession(item.sessionId, () =>
      whileSessionChanges(async () => {
        const found = await this.contextKeysAfter(item, { status: 'deleted' }, false);
        return this.store.setStatus(this.scope, item.id, 'deleted', 'delete', ctx, found?.keys);
      }),
    );
  }

  async restore(ref: string): Promise<MemoryItem> {
    const ctx = this.writeContext('restoring a memory');
    const item = await this.get(ref);
    return this.inSession(item.sessionId, () =>
      whileSessionChanges(async () => {
        const found = await this.contextKeysAfter(item, { status: 'active' }, true);
        return this.store.setStatus(this.scope, item.id, 'active', 'restore', ctx, found?.keys);
      }),
    );
  }

  /**
   * The last active turns of a session, which the keys of turns added to it read, with the stamp
   * of the session from the first of them on. The stamp is taken between two reads that agree, so
   * nothing changed those turns before it: the insert then refuses if anything has since.
   */
  private async turnsBefore(sessionId: string): Promise<{ turns: MemoryItem[]; stamp: SessionStamp }> {
    const tail = () => this.store.sessionTail(this.scope, sessionId, this.config.ingest.contextTurns);
    let turns = await tail();
    for (let attempt = 1; ; attempt++) {
      // A session with fewer active turns than a key reads: a turn restored before them would
      // join the key, so the stamp covers the whole session.
      const from = turns.length < this.config.ingest.contextTurns ? 0 : (turns[0]?.turnIndex ?? 0);
      const stamp = await this.store.sessionStamp(this.scope, sessionId, from);
      const again = await tail();
      if (sameVersions(turns, again)) return { turns: again, stamp };
      if (attempt === KEY_WRITE_ATTEMPTS) throw new SessionChangedError(sessionId);
      turns = again;
    }
  }

  /**
   * The context keys that `change` to `item` moves, read from its session, with the stamp of the
   * turns they were read from, and the item's own key after the change; none when it is no turn
   * of a session. The item is taken as the read finds it (after the stamp), the change applied.
   */
  private async contextKeysAfter(
    item: MemoryItem,
    change: { status?: MemoryStatus; content?: string },
    withSelf: boolean,
  ): Promise<{ keys: ContextKeyWrite; ownKey: string | null } | undefined> {
    const { sessionId, turnIndex } = item;
    if (sessionId === null || turnIndex === null) return undefined;
    const ingest = this.config.ingest;
    const every = { sessionIds: [sessionId], statuses: [...MEMORY_STATUSES] };
    // Deleted turns between make the reach longer than `contextTurns`: read wider until it is enough.
    for (let reach = 2 * MAX_CONTEXT_TURNS; ; reach *= 4) {
      const window = { from: Math.max(0, turnIndex - reach), to: turnIndex + reach };
      // Stamped before the read: whatever changes the turns after it, the write will see.
      const derivedFrom = await this.store.sessionStamp(this.scope, sessionId, window.from);
      const refs = Array.from({ length: window.to - window.from + 1 }, (_, i) => ({
        sessionId,
        turnIndex: window.from + i,
      }));
      const read = await this.store.getTurns(this.scope, refs, every);
      const session = read.filter((t): t is MemoryItem & { turnIndex: number } => t.turnIndex !== null);
      const turn = { ...(session.find((t) => t.id === item.id) ?? item), ...change, turnIndex };
      if (readsEnough(turn, session, window, ingest) || reach >= MAX_CONTEXT_REACH) {
        const updates = contextKeysAround(turn, session, ingest, withSelf);
        const ownKey = updates.find((u) => u.id === item.id)?.context ?? turn.derived.context;
        return { keys: { updates, derivedFrom }, ownKey };
      }
    }
  }

  async stats(): Promise<CubeStats & { cube: CubeInfo }> {
    return { cube: this.info, ...(await this.store.stats(this.scope)) };
  }

  async audit(query: AuditQueryInput = {}): Promise<AuditRecord[]> {
    requirePermission(this.permission, 'admin', 'reading the audit log');
    const q = parseWith(auditQuerySchema, query, { root: 'query' });
    return this.store.listAudit(this.scope, {
      ...q,
      // A short id names its item as it does for `get`; a deleted item's records are found too.
      ...(q.itemId ? { itemId: await this.resolveId(q.itemId) } : {}),
      limit: q.limit ?? 1000,
    });
  }

  /**
   * The whole cube as JSONL records: a header, every item with its versions, the audit log, then
   * an end line counting the items and audit records. Needs `admin`.
   */
  async *export(): AsyncIterable<ExportLine> {
    // The export carries the audit log, which only an admin of the cube may read.
    requirePermission(this.permission, 'admin', 'exporting a cube');
    yield {
      type: 'header',
      format: 'memcube-export',
      version: EXPORT_FORMAT_VERSION,
      cube: {
        name: this.info.name,
        embedderId: this.info.embedderId,
        dimensions: this.info.dimensions,
        createdAt: this.info.createdAt,
      },
      exportedAt: new Date().toISOString(),
    };
    let items = 0;
    for await (const bundle of this.store.exportItems(this.scope)) {
      items++;
      yield { type: 'item', ...bundle };
    }
    let auditRecords = 0;
    let afterId = 0;
    for (;;) {
      const page = await this.store.listAudit(this.scope, { afterId, limit: 1000 });
      for (const record of page) yield { type: 'audit', record };
      auditRecords += page.length;
      const last = page.at(-1);
      if (!last) break;
      afterId = last.id;
    }
    // Counted last, so that an import can tell a whole file from one cut short.
    yield { type: 'end', items, auditRecords };
  }
}

/** `work`'s result, or `aborted` as soon as `signal` aborts; `work` then goes on unobserved. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, aborted: T): Promise<T> {
  const unobserved = () => {
    work.catch(() => undefined);
    return aborted;
  };
  if (signal.aborted) return Promise.resolve(unobserved());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => resolve(unobserved());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
