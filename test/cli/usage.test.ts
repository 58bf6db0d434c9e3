import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import {
  CLI,
  type CliResult,
  CliSandbox,
  expectMemcubeError,
  expectMemcubeUsageError,
  expectUsageError,
  ROOT,
} from './helpers.js';

const none: CliResult = { status: null, stdout: '', stderr: '' };

describe('memcube usage, help and error exits', () => {
  let sb: CliSandbox;
  beforeAll(() => {
    sb = new CliSandbox();
  });
  afterAll(() => sb.cleanup());

  it('--help prints usage, every command and the exit codes (exit 0); --version the package version', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const [help, addHelp, versionOut] = await sb.runAll([
      [['--help']],
      [['add', '--help']],
      [['--version'], { db: null, embedder: null }],
    ]);
    expect(help?.status).toBe(0);
    expect(help?.stdout).toMatch(/^Usage: memcube \[options\] \[command\]/);
    for (const command of [
      'add',
      'update',
      'search',
      'context',
      'list',
      'get',
      'history',
      'delete',
      'restore',
      'export',
    ]) {
      expect(help?.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
    for (const command of ['import', 'stats', 'cubes', 'audit', 'reembed', 'demo']) {
      expect(help?.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
    expect(help?.stdout).toContain('Exit codes: 0 success; 1 the work failed');

    expect(addHelp?.status).toBe(0);
    expect(addHelp?.stdout).toContain('Usage: memcube add [options] [text...]');
    expect(addHelp?.stdout).toContain('--file <path>');

    expect(versionOut?.status).toBe(0);
    expect(versionOut?.stdout).toBe(`${version}\n`);
  });

  it('a reader that closes the pipe early ends the command quietly (exit 0, no stack trace)', () => {
    // `true` exits without reading, long before Node has started, so every write meets a closed pipe.
    const script = '"$0" "$1" --help | true; echo "exit $PIPESTATUS" >&2';
    const shell = spawnSync('bash', ['-c', script, process.execPath, CLI], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(shell.stderr).toBe('exit 0\n');
  });

  it('usage errors exit 2 before touching the database', async () => {
    const [unknownCommand, zero, notANumber, badRole, unknownOption, missingQuery, badTenant] =
      await sb.runAll([
        [['frobnicate']],
        [['search', 'x', '--limit', '0']],
        [['list', '--limit', 'many']],
        [['add', 'hi', '--role', 'king']],
        [['--frob', 'cubes']],
        [['search']],
        [['list', '--cube', 'bad tenant!:notes']],
      ]);
    expectMemcubeUsageError(badTenant ?? none, '--cube: "bad tenant!:notes": tenant ids use letters');
    expectUsageError(unknownCommand ?? none, "unknown command 'frobnicate'");
    expectUsageError(zero ?? none, "option '-n, --limit <n>' argument '0' is invalid");
    expectUsageError(zero ?? none, 'expected a positive whole number');
    expectUsageError(notANumber ?? none, 'expected a positive whole number');
    expectUsageError(badRole ?? none, 'Allowed choices are user, assistant, system, tool');
    expectUsageError(unknownOption ?? none, "unknown option '--frob'");
    expectMemcubeUsageError(missingQuery ?? none, 'missing the query: give it first');
    expect(fs.existsSync(sb.db)).toBe(false);
  });

  it('an unknown cube is an error (exit 1) that lists the cubes there are', async () => {
    // A command that only reads creates no database where there is none (a mistyped --db).
    expectMemcubeError(sb.run(['search', 'anything', '--cube', 'nope']), `no database at '${sb.db}'`);
    // Nor does one that changes what is stored.
    const someId = '01a1fb26-0000-7000-8000-000000000000';
    expectMemcubeError(sb.run(['update', someId, 'new text']), `no database at '${sb.db}'`);
    expectMemcubeError(sb.run(['delete', someId]), 'only add, import and demo create one');
    expect(sb.ok(['cubes']).stdout).toBe('no cubes\n');
    expect(fs.existsSync(sb.db)).toBe(false);
    sb.ok(['add', 'something to find']);
    const [search, stats, badName] = await sb.runAll([
      [['search', 'anything', '--cube', 'nope']],
      [['stats', '--cube', 'nope']],
      [['search', 'anything', '--cube', 'bad name!']],
    ]);
    expectMemcubeError(search ?? none, "unknown cube 'nope'", 'cubes: default');
    expectMemcubeError(stats ?? none, "unknown cube 'nope'");
    // A name no cube can have is a command line to fix, refused before the database is read.
    expectMemcubeUsageError(badName ?? none, '--cube: "bad name!": cube names are 1-128 characters');
  });

  it('a bad MEMCUBE_CUBE is named for the commands that work in a cube, and holds up no other', () => {
    const env = { MEMCUBE_CUBE: 'bad name!' };
    expectMemcubeUsageError(sb.run(['stats'], { env }), 'MEMCUBE_CUBE: "bad name!": cube names are');
    expect(sb.run(['--help'], { env }).status).toBe(0);
    expect(sb.run(['cubes'], { env }).status).toBe(0);
  });

  it('a mistyped config key is named with the key it is nearest to', () => {
    const file = sb.file('typo.json', JSON.stringify({ retrieval: { neighbourRadious: 1 } }));
    expectMemcubeError(
      sb.run(['--config', file, 'stats']),
      "invalid config: unknown field 'config.retrieval.neighbourRadious' (did you mean 'neighbourRadius'?)",
    );
  });

  it('a setting a config file does not take says which flag gives it', () => {
    const file = sb.file('embedder.json', JSON.stringify({ embedder: 'none', retrieval: {} }));
    expectMemcubeError(
      sb.run(['--config', file, 'stats']),
      'invalid config: config.embedder is not set in a config file: give it with --embedder (or $MEMCUBE_EMBEDDER)',
    );
  });

  it('a malformed id and an unknown embedder are command lines to fix (exit 2), naming the id', async () => {
    const [get, history, embedder] = await sb.runAll([
      [['get', '12345']],
      [['history', 'nope']],
      [['--embedder', 'bogus', 'stats'], { embedder: null }],
    ]);
    expectMemcubeUsageError(get ?? none, "id: '12345' is not a memory id");
    expectMemcubeUsageError(history ?? none, "id: 'nope'");
    expect(embedder?.status).not.toBe(0);
    expect(embedder?.stdout).toBe('');
    expect(embedder?.status).toBe(2);
    expect(embedder?.stderr).toContain("argument 'bogus' is invalid");
  });

  it("the library's limits are named by their flags; a variadic option's note says to put the text first", async () => {
    const [budget, limit, from, tagged, audit] = await sb.runAll([
      [['context', 'x', '--budget', '5']],
      [['list', '--limit', '100000']],
      [['list', '--from', 'notadate']],
      [['add', '--tag', 'misc', 'Dave owns a red bicycle']],
      [['audit', '--item', 'garbage']],
    ]);
    // A flag's value the engine refuses exits 2, as one commander refuses does (`--limit 0`).
    expectMemcubeUsageError(budget ?? none, '--budget: at least 50 (got 5)');
    expectMemcubeUsageError(limit ?? none, '--limit: at most 10000 (got 100000)');
    expectMemcubeUsageError(from ?? none, '--from: not an ISO-8601 date');
    expectMemcubeUsageError(
      tagged ?? none,
      'nothing to add',
      'put the text first, or end the options with --',
    );
    expectMemcubeUsageError(audit ?? none, "id: 'garbage' is not a memory id");
  });

  it('a folder or a file of another kind as --db is an error naming it, and the file is left as it was', async () => {
    const folder = sb.path('a-folder');
    fs.mkdirSync(folder);
    const notes = sb.path('notes.json');
    fs.writeFileSync(notes, '{"a": 1}');
    const [onFolder, onNotes] = await sb.runAll([
      [['stats'], { db: folder }],
      [['stats'], { db: notes }],
    ]);
    expectMemcubeError(onFolder ?? none, `cannot open the database '${folder}'`);
    expectMemcubeError(onNotes ?? none, `'${notes}' is not a memcube database`);
    expect(fs.readFileSync(notes, 'utf8')).toBe('{"a": 1}');
  });

  it('an import of a file that is no export is refused before a database is made', () => {
    const db = sb.path('never-made.db');
    const notExport = sb.file('messages.jsonl', '{"content": "a message, not an export line"}\n');
    expectMemcubeError(sb.run(['import', notExport], { db }), 'line 1: not a memcube export');
    expect(fs.existsSync(db)).toBe(false);
  });

  it('export to a folder that is not there, and serve with a short admin key, fail in one line and make no database', () => {
    const db = sb.path('made-for-export.db');
    sb.ok(['add', 'something to export'], { db });
    expectMemcubeError(
      sb.run(['export', '--out', sb.path('no-such-folder/out.jsonl')], { db }),
      'cannot write',
      'no such folder',
    );
    const serveDb = sb.path('never-served.db');
    const served = spawnSync(process.execPath, [CLI, '--db', serveDb, 'serve', '--port', '0'], {
      encoding: 'utf8',
      env: { ...process.env, MEMCUBE_ADMIN_KEY: 'short' },
      timeout: 30_000,
    });
    expect(served.status).toBe(1);
    expect(served.stderr).toContain('MEMCUBE_ADMIN_KEY must be at least 16 characters');
    expect(fs.existsSync(serveDb)).toBe(false);
  });

  it('import into a new database keeps a lexical-only cube lexical only, without --embedder', () => {
    const from = sb.path('lexical.db');
    sb.ok(['add', 'a lexical only memory'], { db: from });
    const exported = sb.path('lexical.jsonl');
    sb.ok(['export', '--out', exported], { db: from });
    const to = sb.path('imported.db');
    sb.ok(['import', exported], { db: to, embedder: null });
    const [cube] = sb.json<Array<{ embedderId: string }>>(['cubes'], { db: to, embedder: null });
    expect(cube?.embedderId).toBe('none');
  });

  it("--tenant works in another tenant's cubes, as a server keeps them", async () => {
    const db = sb.path('tenants.db');
    sb.ok(['--tenant', 'acme', '--cube', 'notes', 'add', 'Acme roadmap note'], { db });
    const [own, acme, notes] = await sb.jsonAll<
      [Array<{ name: string }>, Array<{ name: string }>, { items: unknown[] }]
    >([
      [['cubes'], { db }],
      [['--tenant', 'acme', 'cubes'], { db }],
      [['--tenant', 'acme', '--cube', 'notes', 'list'], { db }],
    ]);
    expect(own).toEqual([]);
    expect(acme.map((c) => c.name)).toEqual(['notes']);
    expect(notes.items).toHaveLength(1);
    expectMemcubeUsageError(sb.run(['--tenant', 'not a tenant', 'cubes'], { db }), '--tenant:');
  });

  it('--tenant must name a registered tenant where the database has any (a server made them)', async () => {
    const db = sb.path('registered.db');
    const store = SqliteStore.open(db);
    await store.accessStore().createTenant('acme', 'Acme', { actor: 'test', now: Date.now() });
    await store.close();
    expectMemcubeUsageError(
      sb.run(['--tenant', 'acm', '--cube', 'alice', 'add', 'typo tenant'], { db }),
      "--tenant: unknown tenant 'acm'; this database's tenants: acme",
    );
    expectMemcubeUsageError(
      sb.run(['--cube', 'alice', 'list'], { db, env: { MEMCUBE_TENANT: 'acm' } }),
      "MEMCUBE_TENANT: unknown tenant 'acm'",
    );
    expectMemcubeUsageError(sb.run(['--tenant', 'acm', 'mcp'], { db }), "--tenant: unknown tenant 'acm'");
    // The registered tenant works; the mistyped one wrote nothing anywhere.
    sb.ok(['--tenant', 'acme', '--cube', 'alice', 'add', 'Acme note'], { db });
    const reopened = SqliteStore.open(db);
    expect((await reopened.listCubes('acm')).map((c) => c.name)).toEqual([]);
    expect((await reopened.listCubes('acme')).map((c) => c.name)).toEqual(['alice']);
    await reopened.close();
  });

  it('serve on a port in use is an error naming the address and the fix, not a stack trace', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const result = await sb.runAsync(['serve', '--host', '127.0.0.1', '--port', String(port)]);
      expectMemcubeError(result, `cannot listen on 127.0.0.1:${port}: the port is in use`, 'EADDRINUSE');
    } finally {
      taken.close();
    }
  });
});
