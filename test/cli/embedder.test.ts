import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord, CubeInfo, SearchHit } from '../../src/core/types.js';
import type { CubeStats } from '../../src/store/store.js';
import { CliSandbox, expectMemcubeError, jsonl } from './helpers.js';

type Stats = CubeStats & { cube: CubeInfo };

/** These tests load the real offline model (USE-lite), the CLI's default embedder. */
describe('memcube with the local embedder', () => {
  let sb: CliSandbox;
  let ids: string[] = [];
  beforeAll(() => {
    sb = new CliSandbox();
  });
  afterAll(() => sb.cleanup());

  it('a lexical-only cube is opened lexical only by default, refuses --embedder local, until reembed switches it', async () => {
    const messages = [
      { content: 'I moved to Berlin last month' },
      { content: 'The recipe needs two cups of flour' },
      { content: 'My favourite sport is tennis' },
    ];
    ids = sb
      .ok(['add', '--file', '-'], { input: jsonl(messages) })
      .stdout.trim()
      .split('\n');
    expect(ids).toHaveLength(3);

    // Without --embedder, the cube's own (`none`) is used; asked for by name, the local model is refused.
    const plain = sb.json<SearchHit[]>(['search', 'Berlin'], { embedder: null });
    expect(plain.map((h) => [h.item.id, Object.keys(h.channels)])).toEqual([[ids[0], ['lexical']]]);
    expectMemcubeError(
      sb.run(['search', 'Berlin'], { embedder: 'local' }),
      "cube 'default' is embedded with 'none'",
      "'local:use-lite'",
      'memcube reembed',
    );

    const reembed = sb.run(['reembed', '--embedder', 'local'], { embedder: null });
    expect(reembed.status, reembed.stderr).toBe(0);
    expect(reembed.stdout).toBe("cube 'default' now uses local:use-lite\n");

    const [statsOut, auditOut, lexical] = await sb.runAll([
      [['stats', '--json'], { embedder: 'local' }],
      [['audit', '--json'], { embedder: 'local' }],
      [['search', 'Berlin']],
    ]);
    const stats = JSON.parse(statsOut?.stdout ?? '') as Stats;
    expect(stats.cube).toMatchObject({ embedderId: 'local:use-lite', dimensions: 512 });
    expect(stats.items).toBe(3);
    expect(stats.vectors).toBe(stats.items);
    expect((JSON.parse(auditOut?.stdout ?? '') as AuditRecord[]).at(-1)?.operation).toBe('reembed');

    // Now the lexical-only handle is the one refused.
    expectMemcubeError(
      lexical ?? { status: null, stdout: '', stderr: '' },
      "is embedded with 'local:use-lite'",
      'memcube reembed',
    );
  });

  it('search (default embedder) fuses the vector channel: a paraphrase with no shared word finds its memory', () => {
    const hits = sb.json<SearchHit[]>(['search', 'relocated', 'to', 'Germany'], { embedder: null });
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) expect(hit.channels.vector).toBeDefined();
    expect(hits[0]?.item.id).toBe(ids[0]);
    expect(hits[0]?.channels.vector?.rank).toBe(1);
    expect(hits[0]?.channels.lexical).toBeUndefined();

    // New memories added with the default embedder get vectors too.
    const added = sb.ok(['add', 'Baking bread at home is relaxing', '--speaker', 'Eve'], { embedder: null });
    const breadId = added.stdout.trim();
    const bread = sb.json<SearchHit[]>(['search', 'bread', '--limit', '2'], { embedder: null });
    expect(bread[0]?.item.id).toBe(breadId);
    expect(Object.keys(bread[0]?.channels ?? {}).sort()).toEqual(['lexical', 'vector']);
    expect(sb.json<Stats>(['stats'], { embedder: null }).vectors).toBe(4);
  });
});
