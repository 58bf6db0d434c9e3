import path from 'node:path';
import { contentHash, newItemId } from '../core/ids.js';
import type { Embedder } from '../embed/embedder.js';
import { MemoryOS } from '../os/memory-os.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { NewItemRecord } from '../store/store.js';
import type { BenchItem } from './corpus.js';
import type { TurnKeys } from './derived.js';
import type { BenchSystem } from './systems.js';

const CONTEXT_BUDGET = 2000;
const CUBE = 'bench';
const RECALL_K = 10;

/**
 * memcube with default settings and durability, one cube. Searches, contexts and `add` go through
 * the public API; the bulk load writes the same records `add` would through the store's insert
 * path, with keys derived beforehand (`keysOf`), and times only that.
 */
export async function openMemcube(
  dir: string,
  embedder: Embedder,
  keysOf: (item: BenchItem) => TurnKeys,
): Promise<BenchSystem> {
  const file = path.join(dir, 'memcube.db');
  const memory = await MemoryOS.open({ path: file, embedder });
  const cube = await memory.cube(CUBE);
  let store: SqliteStore | undefined;
  const scope = { tenant: cube.info.tenant, cube: CUBE };
  return {
    bulk: async (items) => {
      store ??= SqliteStore.open(file);
      const keys = items.map(keysOf);
      const vectors = await embedder.embed(keys.map((k) => k.index.text));
      const records = items.map(
        (t, i): NewItemRecord => ({
          id: newItemId(),
          kind: 'episode',
          content: t.content,
          ...(keys[i] as TurnKeys),
          role: t.role,
          speaker: null,
          userId: null,
          agentId: null,
          sessionId: t.session,
          runId: null,
          validFrom: t.at,
          validTo: null,
          dedupeWindow: { from: t.at, to: t.at },
          sourceIds: [],
          tags: [],
          metadata: {},
          contentHash: contentHash(t.content),
          embedding: vectors[i] ?? null,
        }),
      );
      const started = performance.now();
      await store.insertItems(scope, records, { actor: 'bench', now: Date.now() });
      return performance.now() - started;
    },
    settle: async () => {
      const started = performance.now();
      await store?.catchUpWordIndex();
      return performance.now() - started;
    },
    add: async (items) => {
      await cube.add(
        items.map((t) => ({ content: t.content, role: t.role, at: t.at })),
        { sessionId: items[0]?.session ?? CUBE },
      );
    },
    warm: async () => {
      // Timing searches that SQLite answers for want of an index would measure the wrong thing.
      if (!(await cube.warm())) throw new Error(`cube '${CUBE}': its search indexes could not be built`);
    },
    search: async (query) => {
      await cube.search(query, { limit: 10 });
    },
    filteredSearch: async (query) => {
      await cube.search(query, { limit: 10, roles: ['user'] });
    },
    context: async (query) => {
      await cube.context(query, { tokenBudget: CONTEXT_BUDGET });
    },
    vectorIndex: async (queries) => {
      const vectors = (await embedder.embed(queries)).filter((v): v is Float32Array => v !== undefined);
      // Forced on at every size, so small cubes report the index's recall too; built inline by the
      // first search, which times it.
      const approximate = SqliteStore.open(file, {
        indexMinItems: 0,
        backgroundBuildMinItems: Number.POSITIVE_INFINITY,
      });
      const exact = SqliteStore.open(file, { indexMinItems: Number.POSITIVE_INFINITY });
      try {
        const search = (s: SqliteStore, v: Float32Array) => s.searchVector(scope, v, {}, RECALL_K);
        const started = performance.now();
        if (vectors[0]) await search(approximate, vectors[0]);
        const buildMs = performance.now() - started;
        let found = 0;
        let wanted = 0;
        for (const v of vectors) {
          const truth = new Set((await search(exact, v)).map((h) => h.id));
          found += (await search(approximate, v)).filter((h) => truth.has(h.id)).length;
          wanted += truth.size;
        }
        return { recall_at_10: wanted === 0 ? 1 : found / wanted, build_ms: Math.round(buildMs) };
      } finally {
        await approximate.close();
        await exact.close();
      }
    },
    close: async () => {
      await store?.close();
      await memory.close();
    },
  };
}
