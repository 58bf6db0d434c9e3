import path from 'node:path';
import { MemcubeError } from '../core/errors.js';
import type { Embedder } from '../embed/embedder.js';
import type { BenchItem } from './corpus.js';
import type { BenchSystem } from './systems.js';

const USER = 'bench';

/**
 * mem0's open-source TypeScript SDK (`mem0ai/oss`) with its default local vector store
 * (`memory`: SQLite rows, cosine scan in JavaScript) and history store, `infer: false` (no LLM
 * call), and memcube's embedder behind mem0's LangChain embedder slot, so both systems get the
 * very same vectors. mem0ai is a dev dependency: imported here on use only.
 */
export async function openMem0(dir: string, embedder: Embedder): Promise<BenchSystem> {
  let oss: typeof import('mem0ai/oss');
  try {
    oss = await import('mem0ai/oss');
  } catch (err) {
    throw new MemcubeError(
      'invalid_config',
      `--peer mem0 needs the mem0ai package (npm install mem0ai): ${String(err)}`,
    );
  }
  const dimensions = await embedder.dimensions();
  const embedOne = async (text: string): Promise<number[]> =>
    Array.from((await embedder.embed([text]))[0] ?? []);
  const memory = new oss.Memory({
    embedder: {
      provider: 'langchain',
      config: {
        model: {
          embedQuery: embedOne,
          embedDocuments: async (texts: string[]) => (await embedder.embed(texts)).map((v) => Array.from(v)),
        },
      },
    },
    vectorStore: {
      provider: 'memory',
      config: { collectionName: 'bench', dimension: dimensions, dbPath: path.join(dir, 'vector_store.db') },
    },
    // Never called with infer: false; mem0 wants one configured all the same.
    llm: { provider: 'openai', config: { apiKey: 'unused', model: 'unused' } },
    historyStore: { provider: 'sqlite', config: { historyDbPath: path.join(dir, 'history.db') } },
  });
  const add = async (items: BenchItem[]): Promise<void> => {
    await memory.add(
      items.map((t) => ({ role: t.role, content: t.content })),
      { userId: USER, infer: false, metadata: { session_id: items[0]?.session ?? USER } },
    );
  };
  return {
    // mem0 embeds inside add; the lookup of a precomputed vector is all that costs here.
    // mem0's add returns once its store holds the items.
    settle: async () => 0,
    bulk: async (items) => {
      const started = performance.now();
      // mem0 keeps the session in each call's metadata, so one call per session.
      const sessions = new Map<string, BenchItem[]>();
      for (const t of items) {
        const session = sessions.get(t.session);
        if (session) session.push(t);
        else sessions.set(t.session, [t]);
      }
      for (const session of sessions.values()) await add(session);
      return performance.now() - started;
    },
    add,
    // mem0's local store builds nothing ahead of queries.
    warm: async () => {},
    search: async (query) => {
      await memory.search(query, { filters: { user_id: USER }, topK: 10 });
    },
    filteredSearch: null,
    context: null,
    vectorIndex: null,
    close: async () => {},
  };
}
