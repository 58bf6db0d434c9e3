import { z } from 'zod';
import { InvalidInputError } from '../core/errors.js';
import { AUDIT_OPERATIONS, MEMORY_KINDS, MEMORY_STATUSES, ROLES } from '../core/types.js';
import { formatPath } from '../core/validate.js';
import type { ItemBundle } from '../store/store.js';

/**
 * Version of the JSONL export format that export writes. Version 2 ends with an `end` line
 * counting what came before it, so a file cut short at a line boundary is refused; import also
 * takes version 1 files, which have none.
 */
export const EXPORT_FORMAT_VERSION = 2;

const isoString = z.iso.datetime({ offset: true });
const operation = z.enum(AUDIT_OPERATIONS);

const itemSchema = z.strictObject({
  id: z.uuid(),
  cube: z.string(),
  kind: z.enum(MEMORY_KINDS),
  content: z.string().min(1),
  role: z.enum(ROLES).nullable(),
  speaker: z.string().nullable(),
  userId: z.string().nullable(),
  agentId: z.string().nullable(),
  sessionId: z.string().nullable(),
  runId: z.string().nullable(),
  turnIndex: z.number().int().min(0).nullable(),
  createdAt: isoString,
  updatedAt: isoString,
  validFrom: isoString.nullable(),
  validTo: isoString.nullable(),
  sourceIds: z.array(z.string()),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
  derived: z.strictObject({
    dates: z.array(
      z.strictObject({ text: z.string(), date: z.iso.date(), span: z.enum(['month', 'year']).optional() }),
    ),
    entities: z.array(z.string()),
    context: z.string().nullable(),
  }),
  status: z.enum(MEMORY_STATUSES),
  version: z.number().int().min(1),
});

const versionSchema = z.strictObject({
  itemId: z.uuid(),
  version: z.number().int().min(1),
  operation,
  content: z.string(),
  status: z.enum(MEMORY_STATUSES),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  validFrom: isoString.nullable(),
  validTo: isoString.nullable(),
  changedAt: isoString,
  changedBy: z.string(),
});

const auditSchema = z.strictObject({
  id: z.number().int(),
  at: isoString,
  tenant: z.string(),
  cube: z.string(),
  itemId: z.string().nullable(),
  operation,
  actor: z.string(),
  versionBefore: z.number().int().nullable(),
  versionAfter: z.number().int().nullable(),
  details: z.record(z.string(), z.unknown()),
});

const lineSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('header'),
    format: z.literal('memcube-export'),
    version: z.union([z.literal(1), z.literal(EXPORT_FORMAT_VERSION)]),
    cube: z.strictObject({
      name: z.string(),
      embedderId: z.string(),
      dimensions: z.number().int().min(0),
      createdAt: isoString,
    }),
    exportedAt: isoString,
  }),
  z.strictObject({
    type: z.literal('item'),
    item: itemSchema,
    index: z.strictObject({ text: z.string().min(1), context: z.string(), keys: z.string() }),
    versions: z.array(versionSchema).min(1),
  }),
  z.strictObject({ type: z.literal('audit'), record: auditSchema }),
  z.strictObject({
    type: z.literal('end'),
    items: z.number().int().min(0),
    auditRecords: z.number().int().min(0),
  }),
]);

export type ExportLine = z.infer<typeof lineSchema>;
export type ExportHeader = Extract<ExportLine, { type: 'header' }>;
export type AuditLine = Extract<ExportLine, { type: 'audit' }>;
export type EndLine = Extract<ExportLine, { type: 'end' }>;

export interface ParsedExport {
  header: ExportHeader;
  bundles: ItemBundle[];
  audit: AuditLine['record'][];
}

/** A history must be versions 1..n of this very item, n being the item's current version. */
function checkHistory(
  itemId: string,
  current: number,
  versions: Array<{ itemId: string; version: number }>,
  lineNo: number,
): void {
  versions.forEach((v, i) => {
    if (v.itemId !== itemId) {
      throw new InvalidInputError(
        `line ${lineNo}: the history of item ${itemId} holds version ${v.version} of another item (${v.itemId})`,
        `line ${lineNo}`,
      );
    }
    if (v.version !== i + 1) {
      throw new InvalidInputError(
        `line ${lineNo}: the history of item ${itemId} must be versions 1..n in order; found ${v.version} in position ${i + 1}`,
        `line ${lineNo}`,
      );
    }
  });
  if (versions.length !== current) {
    throw new InvalidInputError(
      `line ${lineNo}: item ${itemId} is at version ${current} but its history ends at ${versions.length}`,
      `line ${lineNo}`,
    );
  }
}

/** Parses a whole export, checking every line before anything is written; errors name the line. */
export function parseExport(lines: Iterable<string>): ParsedExport {
  let header: ExportHeader | undefined;
  let end: EndLine | undefined;
  const bundles: ItemBundle[] = [];
  const audit: AuditLine['record'][] = [];
  const seen = new Set<string>();
  let lineNo = 0;
  // A line that is not JSON is told once the next line shows whether it was the last: a file cut
  // in the middle of its last line says so.
  let unreadable: string | undefined;
  for (const raw of lines) {
    lineNo++;
    if (raw.trim() === '') continue;
    if (unreadable) throw new InvalidInputError(`${unreadable}: not valid JSON`, unreadable);
    const at = `line ${lineNo}`;
    if (end) throw new InvalidInputError(`${at}: a line after the end line; the export ends there`, at);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      if (!header) {
        throw new InvalidInputError(`${at}: not a memcube export (its first line is not JSON)`, at);
      }
      unreadable = at;
      continue;
    }
    const parsed = lineSchema.safeParse(json);
    if (!parsed.success && !header) {
      // The first line that is no export line says what the file is not, not which field is off.
      throw new InvalidInputError(
        `${at}: not a memcube export (its first line must be the header memcube export writes)`,
        at,
      );
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? formatPath(issue.path) : '';
      throw new InvalidInputError(
        `${at}: ${where ? `${where}: ` : ''}${issue?.message ?? 'invalid line'}`,
        at,
      );
    }
    const line = parsed.data;
    if (line.type === 'header') {
      if (header) throw new InvalidInputError(`${at}: a second header line`, at);
      header = line;
      continue;
    }
    if (!header) throw new InvalidInputError(`${at}: the first line must be the export header`, at);
    if (line.type === 'item') {
      if (seen.has(line.item.id))
        throw new InvalidInputError(`${at}: item ${line.item.id} appears twice`, at);
      seen.add(line.item.id);
      checkHistory(line.item.id, line.item.version, line.versions, lineNo);
      bundles.push({ item: line.item, index: line.index, versions: line.versions });
    } else if (line.type === 'audit') {
      audit.push(line.record);
    } else {
      if (line.items !== bundles.length || line.auditRecords !== audit.length) {
        throw new InvalidInputError(
          `${at}: the end line counts ${line.items} items and ${line.auditRecords} audit records, but the file holds ${bundles.length} and ${audit.length}`,
          at,
        );
      }
      end = line;
    }
  }
  if (unreadable) {
    throw new InvalidInputError(
      `${unreadable}: the file ends in the middle of this line (not valid JSON): it was cut short; export the cube again`,
      unreadable,
    );
  }
  if (!header) throw new InvalidInputError('the file is empty: no export header', 'line 1');
  if (header.version >= 2 && !end) {
    // Version 2 writes its end line last: without it the file was cut short, at a line's end.
    throw new InvalidInputError(
      `line ${lineNo}: the file ends without the end line memcube export writes last (after ${bundles.length} items and ${audit.length} audit records): it was cut short; export the cube again`,
      `line ${lineNo}`,
    );
  }
  return { header, bundles, audit };
}
