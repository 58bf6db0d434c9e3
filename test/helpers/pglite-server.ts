import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface PgliteServer {
  /** A `postgres://` URL for `pg` (and so for `PostgresStore.open`). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Real PostgreSQL with pgvector, in-process (PGlite, WebAssembly), served over the wire protocol
 * on a free local port so the store is tested through `pg` exactly as against a server.
 *
 * PGlite is one backend: pglite-socket multiplexes client connections onto it message by message,
 * keeping a transaction's messages together but not an unnamed statement's Parse/Bind/Execute
 * sequence. Two connections issuing queries at the same moment can therefore interleave, so stores
 * under test use a pool of one connection (`max: 1`); tests that open two stores use them in turn.
 */
export async function startPgliteServer(): Promise<PgliteServer> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  await server.start();
  return {
    url: `postgres://postgres:postgres@${server.getServerConn()}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
