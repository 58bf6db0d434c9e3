import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Exact cosine of a vector search's candidates, from their rows; the best `limit` of them that
 * are live items of the cube. The CROSS JOIN keeps the planner on rowid lookups.
 * Parameters: query vector (BLOB), candidate item keys (JSON array), cube key, limit.
 */
export const RESCORE_SQL = `SELECT v.item_key AS key, 1 - vec_distance_cosine(v.embedding, ?) AS score
  FROM json_each(?) k CROSS JOIN item_vectors v ON v.item_key = k.value
  WHERE v.cube_key = ? AND v.live = 1 ORDER BY score DESC, v.item_key LIMIT ?`;

export interface RescoredKey {
  key: number;
  score: number;
}

/**
 * The rescorer's own code, a CommonJS worker script (`eval`, as the checkpointer's): a read-only
 * connection that runs `RESCORE_SQL` for each request and answers with its rows or its error.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.on('messageerror', () => process.exit(1));
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
require(workerData.vec).load(db);
const rescore = db.prepare(workerData.sql);
parentPort.on('message', (message) => {
  if (message === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  const { id, vector, keys, cube, limit } = message;
  try {
    parentPort.postMessage({ id, rows: rescore.all(Buffer.from(vector), keys, cube, limit) });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message ? err.message : err) });
  }
});
parentPort.postMessage({ ready: true });
`;

/** Error replies in a row after which the thread is given up and rescoring stays on the main thread. */
const MAX_ERRORS_IN_ROW = 3;

interface Pending {
  resolve: (rows: RescoredKey[]) => void;
  reject: (err: Error) => void;
}

type Reply = { ready: true } | { id: number; rows: RescoredKey[] } | { id: number; error: string };

/**
 * Rescoring of vector candidates on another core: a search hands its shortlist to this thread
 * and scores the words on the main thread meanwhile (on the 100K bench cube the row reads take
 * ~1.2 ms of a ~5 ms search, and about as long as the full-text channel). A cache of nothing: it
 * reads the committed rows, as the main connection does, in its own read transaction.
 */
export class VectorRescorer {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private ready = false;
  private failed = false;
  private errorsInRow = 0;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (reply: Reply) => {
      if ('ready' in reply) {
        this.ready = true;
        return;
      }
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      // Idle again: the thread no longer holds the process open.
      if (this.pending.size === 0) this.worker.unref();
      if ('error' in reply) {
        // An error that stays (a damaged file, say) would cost every search a round trip for nothing.
        if (++this.errorsInRow >= MAX_ERRORS_IN_ROW) this.failed = true;
        waiting?.reject(new Error(reply.error));
      } else {
        this.errorsInRow = 0;
        waiting?.resolve(reply.rows);
      }
    });
    const fail = (err: Error) => {
      this.failed = true;
      for (const waiting of this.pending.values()) waiting.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('messageerror', fail);
    worker.on('exit', () => fail(new Error('the rescoring thread has ended')));
    // Idle between searches, it must not keep a process alive that is otherwise done.
    worker.unref();
  }

  static start(file: string): VectorRescorer {
    const require = createRequire(import.meta.url);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file,
        sql: RESCORE_SQL,
        driver: require.resolve('better-sqlite3'),
        vec: require.resolve('sqlite-vec'),
      },
    });
    return new VectorRescorer(worker);
  }

  /** Whether requests can go to the thread now: it has opened its connection and not failed. */
  get usable(): boolean {
    return this.ready && !this.failed;
  }

  /** `RESCORE_SQL`'s rows for these parameters, from the thread's connection. */
  rescore(vector: Buffer, keys: string, cube: number, limit: number): Promise<RescoredKey[]> {
    if (this.failed) return Promise.reject(new Error('the rescoring thread has ended'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.worker.postMessage({ id, vector, keys, cube, limit });
      // Held open while a request is out, so a caller awaiting it sees its answer.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
    });
  }

  /** Closes the thread's connection and waits for the thread to end. */
  async stop(): Promise<void> {
    this.worker.ref();
    if (!this.failed) this.worker.postMessage('stop');
    await this.exited;
  }
}
