import type { Permission } from '../core/types.js';
import type { ApiKeyRecord, CubeGrant, StoredApiKey, TenantRecord } from './access.js';
import { iso, isoOrNull } from './sqlite/rows.js';

/** Rows of the access tables as both stores read them: JSON as text, times as epoch ms. */
export interface TenantRow {
  id: string;
  name: string;
  created_at: number;
}

export interface KeyRow {
  id: string;
  tenant: string;
  name: string;
  secret_hash: string;
  scopes: string;
  cubes: string | null;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface GrantRow {
  owner: string;
  cube: string;
  grantee_kind: 'tenant' | 'key';
  grantee: string;
  permission: Permission;
  created_at: number;
  created_by: string;
}

export const keyRecord = (row: KeyRow): StoredApiKey => ({
  id: row.id,
  tenant: row.tenant,
  name: row.name,
  scopes: JSON.parse(row.scopes) as Permission[],
  cubes: row.cubes === null ? null : (JSON.parse(row.cubes) as string[]),
  createdAt: iso(row.created_at),
  createdBy: row.created_by,
  expiresAt: isoOrNull(row.expires_at),
  revokedAt: isoOrNull(row.revoked_at),
  secretHash: row.secret_hash,
});

export const publicKey = ({ secretHash: _, ...record }: StoredApiKey): ApiKeyRecord => record;

export const grantRecord = (row: GrantRow): CubeGrant => ({
  owner: row.owner,
  cube: row.cube,
  grantee: { kind: row.grantee_kind, id: row.grantee },
  permission: row.permission,
  createdAt: iso(row.created_at),
  createdBy: row.created_by,
});

/** Grant columns over `cube_grants g JOIN cubes c`. */
export const GRANT_COLUMNS = `c.tenant AS owner, c.name AS cube, g.grantee_kind, g.grantee, g.permission, g.created_at, g.created_by`;

export const tenantRecord = (row: TenantRow): TenantRecord => ({
  id: row.id,
  name: row.name,
  createdAt: iso(row.created_at),
});
