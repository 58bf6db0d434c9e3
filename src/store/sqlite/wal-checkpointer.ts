import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the checkpointer looks at a log that keeps growing. */
const BUSY_INTERVAL_MS = 100;
/** The longest wait between looks while nothing is committed (a no-op checkpoint costs microseconds). */
const IDLE_INTERVAL_MS = 2_000;
/** Checkpoints failing in a row before the thread gives up. */
const MAX_FAILURES = 5;

/**
 * The checkpointer's own code, run as a CommonJS worker script (`eval`): a worker file would have
 * to exist both as TypeScript for the tests and as JavaScript for the build. It opens its own
 * connection to the file and copies the log into the database with PASSIVE checkpoints, which
 * never block the writer or readers: frames a reader still needs wait for the next round.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = ' + workerData.synchronous);
let wait = workerData.busyMs;
let lastVersion = -1;
let failures = 0;
let timer;
const round = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    // data_version moves exactly when another connection has committed since this one last looked.
    const version = db.pragma('data_version', { simple: true });
    wait = version === lastVersion ? Math.min(workerData.idleMs, wait * 2) : workerData.busyMs;
    lastVersion = version;
    failures = 0;
  } catch (err) {
    // A lock held through recovery passes; an error that stays (a replaced or corrupt file) ends
    // the thread, and the writer checkpoints on its own again.
    if (++failures >= workerData.maxFailures) {
      db.close();
      throw err;
    }
    wait = workerData.idleMs;
  }
  timer = setTimeout(round, wait);
};
timer = setTimeout(round, wait);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * A worker thread that checkpoints one SQLite file's write-ahead log in the background, so a
 * commit pays for appending its pages to the log and for the fsync, while copying them into the
 * database (and that fsync) runs on another core. Durability does not change: the worker's
 * connection syncs as the writer's does, and a commit is exactly as durable as without it.
 */
export class WalCheckpointer {
  private failed = false;
  /** Settles when the thread has ended, however it ended (a failed one may be gone before `stop`). */
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    onFailure: (err: Error) => void,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('error', (err) => {
      this.failed = true;
      onFailure(err);
    });
    // A process that forgets to close its store may still exit; the log is then checkpointed
    // by the next connection, as after a crash.
    worker.unref();
  }

  /** `onFailure` runs if the worker dies (it could not open the file, say): the writer must checkpoint again. */
  static start(
    file: string,
    synchronous: 'FULL' | 'NORMAL',
    onFailure: (err: Error) => void,
  ): WalCheckpointer {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file,
        synchronous,
        driver,
        busyMs: BUSY_INTERVAL_MS,
        idleMs: IDLE_INTERVAL_MS,
        maxFailures: MAX_FAILURES,
      },
    });
    return new WalCheckpointer(worker, onFailure);
  }

  /** Closes the worker's connection (before the writer's, so the writer's close can remove the log). */
  async stop(): Promise<void> {
    // Unreferenced, the thread would not keep the process alive until its exit: a caller awaiting
    // close() with nothing else pending would see the process end first.
    this.worker.ref();
    // Taken between two checkpoints: one under way is finished, not cut short.
    if (!this.failed) this.worker.postMessage('stop');
    await this.exited;
  }
}
