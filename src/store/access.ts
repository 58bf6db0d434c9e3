import type { AuditOrder, AuditRecord, Permission } from '../core/types.js';
import type { CubeScope, WriteContext } from './store.js';

/**
 * Tenants, API keys and cube grants: what the server needs to authenticate a caller and decide
 * what it may see. Kept apart from `Store` so each backend implements it beside its item store.
 */
export interface TenantRecord {
  id: string;
  name: string;
  createdAt: string;
}

export interface ApiKeyRecord {
  id: string;
  tenant: string;
  name: string;
  scopes: Permission[];
  /** Cube references this key is limited to (`name` or `owner:name`); null = every cube it can reach. */
  cubes: string[] | null;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** A key as stored: the record and the SHA-256 of its secret, hex. Never leaves the server. */
export interface StoredApiKey extends ApiKeyRecord {
  secretHash: string;
}

export interface NewApiKey {
  id: string;
  tenant: string;
  name: string;
  scopes: Permission[];
  cubes: string[] | null;
  secretHash: string;
  /** Epoch milliseconds, or null for a key that does not expire. */
  expiresAt: number | null;
}

export type Grantee = { kind: 'tenant'; id: string } | { kind: 'key'; id: string };

export interface CubeGrant {
  /** The tenant that owns the cube. */
  owner: string;
  cube: string;
  grantee: Grantee;
  permission: Permission;
  createdAt: string;
  createdBy: string;
}

export interface TenantAuditQuery {
  cube?: string;
  itemId?: string;
  actor?: string;
  from?: number;
  to?: number;
  /** Only records after this audit id (for paging oldest first). */
  afterId?: number;
  /** Only records before this audit id (for paging newest first). */
  beforeId?: number;
  /** Oldest first (the default), or newest first. */
  order?: AuditOrder;
  limit: number;
}

export interface AccessStore {
  /** Creates a tenant; a conflict if it exists. */
  createTenant(id: string, name: string, ctx: WriteContext): Promise<TenantRecord>;
  getTenant(id: string): Promise<TenantRecord | null>;
  listTenants(): Promise<TenantRecord[]>;

  createKey(key: NewApiKey, ctx: WriteContext): Promise<ApiKeyRecord>;
  /** Any key by id, with its hash, whatever its state: the caller checks expiry and revocation. */
  findKey(id: string): Promise<StoredApiKey | null>;
  listKeys(tenant: string): Promise<ApiKeyRecord[]>;
  /** Revokes a key of this tenant; not found for another tenant's key; a conflict if already revoked. */
  revokeKey(tenant: string, id: string, ctx: WriteContext): Promise<ApiKeyRecord>;

  /** Grants (or changes) a grantee's permission on a cube; the cube must exist. */
  grant(scope: CubeScope, grantee: Grantee, permission: Permission, ctx: WriteContext): Promise<CubeGrant>;
  /** Removes a grant; not found when there is none. */
  revokeGrant(scope: CubeScope, grantee: Grantee, ctx: WriteContext): Promise<void>;
  listGrants(scope: CubeScope): Promise<CubeGrant[]>;
  /** Grants on other tenants' cubes given to this tenant or to this key. */
  grantsFor(tenant: string, keyId: string | null): Promise<CubeGrant[]>;

  /** The tenant's audit records (its cubes' and its tenant-level operations), oldest first. */
  listTenantAudit(tenant: string, query: TenantAuditQuery): Promise<AuditRecord[]>;
}
