/**
 * How long a store's word index takes to build from its items: what opening a store takes after
 * its `-words` file is lost, or after the upgrade to schema 12 (which drops the old in-file index).
 * Works on a copy of FILE without its word file; prints the open (migrations included) and the
 * build, timed apart.
 *
 *   node dist/cli/main.js bench --sizes 100000 --keep --out /tmp/b
 *   npx tsx bench/word-rebuild.ts /tmp/b/databases/memcube-100000/memcube.db
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { wordFileOf } from '../src/store/sqlite/word-index.js';

const source = process.argv[2];
if (!source) throw new Error('usage: npx tsx bench/word-rebuild.ts FILE');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-word-rebuild-'));
const file = path.join(dir, 'memcube.db');
fs.copyFileSync(source, file);
try {
  const opening = performance.now();
  const store = SqliteStore.open(file);
  const opened = performance.now();
  await store.catchUpWordIndex();
  const built = performance.now();
  await store.close();
  const wordBytes = fs.statSync(wordFileOf(file)).size;
  const db = new Database(file, { readonly: true });
  const count = (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
  db.close();
  const seconds = (built - opened) / 1000;
  console.log(
    `open ${(opened - opening).toFixed(0)} ms; word index built in ${seconds.toFixed(2)} s ` +
      `(${count.toLocaleString('en')} items, ${Math.round(count / seconds).toLocaleString('en')} a second); ` +
      `word file ${(wordBytes / 2 ** 20).toFixed(0)} MB`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
