import { z } from 'zod';
import { AUDIT_ORDERS, MEMORY_KINDS, MEMORY_STATUSES, ROLES } from './types.js';

/** Identifiers users choose (session, speaker, user, tags): short, printable, one line. */
const label = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters');

/** Cube names end up in file names and URLs, so they are kept to a safe alphabet. */
export const cubeNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    'cube names are 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

/** The instants a JavaScript Date can hold (±100,000,000 days around 1970). */
const MAX_EPOCH_MS = 8.64e15;
const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

/**
 * Accepts an ISO-8601 date-time with a zone (`2024-05-03T10:00:00Z`, `...+02:00`), an ISO date
 * (`2024-05-03`, taken as UTC midnight), a Date or epoch milliseconds; yields epoch milliseconds.
 * Strings are checked strictly: a lenient parser would read "Meeting 5" as a date.
 */
function toInstant(value: string | Date | number, ctx: z.RefinementCtx): number {
  if (
    typeof value === 'string' &&
    !isoDateTime.safeParse(value).success &&
    !isoDate.safeParse(value).success
  ) {
    ctx.addIssue({
      code: 'custom',
      message: `not an ISO-8601 date or date-time with a zone: ${JSON.stringify(value)} (e.g. 2024-05-03T10:00:00Z)`,
    });
    return z.NEVER;
  }
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) {
    ctx.addIssue({ code: 'custom', message: `not a valid date/time: ${JSON.stringify(String(value))}` });
    return z.NEVER;
  }
  return ms;
}

export const instantSchema = z.union([z.string(), z.date(), z.number()]).transform(toInstant);

/** The same, for a time that can only come as text (a URL's query): an ISO-8601 string. */
export const isoInstantSchema = z.string().transform(toInstant);

/** Metadata is stored as JSON, so a value JSON cannot hold (a BigInt, a cycle) is refused up front. */
export const metadataSchema = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  try {
    JSON.stringify(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `must be JSON-serialisable (${(err as Error).message})` });
  }
});

export const messageSchema = z.strictObject({
  content: z.string(),
  role: z.enum(ROLES).default('user'),
  speaker: label.optional(),
  /** Message time; becomes the episode's event time. Defaults to now. */
  at: instantSchema.optional(),
  tags: z.array(label).max(64).optional(),
  metadata: metadataSchema.optional(),
});
export type MessageInput = z.input<typeof messageSchema>;

export const addOptionsSchema = z.strictObject({
  sessionId: label.optional(),
  userId: label.optional(),
  agentId: label.optional(),
  runId: label.optional(),
  /** Tags applied to every message of this call, in addition to each message's own. */
  tags: z.array(label).max(64).optional(),
  metadata: metadataSchema.optional(),
});
export type AddOptions = z.input<typeof addOptionsSchema>;

export const itemFilterSchema = z
  .strictObject({
    kinds: z.array(z.enum(MEMORY_KINDS)).min(1).optional(),
    statuses: z.array(z.enum(MEMORY_STATUSES)).min(1).optional(),
    sessionIds: z.array(label).min(1).optional(),
    speakers: z.array(label).min(1).optional(),
    roles: z.array(z.enum(ROLES)).min(1).optional(),
    userId: label.optional(),
    agentId: label.optional(),
    runId: label.optional(),
    tags: z.array(label).min(1).optional(),
    from: instantSchema.optional(),
    to: instantSchema.optional(),
  })
  // A window that ends where or before it starts holds nothing (`to` is exclusive): refused,
  // rather than answered empty as if nothing had happened then.
  .superRefine(({ from, to }, ctx) => {
    if (from !== undefined && to !== undefined && to <= from) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `${new Date(to).toISOString()} is not after the window's start, ${new Date(from).toISOString()}; a window holds the times from its start up to, not including, its end`,
      });
    }
  });

const channelsSchema = z
  .array(z.enum(['lexical', 'vector', 'temporal', 'related', 'expansion', 'speaker', 'proximity']))
  .min(1);

export const searchOptionsSchema = itemFilterSchema.extend({
  limit: z.number().int().min(1).max(1000).default(10),
  /** Which retrieval channels to use; defaults to every channel the cube supports. */
  channels: channelsSchema.optional(),
  /** When the question is asked: relative times in the query ("last week") resolve against it. Default now. */
  asOf: instantSchema.optional(),
});
export type SearchOptions = z.input<typeof searchOptionsSchema>;

export const contextOptionsSchema = itemFilterSchema.extend({
  tokenBudget: z.number().int().min(50).max(200_000).default(2000),
  /** How many ranked candidates are considered for packing. */
  candidates: z.number().int().min(1).max(1000).default(100),
  channels: channelsSchema.optional(),
  asOf: instantSchema.optional(),
});
export type ContextOptions = z.input<typeof contextOptionsSchema>;

export const updatePatchSchema = z
  .strictObject({
    content: z.string().optional(),
    tags: z.array(label).max(64).optional(),
    metadata: metadataSchema.optional(),
    validFrom: instantSchema.nullable().optional(),
    validTo: instantSchema.nullable().optional(),
  })
  .refine(
    (p) => Object.keys(p).length > 0,
    'an update needs at least one of content, tags, metadata, validFrom, validTo',
  );
export type UpdatePatch = z.input<typeof updatePatchSchema>;

/**
 * An audit query of one cube: its item, actor, record-id bounds (after / before), time window
 * (from / to) and order. Bounds that cross hold nothing, so they are refused rather than answered
 * as an empty page.
 */
export const auditQuerySchema = z
  .strictObject({
    itemId: z.string().optional(),
    actor: z.string().optional(),
    afterId: z.number().int().min(0).optional(),
    beforeId: z.number().int().min(1).optional(),
    from: instantSchema.optional(),
    to: instantSchema.optional(),
    order: z.enum(AUDIT_ORDERS).optional(),
    limit: z.number().int().min(1).max(100_000).optional(),
  })
  .superRefine(({ afterId, beforeId, from, to }, ctx) => {
    if (afterId !== undefined && beforeId !== undefined && beforeId <= afterId) {
      ctx.addIssue({
        code: 'custom',
        path: ['beforeId'],
        message: `${beforeId} is not greater than the lower bound, ${afterId}; records are read after one id and before another`,
      });
    }
    if (from !== undefined && to !== undefined && to <= from) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `${new Date(to).toISOString()} is not after the window's start, ${new Date(from).toISOString()}`,
      });
    }
  });
export type AuditQueryInput = z.input<typeof auditQuerySchema>;

/** The same for a tenant's audit: of one cube (`cube`, `owner:name` for a shared one) or of all. */
export const tenantAuditQuerySchema = auditQuerySchema.safeExtend({ cube: z.string().optional() });
export type TenantAuditQueryInput = z.input<typeof tenantAuditQuerySchema>;

export const listOptionsSchema = itemFilterSchema.extend({
  limit: z.number().int().min(1).max(10_000).default(50),
  cursor: z.string().max(200).optional(),
  order: z.enum(['asc', 'desc']).default('asc'),
});
export type ListOptions = z.input<typeof listOptionsSchema>;
