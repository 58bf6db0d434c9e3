/** Kinds of plaintext memory. `episode` is raw evidence; the rest are derived and point back to episodes. */
export const MEMORY_KINDS = [
  'episode',
  'fact',
  'preference',
  'event',
  'summary',
  'insight',
  'procedure',
  'profile',
] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

/** Lifecycle states (MemOS). Transitions are explicit, versioned and audited. */
export const MEMORY_STATUSES = [
  'pending',
  'active',
  'merged',
  'superseded',
  'archived',
  'expired',
  'frozen',
  'deleted',
] as const;
export type MemoryStatus = (typeof MEMORY_STATUSES)[number];

export const ROLES = ['user', 'assistant', 'system', 'tool'] as const;
export type Role = (typeof ROLES)[number];

export type Metadata = Record<string, unknown>;

/**
 * Keys memcube derives from an item at ingest, without an LLM, so that it can be found by more
 * than its literal words. Kept on the item so they can be inspected (`memcube get ID --json`).
 */
export interface DerivedKeys {
  /** Dates the text refers to ("yesterday", "last Friday"), resolved against the message time. */
  dates: Array<{ text: string; date: string; span?: 'month' | 'year' }>;
  /** Named entities and key noun phrases. */
  entities: string[];
  /** The preceding turn of the session, indexed with this one: "Yes, last Friday!" needs its question. */
  context: string | null;
}

export const NO_DERIVED_KEYS: DerivedKeys = { dates: [], entities: [], context: null };

/** One unit of plaintext memory as the library returns it. Times are ISO-8601 strings in UTC. */
export interface MemoryItem {
  id: string;
  cube: string;
  kind: MemoryKind;
  content: string;
  role: Role | null;
  speaker: string | null;
  userId: string | null;
  agentId: string | null;
  sessionId: string | null;
  runId: string | null;
  /** Position of the turn inside its session, from 0. */
  turnIndex: number | null;
  /** Record time: when memcube stored the first version. */
  createdAt: string;
  /** Record time of the current version. */
  updatedAt: string;
  /** Event time: when the thing happened (the message time for an episode). */
  validFrom: string | null;
  validTo: string | null;
  /** Provenance: the episodes a derived item came from. */
  sourceIds: string[];
  tags: string[];
  metadata: Metadata;
  /** sha256 of the content, hex. */
  contentHash: string;
  derived: DerivedKeys;
  status: MemoryStatus;
  version: number;
}

/** Who performed an operation; written to versions and the audit log. */
export interface Actor {
  id: string;
}

/** The order audit records are read in: by their ids, which grow with every record written. */
export const AUDIT_ORDERS = ['oldest', 'newest'] as const;
export type AuditOrder = (typeof AUDIT_ORDERS)[number];

export const AUDIT_OPERATIONS = [
  'add',
  'update',
  'delete',
  'restore',
  'import',
  'reembed',
  'create_cube',
  'delete_cube',
  'share',
  'unshare',
  'create_tenant',
  'create_key',
  'revoke_key',
] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

/** What a key or a grant allows, each level including the ones before it. */
export const PERMISSIONS = ['read', 'write', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A stored version of an item: the state after `operation` was applied. */
export interface MemoryVersion {
  itemId: string;
  version: number;
  operation: AuditOperation;
  content: string;
  status: MemoryStatus;
  tags: string[];
  metadata: Metadata;
  validFrom: string | null;
  validTo: string | null;
  changedAt: string;
  changedBy: string;
}

export interface AuditRecord {
  id: number;
  at: string;
  tenant: string;
  /** Empty for tenant-level operations (tenants, keys). */
  cube: string;
  itemId: string | null;
  operation: AuditOperation;
  actor: string;
  versionBefore: number | null;
  versionAfter: number | null;
  details: Metadata;
}

export interface CubeInfo {
  name: string;
  tenant: string;
  embedderId: string;
  dimensions: number;
  createdAt: string;
}

/** Filters shared by list, search and context. Every field narrows; absent fields do not. */
export interface ItemFilter {
  kinds?: MemoryKind[];
  /** Defaults to `['active']`. */
  statuses?: MemoryStatus[];
  sessionIds?: string[];
  speakers?: string[];
  roles?: Role[];
  userId?: string;
  agentId?: string;
  runId?: string;
  /** Items carrying every one of these tags. */
  tags?: string[];
  /** Event time (falling back to record time) at or after this instant. */
  from?: string;
  /** Event time (falling back to record time) before this instant. */
  to?: string;
}

export type ChannelName =
  | 'lexical'
  | 'vector'
  | 'temporal'
  | 'related'
  | 'expansion'
  | 'speaker'
  | 'proximity';

export interface ChannelScore {
  /** 1-based rank of the item in that channel's list. */
  rank: number;
  /** The channel's raw score: BM25 (higher is better) or cosine similarity. */
  score: number;
}

/**
 * The subject focus lowered a hit: the query is about this speaker (or, for `role`, about the
 * user asking), and the hit is someone else's turn, so its score was multiplied by `factor`.
 */
export interface SubjectFocus {
  subject: 'speaker' | 'role';
  name: string;
  factor: number;
}

export interface SearchHit {
  item: MemoryItem;
  /**
   * Fused score (`retrieval.fusion`), lifted by the proximity channel where it found the hit, then
   * multiplied by the factors below that are present.
   */
  score: number;
  channels: Partial<Record<ChannelName, ChannelScore>>;
  /** Present when the subject focus lowered this hit. */
  focus?: SubjectFocus;
  /** Present when the hit, a turn that ends by asking, was lowered: its score × this factor. */
  asking?: number;
  /**
   * Present when the hit was no longer true by the time the question is about (its `validTo`):
   * its score × this factor (`retrieval.endedFactor`).
   */
  ended?: number;
  /**
   * Present when the hit's session holds some of the best hits: its score × this factor, 1 +
   * `retrieval.sessionBoost` × the session's strength over the strongest session's.
   */
  sessionBoost?: number;
  /** Present when the hit's session has a user turn near the query in meaning: its score × this factor. */
  sessionTopicBoost?: number;
}

/** What moved a hit after fusion (`SearchHit`'s optional factors). */
export type HitFactors = Pick<SearchHit, 'focus' | 'asking' | 'ended' | 'sessionBoost' | 'sessionTopicBoost'>;

/** The factors present on `hit`, and no key for those absent, as every interface reports them. */
export function hitFactors(hit: HitFactors): HitFactors {
  return {
    ...(hit.focus ? { focus: hit.focus } : {}),
    ...(hit.asking === undefined ? {} : { asking: hit.asking }),
    ...(hit.ended === undefined ? {} : { ended: hit.ended }),
    ...(hit.sessionBoost === undefined ? {} : { sessionBoost: hit.sessionBoost }),
    ...(hit.sessionTopicBoost === undefined ? {} : { sessionTopicBoost: hit.sessionTopicBoost }),
  };
}
