import type { AuditRecord, MemoryItem, MemoryVersion, SearchHit } from '../core/types.js';
import type { CubeStats } from '../store/store.js';

const time = (iso: string | null): string => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : '—');

function who(item: MemoryItem): string {
  if (item.speaker) return item.role ? `${item.speaker} (${item.role})` : item.speaker;
  return item.role ?? item.kind;
}

/** One item as a reader wants it: when, who, where it came from, then the text. */
export function formatItem(item: MemoryItem): string {
  const where = [
    item.sessionId ? `session ${item.sessionId}` : null,
    item.turnIndex !== null ? `turn ${item.turnIndex}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  const flags = [
    item.status !== 'active' ? item.status : null,
    item.version > 1 ? `v${item.version}` : null,
    item.validTo ? `until ${time(item.validTo)}` : null,
    ...item.tags.map((t) => `#${t}`),
  ]
    .filter(Boolean)
    .join(' ');
  return [
    `${time(item.validFrom ?? item.createdAt)}  ${who(item)}${where ? `  [${where}]` : ''}${flags ? `  ${flags}` : ''}`,
    `  ${item.content}`,
    `  id ${item.id}`,
  ].join('\n');
}

export function formatHits(hits: SearchHit[]): string {
  if (hits.length === 0) return 'no matching memories';
  return hits
    .map((hit, i) => {
      const channels = Object.entries(hit.channels)
        .map(([name, c]) => `${name} #${c.rank} (${c.score.toFixed(3)})`)
        .join(', ');
      const focus = hit.focus ? `, ×${hit.focus.factor} (not ${hit.focus.name}'s)` : '';
      const asking = hit.asking === undefined ? '' : `, ×${hit.asking} (asks)`;
      const ended = hit.ended === undefined ? '' : `, ×${hit.ended} (no longer true)`;
      const session = hit.sessionBoost === undefined ? '' : `, ×${hit.sessionBoost.toFixed(2)} (session)`;
      const topic =
        hit.sessionTopicBoost === undefined ? '' : `, ×${hit.sessionTopicBoost.toFixed(2)} (session topic)`;
      return `${String(i + 1).padStart(2)}. score ${hit.score.toFixed(4)}  via ${channels}${focus}${asking}${ended}${session}${topic}\n${formatItem(
        hit.item,
      )
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n')}`;
    })
    .join('\n');
}

/** What to print for a context that packed nothing: memories may have matched and not fitted. */
export function emptyContextNote(omitted: number, budget: number): string {
  if (omitted === 0) return 'no matching memories';
  const memories = omitted === 1 ? 'memory' : 'memories';
  return `${omitted} matching ${memories}, none fits in ${budget} tokens: raise --budget`;
}

/** The tags and times a version set, against the version before it: a change of tags alone shows. */
function versionChanges(v: MemoryVersion, before: MemoryVersion | undefined): string[] {
  const tags = v.tags.join(', ');
  return [
    tags !== (before?.tags.join(', ') ?? '') ? (tags ? `tags ${tags}` : 'no tags') : null,
    v.validFrom !== (before?.validFrom ?? null) ? `event time ${time(v.validFrom)}` : null,
    v.validTo !== (before?.validTo ?? null) ? `until ${time(v.validTo)}` : null,
  ].filter((c): c is string => c !== null);
}

export function formatHistory(versions: MemoryVersion[]): string {
  return versions
    .map((v, i) => {
      const changes = versionChanges(v, versions[i - 1]);
      return [
        `v${v.version}  ${v.operation.padEnd(8)} ${v.changedAt}  by ${v.changedBy}  [${v.status}]`,
        `    ${v.content}`,
        ...(changes.length ? [`    ${changes.join(' · ')}`] : []),
      ].join('\n');
    })
    .join('\n');
}

export function formatAudit(records: AuditRecord[]): string {
  if (records.length === 0) return 'no audit records';
  return records
    .map(
      (r) =>
        `#${r.id}  ${r.at}  ${r.operation.padEnd(11)} ${r.actor}  ${r.itemId ?? '(cube)'}${r.versionAfter !== null ? `  v${r.versionBefore ?? '-'}→v${r.versionAfter}` : ''}`,
    )
    .join('\n');
}

export function formatStats(
  stats: CubeStats & { cube: { name: string; embedderId: string; dimensions: number } },
): string {
  const pairs = (record: Record<string, number | undefined>): string =>
    Object.entries(record)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '—';
  return [
    `cube       ${stats.cube.name}`,
    `embedder   ${stats.cube.embedderId}${stats.cube.dimensions ? ` (${stats.cube.dimensions}-d)` : ' (lexical only)'}`,
    `items      ${stats.items} (${pairs(stats.byStatus)})`,
    `kinds      ${pairs(stats.byKind)}`,
    `sessions   ${stats.sessions}`,
    `versions   ${stats.versions}`,
    `vectors    ${stats.vectors}`,
    `audit      ${stats.auditRecords} records`,
    `events     ${time(stats.firstEventAt)} → ${time(stats.lastEventAt)}`,
  ].join('\n');
}
