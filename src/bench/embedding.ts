import { LocalEmbedder } from '../embed/local.js';
import { openEvalEmbedder } from '../eval/embedder.js';
import type { ProgressCallback } from '../os/memory-os.js';
import type { Corpus } from './corpus.js';
import { PrecomputedEmbedder } from './vectors.js';

const CHUNK = 1000;

export interface BenchVectors {
  embedder: PrecomputedEmbedder;
  close(): Promise<void>;
}

/**
 * Real offline-model vectors for the distinct corpus turns a run of `size` items uses, from the
 * shared embedding cache (computed and cached on a miss); copies beyond them are perturbed on use.
 */
export async function loadBenchVectors(
  corpus: Corpus,
  size: number,
  cachePath: string,
  onProgress: ProgressCallback = () => {},
): Promise<BenchVectors> {
  const cached = openEvalEmbedder(new LocalEmbedder(), cachePath);
  const texts = corpus.turns.slice(0, Math.min(size, corpus.turns.length)).map((t) => t.content);
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < texts.length; i += CHUNK) {
    const chunk = texts.slice(i, i + CHUNK);
    const out = await cached.embedder.embed(chunk);
    chunk.forEach((t, j) => {
      vectors.set(t, out[j] as Float32Array);
    });
    onProgress(Math.min(i + CHUNK, texts.length), texts.length);
  }
  return { embedder: new PrecomputedEmbedder(vectors, cached.embedder), close: cached.close };
}

/** Milliseconds per text of the offline model itself, uncached, on a sample of corpus turns. */
export async function measureEmbedding(corpus: Corpus, sample: number): Promise<number> {
  const model = new LocalEmbedder();
  const texts = corpus.turns.slice(0, sample).map((t) => `${t.content} (embedding speed sample)`);
  await model.embed(texts.slice(0, 1)); // model load is not per-text cost
  const started = performance.now();
  for (let i = 0; i < texts.length; i += 64) await model.embed(texts.slice(i, i + 64));
  return (performance.now() - started) / texts.length;
}
