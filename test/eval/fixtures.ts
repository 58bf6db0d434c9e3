import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigFile } from '../../src/core/config.js';
import { PLAIN_RETRIEVAL } from '../helpers/plain-retrieval.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LOCOMO_MINI = path.join(REPO_ROOT, 'test/fixtures/eval/locomo-mini.json');
export const LONGMEMEVAL_MINI = path.join(REPO_ROOT, 'test/fixtures/eval/longmemeval-mini.json');

/** The real benchmark data lives beside the repository, never inside it (licences). */
export const SHARED_DATASETS = path.resolve(REPO_ROOT, '../shared/datasets');
export const LOCOMO_DEV = path.join(SHARED_DATASETS, 'locomo/locomo_dev5.json');
export const LONGMEMEVAL_DEV = path.join(SHARED_DATASETS, 'longmemeval/longmemeval_s_dev100.json.gz');

/** True when `file` is absent, after printing why the test that needs it (`what`) is skipped. */
export function skipWithoutData(file: string, what: string): boolean {
  if (fs.existsSync(file)) return false;
  console.log(
    `skipping ${what}: ${file} is absent (the benchmark data sits in ../shared/datasets beside the repo)`,
  );
  return true;
}

/** Harness tests run memcube as plain BM25 over turns: see test/helpers/plain-retrieval.ts. */
export const PLAIN_LEXICAL: ConfigFile = PLAIN_RETRIEVAL;
