/**
 * Warms each cube a long-running process uses, once, in the background and one cube at a time
 * (`Cube.warm`: the in-process search indexes, and the vectors of words stored before the
 * related-words channel existed). The server and the MCP server open their memory with it, so a
 * cube an older version wrote gains the channel without anyone calling `warm()`, and a big
 * cube's first question finds its indexes built or building.
 */
export class CubeWarmer {
  private readonly queued = new Set<string>();
  private readonly stopping = new AbortController();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (key: string, error: unknown) => void) {}

  /**
   * Queues `warm` under `key`, unless that key was queued before or the warmer is closed. A cube
   * whose warm-up failed is not tried again in this process: an embedder that is down would
   * otherwise fail once per request.
   */
  schedule(key: string, warm: (signal: AbortSignal) => Promise<unknown>): void {
    const { signal } = this.stopping;
    if (signal.aborted || this.queued.has(key)) return;
    this.queued.add(key);
    this.queue = this.queue.then(async () => {
      if (signal.aborted) return;
      try {
        await warm(signal);
      } catch (error) {
        // A store closed under a warm-up that was told to stop is no failure.
        if (signal.aborted) return;
        try {
          this.onError(key, error);
        } catch {
          // A failing reporter must not stop the queue, nor `close()`.
        }
      }
    });
  }

  /** Skips the queued cubes, tells the running warm-up to stop, and resolves once it has. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.queue;
  }
}
