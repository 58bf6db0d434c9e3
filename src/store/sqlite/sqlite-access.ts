import type Database from 'better-sqlite3';
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
import type { CubeScope, WriteContext } from '../store.js';
import { selectAudit, writeAudit } from './audit.js';
import { iso } from './rows.js';

/** Tenants, keys and grants in the SQLite database of a `SqliteStore`, on its connection. */
export class SqliteAccessStore implements AccessStore {
  constructor(private readonly db: Database.Database) {}

  private cubeKey(scope: CubeScope): number {
    const row = this.db
      .prepare('SELECT cube_key FROM cubes WHERE tenant = ? AND name = ?')
      .get(scope.tenant, scope.cube) as { cube_key: number } | undefined;
    if (!row) throw new NotFoundError(`unknown cube '${scope.cube}'`);
    return row.cube_key;
  }

  async createTenant(id: string, name: string, ctx: WriteContext): Promise<TenantRecord> {
    return this.db
      .transaction(() => {
        if (this.db.prepare('SELECT 1 FROM tenants WHERE id = ?').get(id)) {
          throw new ConflictError(`tenant '${id}' already exists`);
        }
        this.db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)').run(id, name, ctx.now);
        writeAudit(
          this.db,
          { tenant: id, cubeKey: null, cubeName: '' },
          {
            itemId: null,
            operation: 'create_tenant',
            versionBefore: null,
            versionAfter: null,
            details: { name },
          },
          ctx,
        );
        return { id, name, createdAt: iso(ctx.now) };
      })
      .immediate();
  }

  async getTenant(id: string): Promise<TenantRecord | null> {
    const row = this.db.prepare('SELECT * FROM tenants WHERE id = ?').get(id) as TenantRow | undefined;
    return row ? tenantRecord(row) : null;
  }

  async listTenants(): Promise<TenantRecord[]> {
    const rows = this.db.prepare('SELECT * FROM tenants ORDER BY id').all() as TenantRow[];
    return rows.map(tenantRecord);
  }

  async createKey(key: NewApiKey, ctx: WriteContext): Promise<ApiKeyRecord> {
    return this.db
      .transaction(() => {
        this.db
          .prepare(
            `INSERT INTO api_keys (id, tenant, name, secret_hash, scopes, cubes, created_at, created_by, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            key.id,
            key.tenant,
            key.name,
            key.secretHash,
            JSON.stringify(key.scopes),
            key.cubes === null ? null : JSON.stringify(key.cubes),
            ctx.now,
            ctx.actor,
            key.expiresAt,
          );
        writeAudit(
          this.db,
          { tenant: key.tenant, cubeKey: null, cubeName: '' },
          {
            itemId: null,
            operation: 'create_key',
            versionBefore: null,
            versionAfter: null,
            details: { keyId: key.id, scopes: key.scopes, cubes: key.cubes },
          },
          ctx,
        );
        return publicKey(
          keyRecord(this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(key.id) as KeyRow),
        );
      })
      .immediate();
  }

  async findKey(id: string): Promise<StoredApiKey | null> {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as KeyRow | undefined;
    return row ? keyRecord(row) : null;
  }

  async listKeys(tenant: string): Promise<ApiKeyRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM api_keys WHERE tenant = ? ORDER BY created_at, id')
      .all(tenant) as KeyRow[];
    return rows.map((r) => publicKey(keyRecord(r)));
  }

  async revokeKey(tenant: string, id: string, ctx: WriteContext): Promise<ApiKeyRecord> {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ? AND tenant = ?').get(id, tenant) as
          | KeyRow
          | undefined;
        if (!row) throw new NotFoundError(`no key '${id}'`);
        if (row.revoked_at !== null) throw new ConflictError(`key '${id}' is already revoked`);
        this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(ctx.now, id);
        writeAudit(
          this.db,
          { tenant, cubeKey: null, cubeName: '' },
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
      })
      .immediate();
  }

  async grant(
    scope: CubeScope,
    grantee: Grantee,
    permission: Permission,
    ctx: WriteContext,
  ): Promise<CubeGrant> {
    return this.db
      .transaction(() => {
        const cubeKey = this.cubeKey(scope);
        this.db
          .prepare(
            `INSERT INTO cube_grants (cube_key, grantee_kind, grantee, permission, created_at, created_by)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (cube_key, grantee_kind, grantee) DO UPDATE SET permission = excluded.permission,
               created_at = excluded.created_at, created_by = excluded.created_by`,
          )
          .run(cubeKey, grantee.kind, grantee.id, permission, ctx.now, ctx.actor);
        writeAudit(
          this.db,
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
      })
      .immediate();
  }

  async revokeGrant(scope: CubeScope, grantee: Grantee, ctx: WriteContext): Promise<void> {
    this.db
      .transaction(() => {
        const cubeKey = this.cubeKey(scope);
        const { changes } = this.db
          .prepare('DELETE FROM cube_grants WHERE cube_key = ? AND grantee_kind = ? AND grantee = ?')
          .run(cubeKey, grantee.kind, grantee.id);
        if (changes === 0) {
          throw new NotFoundError(`cube '${scope.cube}' is not shared with ${grantee.kind} '${grantee.id}'`);
        }
        writeAudit(
          this.db,
          { tenant: scope.tenant, cubeKey, cubeName: scope.cube },
          {
            itemId: null,
            operation: 'unshare',
            versionBefore: null,
            versionAfter: null,
            details: { grantee },
          },
          ctx,
        );
      })
      .immediate();
  }

  async listGrants(scope: CubeScope): Promise<CubeGrant[]> {
    const cubeKey = this.cubeKey(scope);
    const rows = this.db
      .prepare(
        `SELECT ${GRANT_COLUMNS} FROM cube_grants g JOIN cubes c ON c.cube_key = g.cube_key
         WHERE g.cube_key = ? ORDER BY g.grantee_kind, g.grantee`,
      )
      .all(cubeKey) as GrantRow[];
    return rows.map(grantRecord);
  }

  async grantsFor(tenant: string, keyId: string | null): Promise<CubeGrant[]> {
    const rows = this.db
      .prepare(
        `SELECT ${GRANT_COLUMNS} FROM cube_grants g JOIN cubes c ON c.cube_key = g.cube_key
         WHERE c.tenant <> ? AND ((g.grantee_kind = 'tenant' AND g.grantee = ?) OR (g.grantee_kind = 'key' AND g.grantee = ?))
         ORDER BY c.tenant, c.name`,
      )
      .all(tenant, tenant, keyId) as GrantRow[];
    return rows.map(grantRecord);
  }

  async listTenantAudit(tenant: string, query: TenantAuditQuery): Promise<AuditRecord[]> {
    const { cube, ...filter } = query;
    return selectAudit(
      this.db,
      { column: 'tenant', value: tenant, ...(cube === undefined ? {} : { cubeName: cube }) },
      filter,
    );
  }
}
