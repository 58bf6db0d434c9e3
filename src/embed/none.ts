import { MemcubeError } from '../core/errors.js';
import type { Embedder } from './embedder.js';

/** Lexical-only mode: no vectors at all. Callers check `dimensions() === 0` and skip embedding. */
export class NoneEmbedder implements Embedder {
  readonly id = 'none';

  async dimensions(): Promise<number> {
    return 0;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    throw new MemcubeError(
      'embedder_failed',
      `the 'none' embedder produces no vectors (lexical-only mode) but was asked to embed ${texts.length} text(s)`,
    );
  }
}
