import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/sqlite-store.js';
import { UpkeepThread } from '../../src/store/sqlite/upkeep-thread.js';
import { wordSql } from '../../src/store/sqlite/word-index.js';
import { rec } from './conformance.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-checkpoints-'));
const ctx = () => ({ actor: 'test', now: Date.now() });
const scope = { tenant: 'default', cube: 'notes' };

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A store with one cube, and the database file's size (not the log's) once the cube exists. */
async function openWithCube(name: string, options: SqliteStoreOptions) {
  const file = path.join(tmp, name);
  const store = SqliteStore.open(file, options);
  await store.createCube('default', 'notes', { id: 'none', dimensions: 0 }, ctx());
  return { file, store, before: fs.statSync(file).size };
}

/** 300 distinct turns: a few hundred pages of log, far below any checkpoint threshold. */
const turns = () =>
  Array.from({ length: 300 }, (_, i) => rec(`turn ${i}: ${'some words about the day '.repeat(8)}`));

describe('SQLite write-ahead log checkpoints', () => {
  it('inline: the log keeps a small insert, the database file does not grow', async () => {
    const { file, store, before } = await openWithCube('inline.db', { checkpoints: 'inline' });
    try {
      await store.insertItems(scope, turns(), ctx());
      expect(fs.statSync(file).size).toBe(before);
      expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('background: a worker copies the same insert into the database file without another write', async () => {
    const { file, store, before } = await openWithCube('background.db', {});
    try {
      await store.insertItems(scope, turns(), ctx());
      // The worker's first look comes 100 ms after the insert starts it; allow a slow machine 10 s.
      for (let waited = 0; fs.statSync(file).size === before && waited < 10_000; waited += 50)
        await sleep(50);
      expect(fs.statSync(file).size).toBeGreaterThan(before);
    } finally {
      await store.close();
    }
  });

  it('close stops the worker first: the log is removed and every row reads back intact', async () => {
    const { file, store } = await openWithCube('closed.db', {});
    const ids = (await store.insertItems(scope, turns(), ctx())).map((o) => o.id);
    await store.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);

    const reopened = SqliteStore.open(file);
    try {
      expect(reopened.integrityCheck()).toBe('ok');
      const items = await reopened.getItems(scope, ids);
      expect(items.map((i) => i.id)).toEqual(ids);
      expect(items[299]?.content).toMatch(/^turn 299: /);
    } finally {
      await reopened.close();
    }
  });

  it('a worker that cannot open its file reports it, and stopping it after it has ended returns', async () => {
    let checkpointer: UpkeepThread | undefined;
    const failure = new Promise<Error>((resolve) => {
      const storeFile = path.join(tmp, 'missing', 'none.db');
      checkpointer = UpkeepThread.start(
        { storeFile, wordFile: `${storeFile}-words`, synchronous: 'FULL', sql: wordSql('store', 'main') },
        resolve,
      );
    });
    expect((await failure).message).toMatch(/unable to open|directory does not exist|no such file/i);
    // By now the thread has ended; a stop that waited for an exit still to come would never return.
    await sleep(200);
    await checkpointer?.stop();
  });

  it('a process that awaits close() and has nothing else pending runs on to its end (the built library)', () => {
    // The worker thread must hold the process open until it has stopped: a CLI command awaiting
    // close() would otherwise end early, with exit code 13, before the writer's connection closed.
    const file = path.join(tmp, 'exit.db');
    const library = pathToFileURL(path.resolve('dist/index.js')).href;
    const script = `
      import { MemoryOS } from ${JSON.stringify(library)};
      const memory = await MemoryOS.open({ path: ${JSON.stringify(file)}, embedder: 'none' });
      const cube = await memory.cube('notes');
      await cube.add(Array.from({ length: 150 }, (_, i) => ({ content: 'message ' + i })), { sessionId: 's' });
      await memory.close();
      process.stdout.write('closed');
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('closed');
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });
});
