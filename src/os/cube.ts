import type { ResolvedConfig } from '../core/config.js';
import { InvalidInputError, NotFoundError } from '../core/errors.js';
import { contentHash, isItemId } from '../core/ids.js';
import {
  type AddOptions,
  type ContextOptions,
  contextOptionsSchema,
  type ListOptions,
  listOptionsSchema,
  type SearchOptions,
  searchOptionsSchema,
  type UpdatePatch,
  updatePatchSchema,
} from '../core/schemas.js';
import type { AuditRecord, CubeInfo, MemoryItem, MemoryVersion, SearchHit } from '../core/types.js';
import { parseWith } from '../core/validate.js';
import type { Embedder } from '../embed/embedder.js';
import { type AddInput, draftEpisodes, episodeIndexText, validateContent } from '../ingest/episodes.js';
import { type ContextPack, packContext } from '../retrieve/context.js';
import { rankItems, toStoreFilter } from '../retrieve/search.js';
import type {
  CubeScope,
  CubeStats,
  InsertOutcome,
  ItemChange,
  Page,
  Store,
  WriteContext,
} from '../store/store.js';
import { EXPORT_FORMAT_VERSION, type ExportLine } from './portable.js';

export interface AddResult {
  /** One id per input message, in order; a duplicate maps to the id stored before. */
  ids: string[];
  items: InsertOutcome[];
}

export interface CubeDeps {
  store: Store;
  info: CubeInfo;
  /** Null when the cube is lexical-only. */
  embedder: Embedder | null;
  config: ResolvedConfig;
}

/** A named, owned container of memories; every call is scoped to it inside the store. */
export class Cube {
  private readonly store: Store;
  private readonly scope: CubeScope;
  private readonly embedder: Embedder | null;
  private readonly config: ResolvedConfig;
  readonly info: CubeInfo;

  constructor(deps: CubeDeps) {
    this.store = deps.store;
    this.info = deps.info;
    this.scope = { tenant: deps.info.tenant, cube: deps.info.name };
    this.embedder = deps.embedder;
    this.config = deps.config;
  }

  get name(): string {
    return this.info.name;
  }

  private writeContext(): WriteContext {
    return { actor: this.config.actor, now: Date.now() };
  }

  private async embedAll(texts: string[]): Promise<Array<Float32Array | null>> {
    if (!this.embedder || texts.length === 0) return texts.map(() => null);
    return this.embedder.embed(texts);
  }

  private checkId(id: string): void {
    if (typeof id !== 'string' || !isItemId(id)) {
      throw new InvalidInputError(
        `id: '${String(id).slice(0, 80)}' is not a memory id (a UUID returned by add)`,
        'id',
      );
    }
  }

  /** Stores messages (or one text) as episodes; returns ids that never change afterwards. */
  async add(input: AddInput, options?: AddOptions): Promise<AddResult> {
    const ctx = this.writeContext();
    const drafts = draftEpisodes(input, options, this.config.limits, ctx.now);
    const vectors = await this.embedAll(drafts.map((d) => d.indexText));
    const items = await this.store.insertItems(
      this.scope,
      drafts.map((d, i) => ({ ...d, embedding: vectors[i] ?? null })),
      ctx,
    );
    return { ids: items.map((o) => o.id), items };
  }

  /** Ranked items with the fused score and each channel's rank and score. */
  async search(query: string, options: SearchOptions = {}): Promise<SearchHit[]> {
    const { limit, channels, ...filter } = parseWith(searchOptionsSchema, options, { root: 'options' });
    return rankItems(this.searchContext(), {
      query: String(query),
      filter: toStoreFilter(filter),
      limit,
      ...(channels ? { channels } : {}),
    });
  }

  /** Prompt-ready memory for `query` within a token budget, oldest first, each line citing its id. */
  async context(query: string, options: ContextOptions = {}): Promise<ContextPack> {
    const { tokenBudget, candidates, channels, ...filter } = parseWith(contextOptionsSchema, options, {
      root: 'options',
    });
    const ranked = await rankItems(this.searchContext(), {
      query: String(query),
      filter: toStoreFilter(filter),
      limit: candidates,
      ...(channels ? { channels } : {}),
    });
    return packContext(ranked, tokenBudget);
  }

  private searchContext() {
    return {
      store: this.store,
      scope: this.scope,
      embedder: this.embedder,
      retrieval: this.config.retrieval,
    };
  }

  async get(id: string): Promise<MemoryItem> {
    this.checkId(id);
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
  async update(id: string, patch: UpdatePatch): Promise<MemoryItem> {
    const current = await this.get(id);
    const p = parseWith(updatePatchSchema, patch, { root: 'patch' });
    const change: ItemChange = {};
    if (p.content !== undefined) {
      const content = validateContent(p.content, this.config.limits, 'patch.content');
      const indexText = episodeIndexText(content, current.speaker);
      const [embedding] = await this.embedAll([indexText]);
      change.content = {
        content,
        indexText,
        contentHash: contentHash(content),
        embedding: embedding ?? null,
      };
    }
    if (p.tags !== undefined) change.tags = [...new Set(p.tags)];
    if (p.metadata !== undefined) change.metadata = p.metadata;
    if (p.validFrom !== undefined) change.validFrom = p.validFrom;
    if (p.validTo !== undefined) change.validTo = p.validTo;
    return this.store.updateItem(this.scope, id, change, this.writeContext());
  }

  /** Every version of the item, oldest first, with who changed it and when. */
  async history(id: string): Promise<MemoryVersion[]> {
    this.checkId(id);
    return this.store.history(this.scope, id);
  }

  /** Tombstones the item: hidden from search and list, kept with its history, recoverable by `restore`. */
  async delete(id: string): Promise<MemoryItem> {
    this.checkId(id);
    return this.store.setStatus(this.scope, id, 'deleted', 'delete', this.writeContext());
  }

  async restore(id: string): Promise<MemoryItem> {
    this.checkId(id);
    return this.store.setStatus(this.scope, id, 'active', 'restore', this.writeContext());
  }

  async stats(): Promise<CubeStats & { cube: CubeInfo }> {
    return { cube: this.info, ...(await this.store.stats(this.scope)) };
  }

  async audit(query: { itemId?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    return this.store.listAudit(this.scope, {
      ...(query.itemId ? { itemId: query.itemId } : {}),
      limit: query.limit ?? 1000,
    });
  }

  /** The whole cube as JSONL records: a header, every item with its versions, then the audit log. */
  async *export(): AsyncIterable<ExportLine> {
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
    for await (const bundle of this.store.exportItems(this.scope)) yield { type: 'item', ...bundle };
    let afterId = 0;
    for (;;) {
      const page = await this.store.listAudit(this.scope, { afterId, limit: 1000 });
      for (const record of page) yield { type: 'audit', record };
      const last = page.at(-1);
      if (!last) return;
      afterId = last.id;
    }
  }
}
