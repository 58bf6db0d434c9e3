import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoResult } from '../../src/cli/demo.js';
import type { CubeInfo } from '../../src/core/types.js';
import type { CubeStats } from '../../src/store/store.js';
import { CliSandbox, UUID_IN_TEXT } from './helpers.js';

describe('memcube demo', () => {
  let sb: CliSandbox;
  beforeAll(() => {
    sb = new CliSandbox();
  });
  afterAll(() => sb.cleanup());

  it('runs in memory with the default (local) embedder and writes no file', () => {
    const cwd = sb.path('cwd');
    fs.mkdirSync(cwd);
    const result = sb.run(['demo'], { db: null, embedder: null, cwd });
    expect(result.status, result.stderr).toBe(0);
    const out = result.stdout;

    expect(out).toContain('memcube demo — database :memory:, embedder local:use-lite');
    expect(out).toMatch(/^Ingested \d+ turns from 3 sessions into cube 'demo' in [\d.]+ s\.$/m);
    expect(out).toContain('search: "Where is Maya moving, and why?"');
    expect(out).toMatch(/^ 1\. score [\d.]+ {2}via /m);
    expect(out).toContain('I finally signed the lease');
    expect(out).toMatch(/^ {6}id [0-9a-f-]{36}$/m);
    expect(out).toContain(
      'context: "What should I know before planning a dinner with Maya?" (budget 300 tokens',
    );
    expect(out).toMatch(/^Relevant memories, oldest first/m);
    expect(out).toMatch(/^## \d{4}-\d\d-\d\d \(\w{3}\) · session /m);
    expect(out).toMatch(/^\[\d\d:\d\d\] Maya: .+ #[0-9a-f]{12}$/m);

    const history = /^update \+ history of ([0-9a-f-]{36}): the old version is kept$/m.exec(out);
    expect(history).not.toBeNull();
    expect(out).toMatch(/^v1 {2}add {6}\S+ {2}by cli:\S+ {2}\[active\]$/m);
    expect(out).toMatch(/^v2 {2}update {3}\S+ {2}by cli:\S+ {2}\[active\]$/m);
    expect(out).toContain('(Confirmed by her doctor: also allergic to amoxicillin.)');
    expect(new Set(out.match(UUID_IN_TEXT)).size).toBeGreaterThan(3);

    // Nothing in the working directory, nothing at the default database path under HOME.
    expect(fs.readdirSync(cwd)).toEqual([]);
    expect(fs.readdirSync(sb.home)).toEqual([]);
  });

  it('with --db keeps the demo cube in that file', () => {
    const db = sb.path('demo.db');
    const result = sb.run(['demo'], { db });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`database ${db}, embedder none`);
    expect(sb.json<CubeInfo[]>(['cubes'], { db }).map((c) => c.name)).toEqual(['demo']);
    const stats = sb.json<CubeStats>(['stats', '--cube', 'demo'], { db });
    expect(stats.sessions).toBe(3);
    expect(stats.versions).toBe(stats.items + 1);
  });

  it('--json gives what it did: the searches, the context and the edited memory with both versions', () => {
    const demo = sb.json<DemoResult>(['demo'], { db: null });
    expect(demo).toMatchObject({ database: ':memory:', embedder: 'none', cube: 'demo', sessions: 3 });
    expect(demo.searches.map((s) => s.query)).toEqual([
      'Where is Maya moving, and why?',
      'What is Biscuit afraid of?',
      'dietary restrictions and allergies',
    ]);
    expect(demo.searches[0]?.hits.length).toBeGreaterThan(0);
    expect(demo.context.pack.tokens).toBeLessThanOrEqual(300);
    expect(demo.update?.history.map((v) => v.operation)).toEqual(['add', 'update']);
    expect(demo.update?.history[1]?.content).toContain('also allergic to amoxicillin');
  });
});
