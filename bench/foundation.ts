/**
 * Ingest rate and search latency on one cube of N items (default 10,000), through the public API.
 *
 *   npx tsx bench/foundation.ts [--size 10000] [--queries 200] [--out bench/out]
 *
 * Corpus: LongMemEval dev haystack turns when ../shared/datasets is present, else generated
 * sentences. Every text is embedded once with the real offline model first (timed on its own);
 * ingest and search then use those vectors through a lookup embedder, so store and retrieval
 * time are reported without embedding time, as the issue asks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { LocalEmbedder } from '../src/embed/local.js';
import { type Embedder, MemoryOS } from '../src/index.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '200' },
    out: { type: 'string', default: 'bench/out' },
  },
});
const size = Number(values.size);
const queryCount = Number(values.queries);

interface Turn {
  content: string;
  role: 'user' | 'assistant';
  session: string;
  at: string;
}

function loadCorpus(): { turns: Turn[]; questions: string[]; source: string } {
  const file = path.resolve('../shared/datasets/longmemeval/longmemeval_s_dev100.json.gz');
  if (fs.existsSync(file)) {
    const data = JSON.parse(gunzipSync(fs.readFileSync(file)).toString('utf8')) as Array<{
      question: string;
      haystack_dates: string[];
      haystack_session_ids: string[];
      haystack_sessions: Array<Array<{ role: 'user' | 'assistant'; content: string }>>;
    }>;
    const turns: Turn[] = [];
    for (const q of data) {
      q.haystack_sessions.forEach((session, s) => {
        const at = new Date(
          `${(q.haystack_dates[s] ?? '2023/01/01').slice(0, 10).replaceAll('/', '-')}T12:00:00Z`,
        ).toISOString();
        for (const m of session)
          turns.push({
            content: m.content.slice(0, 4000),
            role: m.role,
            session: q.haystack_session_ids[s] ?? `s${s}`,
            at,
          });
      });
    }
    return { turns, questions: data.map((q) => q.question), source: 'LongMemEval dev haystack turns' };
  }
  const topics = [
    'hiking',
    'cooking',
    'a new job',
    'the dentist',
    'moving house',
    'a concert',
    'my sister',
    'the garden',
  ];
  const turns = Array.from({ length: size }, (_, i) => ({
    content: `Entry ${i}: I talked about ${topics[i % topics.length]} and ${topics[(i * 7) % topics.length]} on day ${i % 365}.`,
    role: (i % 2 ? 'assistant' : 'user') as Turn['role'],
    session: `s${Math.floor(i / 20)}`,
    at: new Date(Date.UTC(2023, 0, 1) + i * 3_600_000).toISOString(),
  }));
  return { turns, questions: topics.map((t) => `what did I say about ${t}?`), source: 'generated sentences' };
}

/** Serves vectors computed beforehand by the real model, so timings below exclude embedding. */
class PrecomputedEmbedder implements Embedder {
  readonly id: string;
  constructor(
    private readonly inner: Embedder,
    private readonly vectors: Map<string, Float32Array>,
  ) {
    this.id = inner.id;
  }
  dimensions(): Promise<number> {
    return this.inner.dimensions();
  }
  async embed(texts: string[]): Promise<Float32Array[]> {
    const missing = texts.filter((t) => !this.vectors.has(t));
    if (missing.length) {
      const fresh = await this.inner.embed(missing);
      missing.forEach((t, i) => {
        this.vectors.set(t, fresh[i] as Float32Array);
      });
    }
    return texts.map((t) => this.vectors.get(t) as Float32Array);
  }
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const summary = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  return {
    p50: +percentile(s, 50).toFixed(2),
    p95: +percentile(s, 95).toFixed(2),
    p99: +percentile(s, 99).toFixed(2),
  };
};

async function main(): Promise<void> {
  const corpus = loadCorpus();
  const turns: Turn[] = [];
  for (let i = 0; turns.length < size; i++) {
    const t = corpus.turns[i % corpus.turns.length] as Turn;
    // Cycling a small corpus repeats texts; a suffix keeps every item distinct.
    turns.push(
      i < corpus.turns.length ? t : { ...t, content: `${t.content} (#${i})`, session: `${t.session}-${i}` },
    );
  }
  const queries = Array.from(
    { length: queryCount },
    (_, i) => corpus.questions[i % corpus.questions.length] as string,
  );
  const local = new LocalEmbedder();
  const vectors = new Map<string, Float32Array>();
  const texts = [...new Set([...turns.map((t) => t.content), ...queries])];
  let started = performance.now();
  for (let i = 0; i < texts.length; i += 64) {
    const batch = texts.slice(i, i + 64);
    const out = await local.embed(batch);
    batch.forEach((t, j) => {
      vectors.set(t, out[j] as Float32Array);
    });
    if (i % 1024 === 0) process.stderr.write(`\rembedding ${i}/${texts.length}`);
  }
  const embedMsPerText = (performance.now() - started) / texts.length;
  process.stderr.write(`\rembedded ${texts.length} texts, ${embedMsPerText.toFixed(1)} ms each\n`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-bench-'));
  const memory = await MemoryOS.open({
    path: path.join(dir, 'bench.db'),
    embedder: new PrecomputedEmbedder(local, vectors),
  });
  const cube = await memory.cube('bench');
  started = performance.now();
  // Bulk: one add per session chunk of up to 1,000 turns, as an application adds a conversation.
  const bulk = turns.slice(0, size - 200);
  for (let i = 0; i < bulk.length; ) {
    const session = (bulk[i] as Turn).session;
    let j = i;
    while (j < bulk.length && j - i < 1000 && (bulk[j] as Turn).session === session) j++;
    await cube.add(
      bulk.slice(i, j).map((t) => ({ content: t.content, role: t.role, at: t.at })),
      { sessionId: session },
    );
    i = j;
  }
  const bulkSeconds = (performance.now() - started) / 1000;
  const addMs: number[] = [];
  for (const t of turns.slice(size - 200)) {
    const s = performance.now();
    await cube.add({ content: t.content, role: t.role, at: t.at }, { sessionId: 'single' });
    addMs.push(performance.now() - s);
  }
  const stats = await cube.stats();

  const searchMs: number[] = [];
  const lexicalMs: number[] = [];
  const contextMs: number[] = [];
  for (const q of queries.slice(0, 20)) await cube.search(q); // warm-up
  for (const q of queries) {
    let s = performance.now();
    await cube.search(q, { limit: 10 });
    searchMs.push(performance.now() - s);
    s = performance.now();
    await cube.search(q, { limit: 10, channels: ['lexical'] });
    lexicalMs.push(performance.now() - s);
    s = performance.now();
    await cube.context(q, { tokenBudget: 2000 });
    contextMs.push(performance.now() - s);
  }
  await memory.close();
  const dbBytes = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  fs.rmSync(dir, { recursive: true, force: true });

  const result = {
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    corpus: corpus.source,
    items: stats.items,
    queries: queries.length,
    embedding_ms_per_text: +embedMsPerText.toFixed(2),
    bulk_ingest_items_per_s: Math.round((size - 200) / bulkSeconds),
    add_single_ms: summary(addMs),
    search_hybrid_ms_excluding_query_embedding: summary(searchMs),
    search_lexical_ms: summary(lexicalMs),
    context_2000_ms_excluding_query_embedding: summary(contextMs),
    rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
    db_mb: +(dbBytes / 2 ** 20).toFixed(1),
  };
  fs.mkdirSync(values.out, { recursive: true });
  fs.writeFileSync(path.join(values.out, 'foundation.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

await main();
