import { z } from 'zod';
import type { IngestConfig, LimitsConfig } from '../core/config.js';
import { InvalidInputError } from '../core/errors.js';
import { contentHash, newItemId } from '../core/ids.js';
import { type AddOptions, addOptionsSchema, type MessageInput, messageSchema } from '../core/schemas.js';
import { parseWith } from '../core/validate.js';
import { ANY_TIME, type NewItemRecord } from '../store/store.js';
import { contextOf, deriveKeys, type TurnText } from './derive/derive-keys.js';

export type AddInput = string | MessageInput | MessageInput[];

/** A validated episode, before its keys are derived. */
export type EpisodeDraft = Omit<NewItemRecord, 'embedding' | 'index' | 'derived'>;

/** An episode ready to be embedded and stored; `embedding` is filled in by the caller. */
export type IndexedEpisode = Omit<NewItemRecord, 'embedding'>;

function checkContent(content: string, field: string, limits: LimitsConfig): string {
  const trimmed = content.trim();
  if (trimmed === '')
    throw new InvalidInputError(`${field}: content is empty; give the text to remember`, field);
  if (content.length > limits.maxContentChars) {
    throw new InvalidInputError(
      `${field}: content is ${content.length} characters, over the limit of ${limits.maxContentChars}; split it into smaller messages or raise limits.maxContentChars`,
      field,
    );
  }
  return trimmed;
}

/** Validates one text content for an update; the same rules as `add`. */
export function validateContent(content: string, limits: LimitsConfig, field = 'content'): string {
  return checkContent(content, field, limits);
}

/**
 * Validates an `add` call and turns it into episode drafts. Throws before anything is written,
 * naming the first bad field (`messages[2].content`).
 */
export function draftEpisodes(
  input: AddInput,
  options: AddOptions | undefined,
  limits: LimitsConfig,
  now: number,
): EpisodeDraft[] {
  const raw: unknown[] =
    typeof input === 'string' ? [{ content: input }] : Array.isArray(input) ? input : [input];
  if (raw.length === 0)
    throw new InvalidInputError('messages: nothing to add; pass at least one message', 'messages');
  if (raw.length > limits.maxBatch) {
    throw new InvalidInputError(
      `messages: ${raw.length} messages in one call, over the limit of ${limits.maxBatch}; add them in batches`,
      'messages',
    );
  }
  const opts = parseWith(addOptionsSchema, options ?? {}, { root: 'options' });
  const messages = parseWith(z.array(messageSchema), raw, { root: 'messages' });
  return messages.map((m, i) => {
    const content = checkContent(m.content, `messages[${i}].content`, limits);
    const speaker = m.speaker ?? null;
    return {
      id: newItemId(),
      kind: 'episode',
      content,
      role: m.role,
      speaker,
      userId: opts.userId ?? null,
      agentId: opts.agentId ?? null,
      sessionId: opts.sessionId ?? null,
      runId: opts.runId ?? null,
      validFrom: m.at ?? now,
      validTo: null,
      dedupeWindow: dedupeWindow(m.at, opts.sessionId, now),
      sourceIds: [],
      tags: [...new Set([...(opts.tags ?? []), ...(m.tags ?? [])])],
      metadata: { ...opts.metadata, ...m.metadata },
      contentHash: contentHash(content),
    };
  });
}

/** How long a note without a session or a time is taken for a retry of the same note. */
const NOTE_RETRY_MS = 60 * 60 * 1000;

/**
 * The event times an identical memory may have to be this message sent again: the message's own
 * time if it gives one (said at another time, it is new evidence); any time within a session,
 * whose transcript may be sent again whole; and for a note without either, the last hour, so a
 * retry is stored once but "Took my vitamins." is kept each day.
 */
function dedupeWindow(
  at: number | undefined,
  sessionId: string | undefined,
  now: number,
): NewItemRecord['dedupeWindow'] {
  if (at !== undefined) return { from: at, to: at };
  return sessionId === undefined ? { from: now - NOTE_RETRY_MS, to: now } : ANY_TIME;
}

/**
 * The drafts with their context keys taken from `previous` (the session's last turns, read under
 * the session's write lock) and the drafts before each in the batch; the rest of their keys as
 * they were.
 */
export function withContextKeys(
  drafts: IndexedEpisode[],
  previous: readonly TurnText[],
  config: IngestConfig,
): IndexedEpisode[] {
  const before: TurnText[] = [...previous];
  return drafts.map((draft) => {
    const context = draft.sessionId === null ? null : contextOf(draft, before, config);
    before.push(draft);
    return {
      ...draft,
      derived: { ...draft.derived, context },
      index: { ...draft.index, context: context ?? '' },
    };
  });
}

/**
 * Each episode's index columns and the keys it holds by itself (its words, dates and entities),
 * with no context key yet: `withContextKeys` adds that from the turns before it.
 */
export function withOwnKeys(drafts: EpisodeDraft[], config: IngestConfig): IndexedEpisode[] {
  return drafts.map((draft) => ({
    ...draft,
    ...deriveKeys(draft, draft.validFrom ?? Date.now(), [], config),
  }));
}

/**
 * Derives each episode's index columns and keys. Within one call the messages are consecutive
 * turns of one session, so each message's context is the messages before it, after `previous`:
 * the session's last stored turns, oldest first.
 */
export function withDerivedKeys(
  drafts: EpisodeDraft[],
  previous: readonly TurnText[],
  config: IngestConfig,
): IndexedEpisode[] {
  return withContextKeys(withOwnKeys(drafts, config), previous, config);
}
