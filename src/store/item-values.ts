import type { DerivedKeys, Role } from '../core/types.js';
import { msOrNull } from './sqlite/rows.js';
import type { IndexFields, ItemBundle, ItemOrigin, NewItemRecord } from './store.js';

/** How a store writes the columns that may repeat others; `AS_GIVEN` writes them in full. */
export interface StoredForm {
  indexText(content: string, text: string): string;
  derived(derived: DerivedKeys, indexContext: string): string;
}

export const AS_GIVEN: StoredForm = {
  indexText: (_content, text) => text,
  derived: (derived) => JSON.stringify(derived),
};

/** The `items` columns both stores insert, in the order of the value lists below. */
export const ITEM_INSERT_COLUMNS = `id, cube_key, kind, content, index_text, index_context, index_keys, derived, role,
  speaker, user_id, agent_id, session_id, run_id, turn_index, created_at, updated_at, valid_from, valid_to, source_ids,
  tags, metadata, content_hash, status, version`;

/** `$1, $2, ...` or `?, ?, ...` for the columns above. */
export const itemPlaceholders = (style: 'numbered' | 'question'): string =>
  Array.from({ length: 25 }, (_, i) => (style === 'numbered' ? `$${i + 1}` : '?')).join(', ');

/** The row of a brand-new item: version 1, active, recorded now. */
export function newItemValues(
  cubeKey: number,
  r: NewItemRecord,
  turnIndex: number | null,
  now: number,
  form: StoredForm = AS_GIVEN,
): unknown[] {
  return [
    r.id,
    cubeKey,
    r.kind,
    r.content,
    form.indexText(r.content, r.index.text),
    r.index.context,
    r.index.keys,
    form.derived(r.derived, r.index.context),
    r.role,
    r.speaker,
    r.userId,
    r.agentId,
    r.sessionId,
    r.runId,
    turnIndex,
    now,
    now,
    r.validFrom,
    r.validTo,
    JSON.stringify(r.sourceIds),
    JSON.stringify(r.tags),
    JSON.stringify(r.metadata),
    r.contentHash,
    'active',
    1,
  ];
}

/** The row of an imported item, exactly as exported. */
export function importedItemValues(
  cubeKey: number,
  item: ItemBundle['item'],
  index: IndexFields,
  form: StoredForm = AS_GIVEN,
): unknown[] {
  return [
    item.id,
    cubeKey,
    item.kind,
    item.content,
    form.indexText(item.content, index.text),
    index.context,
    index.keys,
    form.derived(item.derived, index.context),
    item.role,
    item.speaker,
    item.userId,
    item.agentId,
    item.sessionId,
    item.runId,
    item.turnIndex,
    Date.parse(item.createdAt),
    Date.parse(item.updatedAt),
    msOrNull(item.validFrom),
    msOrNull(item.validTo),
    JSON.stringify(item.sourceIds),
    JSON.stringify(item.tags),
    JSON.stringify(item.metadata),
    item.contentHash,
    item.status,
    item.version,
  ];
}

/**
 * The values of both stores' probe for an identical active memory that `r` restates: cube,
 * content hash, kind, session, role, speaker, the write's time (an ended memory takes no
 * restatement), and the dedupe window's ends.
 */
export function duplicateProbeValues(cubeKey: number, r: NewItemRecord, now: number): unknown[] {
  return [
    cubeKey,
    r.contentHash,
    r.kind,
    r.sessionId,
    r.role,
    r.speaker,
    now,
    r.dedupeWindow.from,
    r.dedupeWindow.to,
  ];
}

/** A row both stores' `originsOf` read (PostgreSQL's bigint end may come as text). */
export interface OriginRow {
  id: string;
  session: string | null;
  speaker: string | null;
  role: Role | null;
  endsAt: number | string | null;
}

/** The rows as origins: an end is there only for an item that has one. */
export function originsFromRows(rows: OriginRow[]): Map<string, ItemOrigin> {
  return new Map(
    rows.map((r) => [
      r.id,
      {
        session: r.session,
        speaker: r.speaker,
        role: r.role,
        ...(r.endsAt === null ? {} : { endsAt: Number(r.endsAt) }),
      },
    ]),
  );
}
