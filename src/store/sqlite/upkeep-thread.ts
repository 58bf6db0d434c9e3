import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CATCH_UP_BATCH, catchUpWords, type WordSql } from './word-index.js';

/** How often the thread looks at a log that keeps growing. */
const BUSY_INTERVAL_MS = 100;
/** The longest wait between looks while nothing is committed (a no-op checkpoint costs microseconds). */
const IDLE_INTERVAL_MS = 2_000;
/** Rounds failing in a row before the thread gives up. */
const MAX_FAILURES = 5;

/** Longest run of catch-up transactions before a round checkpoints the store's log. */
const CATCH_UP_SLICE_MS = 200;

/**
 * The thread's own code, run as a CommonJS worker script (`eval`): a worker file would have to
 * exist both as TypeScript for the tests and as JavaScript for the build. Its connection opens
 * the word index's file with the store's attached as `store`. Each round it catches the word
 * index up (`catchUpWords`, from its source text) and copies the store's log into the store with
 * a PASSIVE checkpoint, which never blocks the writer or readers: frames a reader still needs
 * wait for the next round. It never writes the store.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const catchUpWords = new Function('return (' + workerData.catchUpSource + ')')();
const db = new Database(workerData.wordFile, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
db.prepare('ATTACH ? AS store').run(workerData.storeFile);
db.pragma('store.synchronous = ' + workerData.synchronous);
const statements = new Map();
const prepare = (sql) => {
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = db.prepare(sql)));
  return statement;
};
let wait = workerData.busyMs;
let lastVersion = -1;
let failures = 0;
let timer;
const round = () => {
  try {
    const until = Date.now() + workerData.sliceMs;
    let caughtUp = false;
    do caughtUp = catchUpWords(db, prepare, workerData.sql, workerData.batch);
    while (!caughtUp && Date.now() < until);
    db.pragma('store.wal_checkpoint(PASSIVE)');
    // data_version moves exactly when another connection has committed since this one last looked.
    const version = db.pragma('store.data_version', { simple: true });
    if (!caughtUp) wait = 0;
    else if (version !== lastVersion) wait = workerData.busyMs;
    else wait = Math.min(workerData.idleMs, Math.max(workerData.busyMs, wait * 2));
    lastVersion = version;
    failures = 0;
  } catch (err) {
    // A lock held through recovery passes; an error that stays (a replaced or corrupt file) ends
    // the thread, and the writer checkpoints and catches the word index up on its own again.
    if (++failures >= workerData.maxFailures) {
      db.close();
      throw err;
    }
    wait = workerData.idleMs;
  }
  timer = setTimeout(round, wait);
};
timer = setTimeout(round, 0);
parentPort.on('message', (message) => {
  clearTimeout(timer);
  // A caller waits for the word index: the next round now, not after the wait.
  if (message === 'wake') {
    // Not while rounds fail: the wait after a failure is what lets a passing lock pass.
    timer = setTimeout(round, failures > 0 ? wait : 0);
    return;
  }
  // 'stop': a round under way has finished (messages wait for it).
  db.close();
  parentPort.close();
});
`;

export interface UpkeepFiles {
  storeFile: string;
  wordFile: string;
  synchronous: 'FULL' | 'NORMAL';
  /** The word index's statements, named for a connection to its file with the store's attached as `store`. */
  sql: WordSql;
}

/**
 * A worker thread that does a store's upkeep in the background, on another core: it catches the
 * word index up with the store's change log, and checkpoints the store's write-ahead log, so a
 * commit pays for appending its pages to the log and for the fsync, while indexing the words and
 * copying the pages into the database (and that fsync) run on another core. Durability does not
 * change: the thread's connection syncs the store as the writer's does, and a commit is exactly
 * as durable as without it.
 */
export class UpkeepThread {
  private failed = false;
  private stopping = false;
  /** Settles when the thread has ended, however it ended (a failed one may be gone before `stop`). */
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    onFailure: (err: Error) => void,
  ) {
    this.exited = new Promise((resolve) =>
      worker.once('exit', () => {
        this.stopping = true;
        resolve();
      }),
    );
    worker.on('error', (err) => {
      this.failed = true;
      onFailure(err);
    });
    // A process that forgets to close its store may still exit; the log is then checkpointed
    // by the next connection, as after a crash.
    worker.unref();
  }

  /**
   * `onFailure` runs if the worker dies (it could not open a file, say): the writer must
   * checkpoint and catch the word index up itself again.
   */
  static start(files: UpkeepFiles, onFailure: (err: Error) => void): UpkeepThread {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        ...files,
        driver,
        catchUpSource: catchUpWords.toString(),
        batch: CATCH_UP_BATCH,
        sliceMs: CATCH_UP_SLICE_MS,
        busyMs: BUSY_INTERVAL_MS,
        idleMs: IDLE_INTERVAL_MS,
        maxFailures: MAX_FAILURES,
      },
    });
    return new UpkeepThread(worker, onFailure);
  }

  /** Whether the thread is at work: started, not failed, not told to stop. */
  get alive(): boolean {
    return !this.failed && !this.stopping;
  }

  /** Asks for a round now (a caller waits for the word index to catch up). */
  wake(): void {
    if (this.alive) this.worker.postMessage('wake');
  }

  /** Closes the worker's connection (before the writer's, so the writer's close can remove the log). */
  async stop(): Promise<void> {
    this.stopping = true;
    // Unreferenced, the thread would not keep the process alive until its exit: a caller awaiting
    // close() with nothing else pending would see the process end first.
    this.worker.ref();
    // Taken between two checkpoints: one under way is finished, not cut short.
    if (!this.failed) this.worker.postMessage('stop');
    await this.exited;
  }
}
