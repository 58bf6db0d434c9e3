/**
 * Turns texts into vectors. Implementations return unit-length vectors so that
 * cosine similarity and dot product agree.
 */
export interface Embedder {
  /** Stable identity recorded per cube, e.g. `local:use-lite` or `openai-compatible:text-embedding-3-small`. */
  readonly id: string;
  /** Vector length; 0 for the `none` embedder. */
  dimensions(): Promise<number>;
  /** One vector per text, in order. */
  embed(texts: string[]): Promise<Float32Array[]>;
}
