import type {
  AuditOperation,
  AuditRecord,
  CubeInfo,
  DerivedKeys,
  MemoryItem,
  MemoryKind,
  MemoryStatus,
  MemoryVersion,
  Role,
} from '../../core/types.js';
import type { StoredForm } from '../item-values.js';

export interface CubeRow {
  cube_key: number;
  tenant: string;
  name: string;
  embedder_id: string;
  dimensions: number;
  created_at: number;
}

/** One audit record to write; the store adds who, when, tenant and cube. */
export interface AuditEntry {
  itemId: string | null;
  operation: AuditOperation;
  versionBefore: number | null;
  versionAfter: number | null;
  details?: Record<string, unknown>;
}

export interface ItemRow {
  item_key: number;
  id: string;
  kind: string;
  content: string;
  index_text: string;
  index_context: string;
  index_keys: string;
  derived: string;
  role: string | null;
  speaker: string | null;
  user_id: string | null;
  agent_id: string | null;
  session_id: string | null;
  run_id: string | null;
  turn_index: number | null;
  created_at: number;
  updated_at: number;
  valid_from: number | null;
  valid_to: number | null;
  source_ids: string;
  tags: string;
  metadata: string;
  content_hash: string;
  status: string;
  version: number;
}

export interface VersionRow {
  item_id: string;
  version: number;
  operation: string;
  content: string;
  status: string;
  tags: string;
  metadata: string;
  valid_from: number | null;
  valid_to: number | null;
  changed_at: number;
  changed_by: string;
}

export interface AuditRow {
  audit_key: number;
  at: number;
  tenant: string;
  cube_name: string;
  item_id: string | null;
  operation: string;
  actor: string;
  version_before: number | null;
  version_after: number | null;
  details: string;
}

/**
 * Stored in `items.index_text` or `item_versions.content` for "the item's content" (schema 10):
 * an index text that is the content itself, or a version's content while it is the item's current
 * one. The store refuses empty content (`assertContent`), so the marker is unambiguous.
 */
export const SAME_AS_CONTENT = '';

/**
 * What a row does not store twice: the texts above, and `derived.context` when it is the row's
 * `index_context`. A bulk load writes a quarter fewer bytes; rows written in full before schema 10
 * are read as they are.
 */
export const COMPACT_FORM: StoredForm = {
  indexText: (content, text) => (text === content ? SAME_AS_CONTENT : text),
  derived: (derived, indexContext) => {
    if (derived.context !== indexContext) return JSON.stringify(derived);
    const { context: _stored, ...rest } = derived;
    return JSON.stringify(rest);
  },
};

/** The columns of a `VersionRow` but its id, over `item_versions` aliased `v`, the content in full. */
export const VERSION_COLUMNS_SQL = `v.version, v.operation,
  CASE v.content WHEN '${SAME_AS_CONTENT}' THEN (SELECT content FROM items WHERE item_key = v.item_key) ELSE v.content END AS content,
  v.status, v.tags, v.metadata, v.valid_from, v.valid_to, v.changed_at, v.changed_by`;

/** The `index_text` column of `items`, in full. */
export const INDEX_TEXT_SQL = `CASE index_text WHEN '${SAME_AS_CONTENT}' THEN content ELSE index_text END AS index_text`;

/** A row's index text in full. */
export const indexTextOf = (row: Pick<ItemRow, 'content' | 'index_text'>): string =>
  row.index_text === SAME_AS_CONTENT ? row.content : row.index_text;

/** A row's derived keys in full: a `context` left out is the row's `index_context`. */
export function derivedOf(row: Pick<ItemRow, 'derived' | 'index_context'>): DerivedKeys {
  const stored = JSON.parse(row.derived) as Omit<DerivedKeys, 'context'> &
    Partial<Pick<DerivedKeys, 'context'>>;
  return stored.context === undefined ? { ...stored, context: row.index_context } : (stored as DerivedKeys);
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
export const msOrNull = (value: string | null): number | null => (value === null ? null : Date.parse(value));

export const cubeInfo = (row: CubeRow): CubeInfo => ({
  name: row.name,
  tenant: row.tenant,
  embedderId: row.embedder_id,
  dimensions: row.dimensions,
  createdAt: iso(row.created_at),
});

export function rowToItem(row: ItemRow, cube: string): MemoryItem {
  return {
    id: row.id,
    cube,
    kind: row.kind as MemoryKind,
    content: row.content,
    role: row.role as Role | null,
    speaker: row.speaker,
    userId: row.user_id,
    agentId: row.agent_id,
    sessionId: row.session_id,
    runId: row.run_id,
    turnIndex: row.turn_index,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    validFrom: isoOrNull(row.valid_from),
    validTo: isoOrNull(row.valid_to),
    sourceIds: JSON.parse(row.source_ids) as string[],
    tags: JSON.parse(row.tags) as string[],
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    contentHash: row.content_hash,
    derived: derivedOf(row),
    status: row.status as MemoryStatus,
    version: row.version,
  };
}

export function rowToVersion(row: VersionRow): MemoryVersion {
  return {
    itemId: row.item_id,
    version: row.version,
    operation: row.operation as AuditOperation,
    content: row.content,
    status: row.status as MemoryStatus,
    tags: JSON.parse(row.tags) as string[],
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    validFrom: isoOrNull(row.valid_from),
    validTo: isoOrNull(row.valid_to),
    changedAt: iso(row.changed_at),
    changedBy: row.changed_by,
  };
}

export function rowToAudit(row: AuditRow): AuditRecord {
  return {
    id: row.audit_key,
    at: iso(row.at),
    tenant: row.tenant,
    cube: row.cube_name,
    itemId: row.item_id,
    operation: row.operation as AuditOperation,
    actor: row.actor,
    versionBefore: row.version_before,
    versionAfter: row.version_after,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

/** Float32Array ↔ little-endian float32 BLOB, the format sqlite-vec reads. */
export function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function blobToVector(blob: Buffer): Float32Array {
  // Copy: a Buffer's offset into its pool need not be 4-byte aligned.
  const out = new Float32Array(blob.byteLength / 4);
  new Uint8Array(out.buffer).set(blob);
  return out;
}
