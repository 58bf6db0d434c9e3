import { afterAll, beforeAll } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { type PgliteServer, startPgliteServer } from '../helpers/pglite-server.js';
import { describeStoreConformance } from './conformance.js';

let pglite: PgliteServer;
let schemas = 0;

beforeAll(async () => {
  pglite = await startPgliteServer();
});

afterAll(async () => {
  await pglite?.stop();
});

describeStoreConformance('postgres (pglite)', async () =>
  PostgresStore.open({ connectionString: pglite.url, schema: `conformance_${++schemas}`, max: 1 }),
);
