/** How long after a first failed warm-up the cube may be tried again; each further failure doubles it. */
const FIRST_RETRY_MS = 60_000;
/** The longest wait between tries. */
const LONGEST_RETRY_MS = 3_600_000;

export interface CubeWarmerOptions {
  /** The clock the back-off reads (epoch ms). */
  now?: () => number;
}

/**
 * Warms each cube a long-running process uses, once, in the background and one cube at a time
 * (`Cube.warm`: the in-process search indexes, and the vectors of words stored before the
 * related-words channel existed). The server and the MCP server open their memory with it, so a
 * cube an older version wrote gains the channel without anyone calling `warm()`, and a big
 * cube's first question finds its indexes built or building.
 */
export class CubeWarmer {
  /** Keys warmed, being warmed or waiting their turn. */
  private readonly queued = new Set<string>();
  /** Keys whose last warm-up failed: when they may be tried again, and the wait after that. */
  private readonly failed = new Map<string, { retryAt: number; nextWaitMs: number }>();
  private readonly stopping = new AbortController();
  private readonly now: () => number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly onError: (key: string, error: unknown, retryInMs: number) => void,
    options: CubeWarmerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Queues `warm` under `key`, unless that key was queued before or the warmer is closed. A cube
   * whose warm-up failed is tried again only when it is scheduled after a back-off (1 minute,
   * doubling with each failure up to an hour): an embedder that is down would otherwise fail
   * once per request, and one that came back would otherwise leave the cube cold until a restart.
   */
  schedule(key: string, warm: (signal: AbortSignal) => Promise<unknown>): void {
    const { signal } = this.stopping;
    if (signal.aborted || this.queued.has(key)) return;
    const failure = this.failed.get(key);
    if (failure && this.now() < failure.retryAt) return;
    this.queued.add(key);
    this.queue = this.queue.then(async () => {
      if (signal.aborted) return;
      try {
        await warm(signal);
        this.failed.delete(key);
      } catch (error) {
        // A store closed under a warm-up that was told to stop is no failure.
        if (signal.aborted) return;
        const waitMs = failure?.nextWaitMs ?? FIRST_RETRY_MS;
        this.failed.set(key, {
          retryAt: this.now() + waitMs,
          nextWaitMs: Math.min(2 * waitMs, LONGEST_RETRY_MS),
        });
        this.queued.delete(key);
        try {
          this.onError(key, error, waitMs);
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
