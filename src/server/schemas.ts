import { z } from '@hono/zod-openapi';
import {
  addOptionsSchema,
  contextOptionsSchema,
  cubeNameSchema,
  instantSchema,
  isoInstantSchema,
  messageSchema,
  searchOptionsSchema,
  updatePatchSchema,
} from '../core/schemas.js';
import {
  AUDIT_OPERATIONS,
  AUDIT_ORDERS,
  MEMORY_KINDS,
  MEMORY_STATUSES,
  PERMISSIONS,
  ROLES,
} from '../core/types.js';

/** HTTP shapes. Request bodies reuse the library's strict schemas, so both validate alike. */

const permission = z.enum(PERMISSIONS);
const tenantId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'tenant ids use letters, digits, ".", "_" or "-"');

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    field: z.string().optional(),
    requestId: z.string().optional(),
  })
  .openapi('Problem');

export const memoryItemSchema = z
  .object({
    id: z.string(),
    cube: z.string(),
    kind: z.enum(MEMORY_KINDS),
    content: z.string(),
    role: z.enum(ROLES).nullable(),
    speaker: z.string().nullable(),
    userId: z.string().nullable(),
    agentId: z.string().nullable(),
    sessionId: z.string().nullable(),
    runId: z.string().nullable(),
    turnIndex: z.number().int().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    validFrom: z.string().nullable(),
    validTo: z.string().nullable(),
    sourceIds: z.array(z.string()),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    contentHash: z.string(),
    derived: z.object({
      dates: z.array(z.object({ text: z.string(), date: z.string() })),
      entities: z.array(z.string()),
      context: z.string().nullable(),
    }),
    status: z.enum(MEMORY_STATUSES),
    version: z.number().int(),
  })
  .openapi('MemoryItem');

export const memoryVersionSchema = z
  .object({
    itemId: z.string(),
    version: z.number().int(),
    operation: z.enum(AUDIT_OPERATIONS),
    content: z.string(),
    status: z.enum(MEMORY_STATUSES),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    validFrom: z.string().nullable(),
    validTo: z.string().nullable(),
    changedAt: z.string(),
    changedBy: z.string(),
  })
  .openapi('MemoryVersion');

const channelScore = z.object({ rank: z.number().int(), score: z.number() });
export const searchHitSchema = z
  .object({
    item: memoryItemSchema,
    score: z.number(),
    channels: z.object({
      lexical: channelScore.optional(),
      vector: channelScore.optional(),
      temporal: channelScore.optional(),
      related: channelScore.optional(),
      expansion: channelScore.optional(),
      speaker: channelScore.optional(),
      proximity: channelScore.optional(),
    }),
    focus: z
      .object({ subject: z.enum(['speaker', 'role']), name: z.string(), factor: z.number() })
      .optional()
      .openapi({
        description:
          "present when the subject focus lowered this hit: the query is about this speaker (or role), the hit is someone else's turn, its score × factor",
      }),
    asking: z.number().min(0).max(1).optional().openapi({
      description:
        'present when this hit, a turn of a chat between people that ends by asking a question, was lowered: its score × this factor (retrieval.askingTurnFactor)',
    }),
    ended: z.number().min(0).max(1).optional().openapi({
      description:
        'present when this hit was no longer true by the time the query is about (its validTo is at or before when it is asked, or the start of the time it names): its score × this factor (retrieval.endedFactor)',
    }),
    sessionBoost: z.number().min(1).optional().openapi({
      description:
        "present when this hit's session holds some of the best hits: its score × this factor, 1 + retrieval.sessionBoost × the session's strength (its three best fused scores) over the strongest session's",
    }),
    sessionTopicBoost: z.number().min(1).optional().openapi({
      description:
        "present when this hit's session has a user turn near the query in meaning: its score × this factor, 1 + retrieval.sessionTopicBoost × the session's topic score (1 for the nearest session)",
    }),
  })
  .openapi('SearchHit');

export const contextPackSchema = z
  .object({ text: z.string(), tokens: z.number().int() })
  .catchall(z.unknown())
  .openapi('ContextPack');

export const cubeSchema = z
  .object({
    ref: z.string().openapi({ description: '`name` for an own cube, `owner:name` for a shared one' }),
    name: z.string(),
    owner: z.string(),
    permission,
    embedderId: z.string(),
    dimensions: z.number().int(),
    createdAt: z.string(),
  })
  .openapi('Cube');

export const grantSchema = z
  .object({
    owner: z.string(),
    cube: z.string(),
    grantee: z.object({ kind: z.enum(['tenant', 'key']), id: z.string() }),
    permission,
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .openapi('Grant');

export const auditRecordSchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    tenant: z.string(),
    cube: z.string(),
    itemId: z.string().nullable(),
    operation: z.enum(AUDIT_OPERATIONS),
    actor: z.string(),
    versionBefore: z.number().int().nullable(),
    versionAfter: z.number().int().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('AuditRecord');

export const tenantSchema = z
  .object({ id: z.string(), name: z.string(), createdAt: z.string() })
  .openapi('Tenant');

export const apiKeySchema = z
  .object({
    id: z.string(),
    tenant: z.string(),
    name: z.string(),
    scopes: z.array(permission),
    cubes: z.array(z.string()).nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');

// Requests.

export const cubeParams = z.object({
  cube: z.string().openapi({ param: { name: 'cube', in: 'path' }, example: 'notes' }),
});
export const itemParams = cubeParams.extend({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, description: 'full id or short id' }),
});
export const grantParams = cubeParams.extend({
  kind: z.enum(['tenant', 'key']).openapi({ param: { name: 'kind', in: 'path' } }),
  grantee: z.string().openapi({ param: { name: 'grantee', in: 'path' } }),
});
export const keyParams = z.object({ keyId: z.string().openapi({ param: { name: 'keyId', in: 'path' } }) });

export const createCubeBody = z.strictObject({ name: cubeNameSchema });

export const addBody = addOptionsSchema
  .extend({
    /** One text to remember; or `messages`. */
    text: z.string().optional(),
    messages: z.array(messageSchema).optional(),
  })
  .refine((b) => (b.text === undefined) !== (b.messages === undefined), {
    message: 'give exactly one of text or messages',
    path: ['messages'],
  });

export const addResultSchema = z
  .object({
    ids: z.array(z.string()),
    items: z.array(z.object({ id: z.string(), created: z.boolean() })),
  })
  .openapi('AddResult');

export const updateBody = updatePatchSchema;
export const searchBody = searchOptionsSchema.extend({ query: z.string().max(10_000) });
export const contextBody = contextOptionsSchema.extend({ query: z.string().max(10_000) });
export const grantBody = z.strictObject({ permission }).openapi('GrantPermission');

const listFilter = {
  kinds: z.string().optional().openapi({ description: 'comma-separated kinds' }),
  statuses: z.string().optional().openapi({ description: 'comma-separated statuses (default active)' }),
  sessionIds: z.string().optional().openapi({ description: 'comma-separated session ids' }),
  speakers: z.string().optional().openapi({ description: 'comma-separated speakers' }),
  roles: z.string().optional().openapi({ description: 'comma-separated roles' }),
  tags: z.string().optional().openapi({ description: 'comma-separated tags (all must match)' }),
  userId: z.string().optional(),
  agentId: z.string().optional(),
  runId: z.string().optional(),
  from: z.string().optional().openapi({ description: 'event time at or after (ISO-8601)' }),
  to: z.string().optional().openapi({ description: 'event time before (ISO-8601)' }),
};
export const listQuery = z.strictObject({
  ...listFilter,
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().max(200).optional(),
  order: z.enum(['asc', 'desc']).default('asc'),
});
export const LIST_ARRAY_FIELDS = ['kinds', 'statuses', 'sessionIds', 'speakers', 'roles', 'tags'] as const;

export const auditQuery = z
  .strictObject({
    cube: z.string().optional().openapi({ description: 'only records of this cube, a deleted one too' }),
    item: z
      .string()
      .optional()
      .openapi({ description: 'only records of this item: its id or short id (last 12 hex digits)' }),
    key: z.string().optional().openapi({ description: 'only records written by this key id' }),
    from: isoInstantSchema
      .optional()
      .openapi({ description: 'only records from this time on (ISO-8601 date or date-time)' }),
    to: isoInstantSchema
      .optional()
      .openapi({ description: 'only records before this time (ISO-8601 date or date-time)' }),
    after: z.coerce
      .number()
      .int()
      .min(0)
      .optional()
      .openapi({ description: 'only records after this id (paging oldest first)' }),
    before: z.coerce
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: 'only records before this id (paging newest first)' }),
    order: z.enum(AUDIT_ORDERS).default('oldest').openapi({ description: 'oldest first, or newest first' }),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .superRefine(({ after, before }, ctx) => {
    // Bounds that cross hold nothing: refused, rather than answered as an empty page.
    if (after !== undefined && before !== undefined && before <= after) {
      ctx.addIssue({
        code: 'custom',
        path: ['before'],
        message: `${before} is not greater than after, ${after}; records are read after one id and before another`,
      });
    }
  });

export const createTenantBody = z
  .strictObject({ id: tenantId, name: z.string().min(1).max(256).optional() })
  .openapi('CreateTenant');

export const createKeyBody = z
  .strictObject({
    tenant: tenantId.optional().openapi({ description: 'required for the bootstrap admin key' }),
    name: z.string().min(1).max(256),
    scopes: z.array(permission).min(1),
    cubes: z.array(z.string().min(1).max(300)).min(1).optional(),
    expiresAt: instantSchema.optional().openapi({
      description: 'ISO-8601 date or date-time, or epoch milliseconds; the key is refused from then on',
    }),
  })
  .openapi('CreateKey');

export const createdKeySchema = z
  .object({ key: z.string().openapi({ description: 'shown once; store it now' }), record: apiKeySchema })
  .openapi('CreatedKey');
