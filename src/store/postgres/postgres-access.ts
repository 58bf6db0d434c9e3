import type pg from 'pg';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { AuditRecord, Permission } from '../../core/types.js';
import type {
  AccessStore,
  ApiKeyRecord,
  CubeGrant,
  Grantee,
  NewApiKey,
  StoredApiKey,
  TenantAuditQuery,
  TenantRecord,
} from '../access.js';
import {
  GRANT_COLUMNS,
  type GrantRow,
  grantRecord,
  type KeyRow,
  keyRecord,
  publicKey,
  type TenantRow,
  tenantRecord,
} from '../access-rows.js';
import type { AuditTarget } from '../audit-values.js';
import { iso } from '../sqlite/rows.js';
import type { CubeScope, WriteContext } from '../store.js';
import { selectAudit, writeAudit } from './audit.js';
import { type Db, query, transaction } from './sql.js';

/** Key columns in the shape the shared row mapper reads (JSON as text). */
const KEY_COLUMNS = `id, tenant, name, secret_hash, scopes::text AS scopes, cubes::text AS cubes, created_at,
  created_by, expires_at, revoked_at`;

const tenantLevel = (tenant: string): AuditTarget => ({ tenant, cubeKey: null, cubeName: '' });

/**
 * Tenants, keys and grants in the schema of a `PostgresStore`, on its pool. Like the store, it
 * keeps no state, so every server on the database sees a new key or grant at once.
 */
export class PostgresAccessStore implements AccessStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly s: string,
  ) {}

  private async cubeKey(db: Db, scope: CubeScope, lock = false): Promise<number> {
    // A grant change holds the cube: a concurrent deleteCube waits for it, or it finds no cube.
    const [row] = await query<{ cube_key: number }>(
      db,
      `SELECT cube_key FROM ${this.s}.cubes WHERE tenant = $1 AND name = $2${lock ? ' FOR KEY SHARE' : ''}`,
      [scope.tenant, scope.cube],
    );
    if (!row) throw new NotFoundError(`unknown cube '${scope.cube}'`);
    return row.cube_key;
  }

  async createTenant(id: string, name: string, ctx: WriteContext): Promise<TenantRecord> {
    return transaction(this.pool, async (client) => {
      const [row] = await query<TenantRow>(
        client,
        `INSERT INTO ${this.s}.tenants (id, name, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO NOTHING RETURNING *`,
        [id, name, ctx.now],
      );
      if (!row) throw new ConflictError(`tenant '${id}' already exists`);
      await writeAudit(
        client,
        this.s,
        tenantLevel(id),
        {
          itemId: null,
          operation: 'create_tenant',
          versionBefore: null,
          versionAfter: null,
          details: { name },
        },
        ctx,
      );
      return tenantRecord(row);
    });
  }

  async getTenant(id: string): Promise<TenantRecord | null> {
    const [row] = await query<TenantRow>(this.pool, `SELECT * FROM ${this.s}.tenants WHERE id = $1`, [id]);
    return row ? tenantRecord(row) : null;
  }

  async listTenants(): Promise<TenantRecord[]> {
    const rows = await query<TenantRow>(this.pool, `SELECT * FROM ${this.s}.tenants ORDER BY id`);
    return rows.map(tenantRecord);
  }

  async createKey(key: NewApiKey, ctx: WriteContext): Promise<ApiKeyRecord> {
    return transaction(this.pool, async (client) => {
      const [row] = await query<KeyRow>(
        client,
        `INSERT INTO ${this.s}.api_keys (id, tenant, name, secret_hash, scopes, cubes, created_at, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${KEY_COLUMNS}`,
        [
          key.id,
          key.tenant,
          key.name,
          key.secretHash,
          JSON.stringify(key.scopes),
          key.cubes === null ? null : JSON.stringify(key.cubes),
          ctx.now,
          ctx.actor,
          key.expiresAt,
        ],
      );
      await writeAudit(
        client,
        this.s,
        tenantLevel(key.tenant),
        {
          itemId: null,
          operation: 'create_key',
          versionBefore: null,
          versionAfter: null,
          details: { keyId: key.id, scopes: key.scopes, cubes: key.cubes },
        },
        ctx,
      );
      return publicKey(keyRecord(row as KeyRow));
    });
  }

  async findKey(id: string): Promise<StoredApiKey | null> {
    const [row] = await query<KeyRow>(
      this.pool,
      `SELECT ${KEY_COLUMNS} FROM ${this.s}.api_keys WHERE id = $1`,
      [id],
    );
    return row ? keyRecord(row) : null;
  }

  async listKeys(tenant: string): Promise<ApiKeyRecord[]> {
    const rows = await query<KeyRow>(
      this.pool,
      `SELECT ${KEY_COLUMNS} FROM ${this.s}.api_keys WHERE tenant = $1 ORDER BY created_at, id`,
      [tenant],
    );
    return rows.map((r) => publicKey(keyRecord(r)));
  }

  async revokeKey(tenant: string, id: string, ctx: WriteContext): Promise<ApiKeyRecord> {
    return transaction(this.pool, async (client) => {
      // Locked, so two revocations at once give one success and one conflict.
      const [row] = await query<KeyRow>(
        client,
        `SELECT ${KEY_COLUMNS} FROM ${this.s}.api_keys WHERE id = $1 AND tenant = $2 FOR UPDATE`,
        [id, tenant],
      );
      if (!row) throw new NotFoundError(`no key '${id}'`);
      if (row.revoked_at !== null) throw new ConflictError(`key '${id}' is already revoked`);
      await query(client, `UPDATE ${this.s}.api_keys SET revoked_at = $1 WHERE id = $2 AND tenant = $3`, [
        ctx.now,
        id,
        tenant,
      ]);
      await writeAudit(
        client,
        this.s,
        tenantLevel(tenant),
        {
          itemId: null,
          operation: 'revoke_key',
          versionBefore: null,
          versionAfter: null,
          details: { keyId: id },
        },
        ctx,
      );
      return publicKey(keyRecord({ ...row, revoked_at: ctx.now }));
    });
  }

  async grant(
    scope: CubeScope,
    grantee: Grantee,
    permission: Permission,
    ctx: WriteContext,
  ): Promise<CubeGrant> {
    return transaction(this.pool, async (client) => {
      const cubeKey = await this.cubeKey(client, scope, true);
      await query(
        client,
        `INSERT INTO ${this.s}.cube_grants (cube_key, grantee_kind, grantee, permission, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (cube_key, grantee_kind, grantee) DO UPDATE SET permission = excluded.permission,
           created_at = excluded.created_at, created_by = excluded.created_by`,
        [cubeKey, grantee.kind, grantee.id, permission, ctx.now, ctx.actor],
      );
      await writeAudit(
        client,
        this.s,
        { tenant: scope.tenant, cubeKey, cubeName: scope.cube },
        {
          itemId: null,
          operation: 'share',
          versionBefore: null,
          versionAfter: null,
          details: { grantee, permission },
        },
        ctx,
      );
      return {
        owner: scope.tenant,
        cube: scope.cube,
        grantee,
        permission,
        createdAt: iso(ctx.now),
        createdBy: ctx.actor,
      };
    });
  }

  async revokeGrant(scope: CubeScope, grantee: Grantee, ctx: WriteContext): Promise<void> {
    await transaction(this.pool, async (client) => {
      const cubeKey = await this.cubeKey(client, scope, true);
      const removed = await query(
        client,
        `DELETE FROM ${this.s}.cube_grants WHERE cube_key = $1 AND grantee_kind = $2 AND grantee = $3 RETURNING 1`,
        [cubeKey, grantee.kind, grantee.id],
      );
      if (removed.length === 0) {
        throw new NotFoundError(`cube '${scope.cube}' is not shared with ${grantee.kind} '${grantee.id}'`);
      }
      await writeAudit(
        client,
        this.s,
        { tenant: scope.tenant, cubeKey, cubeName: scope.cube },
        { itemId: null, operation: 'unshare', versionBefore: null, versionAfter: null, details: { grantee } },
        ctx,
      );
    });
  }

  async listGrants(scope: CubeScope): Promise<CubeGrant[]> {
    const rows = await query<GrantRow>(
      this.pool,
      `SELECT ${GRANT_COLUMNS} FROM ${this.s}.cube_grants g JOIN ${this.s}.cubes c ON c.cube_key = g.cube_key
       WHERE c.tenant = $1 AND c.name = $2 ORDER BY g.grantee_kind, g.grantee`,
      [scope.tenant, scope.cube],
    );
    // No grants and no cube look alike here; only the latter is an error.
    if (rows.length === 0) await this.cubeKey(this.pool, scope);
    return rows.map(grantRecord);
  }

  async grantsFor(tenant: string, keyId: string | null): Promise<CubeGrant[]> {
    const rows = await query<GrantRow>(
      this.pool,
      `SELECT ${GRANT_COLUMNS} FROM ${this.s}.cube_grants g JOIN ${this.s}.cubes c ON c.cube_key = g.cube_key
       WHERE c.tenant <> $1 AND ((g.grantee_kind = 'tenant' AND g.grantee = $1) OR (g.grantee_kind = 'key' AND g.grantee = $2))
       ORDER BY c.tenant, c.name`,
      [tenant, keyId],
    );
    return rows.map(grantRecord);
  }

  async listTenantAudit(tenant: string, query: TenantAuditQuery): Promise<AuditRecord[]> {
    const { cube, ...filter } = query;
    return selectAudit(
      this.pool,
      this.s,
      { column: 'tenant', value: tenant, ...(cube === undefined ? {} : { cubeName: cube }) },
      filter,
    );
  }
}
