#!/usr/bin/env node
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { type ConfigFile, defaultDatabasePath, readConfigFile } from '../core/config.js';
import {
  EmbedderMismatchError,
  InvalidInputError,
  MemcubeError,
  NotFoundError,
  withFieldRenamed,
} from '../core/errors.js';
import { type CubeInfo, MEMORY_KINDS, MEMORY_STATUSES, type MemoryItem, ROLES } from '../core/types.js';
import { type AddInput, draftEpisodes } from '../ingest/episodes.js';
import { MemoryOS, type OpenOptions, parseCubeRef } from '../os/memory-os.js';
import { parseExport } from '../os/portable.js';
import { assertAdminKey, DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_LIMIT } from '../server/limits.js';
import { isPostgresUrl } from '../store/open.js';
import { registerBenchCommand } from './bench-command.js';
import {
  choiceForEmbedder,
  EMBEDDER_CHOICES,
  type EmbedderChoice,
  embedderFromFlag,
} from './embedder-flag.js';
import { registerEvalCommands } from './eval-command.js';
import {
  emptyContextNote,
  formatAudit,
  formatHistory,
  formatHits,
  formatItem,
  formatStats,
} from './format.js';
import { openOutput, parseMessagesFile, readText } from './input.js';
import { withProgress } from './progress.js';
import { UsageError } from './usage-error.js';

interface GlobalOptions {
  db: string;
  cube: string;
  tenant: string;
  /** Whether --embedder (or MEMCUBE_EMBEDDER) chose the embedder, rather than its default. */
  embedderGiven: boolean;
  /** Where a tenant other than the default came from, for messages: `--tenant` or `MEMCUBE_TENANT`. */
  tenantFrom?: string;
  embedder: EmbedderChoice;
  json: boolean;
  config?: string;
}

interface FilterOptions {
  session?: string[];
  speaker?: string[];
  role?: string[];
  kind?: string[];
  tag?: string[];
  status?: string[];
  user?: string;
  agent?: string;
  run?: string;
  from?: string;
  to?: string;
  asOf?: string;
}

const VERSION = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  .version as string;

const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};
const printJson = (value: unknown): void => print(JSON.stringify(value, null, 2));

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port, 0-65535');
  return n;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number, 0 or more');
  return n;
}

function postgresUrl(value: string): string {
  if (!isPostgresUrl(value)) throw new InvalidArgumentError('expected a postgres:// or postgresql:// URL');
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** Where --tenant's value came from, when not its default. */
function tenantFrom(source: string | undefined): Pick<GlobalOptions, 'tenantFrom'> {
  if (source === 'default') return {};
  return { tenantFrom: source === 'env' ? 'MEMCUBE_TENANT' : '--tenant' };
}

/** The commands that work in the cube `--cube` names; the others do not read it. */
const CUBE_COMMANDS = new Set([
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
  'import',
  'stats',
  'audit',
  'reembed',
  'mcp',
]);

/**
 * `--cube` (or `MEMCUBE_CUBE`): a cube's name, or `tenant:name` for one another tenant shares,
 * checked before a command that works in it opens anything. Commands that do not read it (and
 * `--help`) are not held up by a bad value in the environment.
 */
function checkCubeRef(program: Command): void {
  const value = program.opts<{ cube: string }>().cube;
  const flag = program.getOptionValueSource('cube') === 'env' ? 'MEMCUBE_CUBE' : '--cube';
  try {
    parseCubeRef(value);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    throw new UsageError(`${flag}: ${JSON.stringify(value)}: ${err.message.replace(/^cube: /, '')}`, 'cube');
  }
}

async function openMemory(
  g: GlobalOptions,
  overrides: ConfigFile = {},
  lifetime: Pick<OpenOptions, 'warmCubes'> = {},
  embedder: EmbedderChoice = g.embedder,
): Promise<MemoryOS> {
  return MemoryOS.open({
    ...(g.config ? readConfigFile(g.config) : {}),
    ...overrides,
    ...lifetime,
    path: g.db,
    tenant: g.tenant,
    embedder: embedderFromFlag(embedder),
    actor: `cli:${os.userInfo().username}`,
  });
}

/** Whether --db names a database there is (a PostgreSQL URL is taken to be one). */
function databaseExists(db: string): boolean {
  return isPostgresUrl(db) || db === ':memory:' || fs.existsSync(db);
}

/**
 * Opens the memory, runs `fn`, and always closes it. Without `--embedder` (or MEMCUBE_EMBEDDER),
 * a cube built with another embedder that needs no configuration (`none`, the bundled model) is
 * opened with its own: `fn` runs again on a memory opened so. Its first step is opening the cube,
 * so nothing was written. `first` is the embedder to try first when none was given.
 */
async function withMemory<T>(
  g: GlobalOptions,
  fn: (memory: MemoryOS) => Promise<T>,
  first: EmbedderChoice = g.embedder,
): Promise<T> {
  const run = async (embedder: EmbedderChoice) => {
    const memory = await openMemory(g, {}, {}, embedder);
    try {
      if (g.tenantFrom) await checkTenant(g.tenant, memory, g.tenantFrom);
      return await fn(memory);
    } finally {
      await memory.close();
    }
  };
  const tried = g.embedderGiven ? g.embedder : first;
  try {
    return await run(tried);
  } catch (err) {
    const own = err instanceof EmbedderMismatchError ? choiceForEmbedder(err.cubeEmbedderId) : undefined;
    if (g.embedderGiven || !own || own === tried) throw err;
    return run(own);
  }
}

/**
 * A tenant named on the command line must be one of the database's registered tenants, where it
 * has any: a mistyped `--tenant acm` would otherwise make cubes no server key can reach.
 */
async function checkTenant(tenant: string, memory: MemoryOS, flag: string): Promise<void> {
  const known = await memory.registeredTenants();
  if (known && known.length > 0 && !known.includes(tenant)) {
    throw new UsageError(
      `${flag}: unknown tenant '${tenant}'; this database's tenants: ${known.join(', ')} (made with POST /v1/tenants)`,
      'tenant',
    );
  }
}

/**
 * `withMemory` for a command that only reads, or changes what is already stored (`update`,
 * `delete`, `restore`, `reembed`): it creates no database where --db names none.
 */
async function readMemory<T>(g: GlobalOptions, fn: (memory: MemoryOS) => Promise<T>): Promise<T> {
  if (!databaseExists(g.db)) {
    throw new NotFoundError(`no database at '${g.db}': only add, import and demo create one`);
  }
  return withMemory(g, fn);
}

/**
 * The query words of `search` and `context`, checked here rather than by commander so that a
 * filter option that took them all (`--speaker Melanie what did she paint`) says how to fix it.
 */
function queryOf(words: string[]): string {
  if (words.length === 0) {
    throw new UsageError(
      'missing the query: give it first (an option such as --speaker takes every word after it), or end the options with --',
      'query',
    );
  }
  return words.join(' ');
}

/** The filters every reading command takes; `--status` with `statuses`, `--as-of` for a question's commands. */
function addFilterOptions(cmd: Command, extra: { statuses?: boolean; asOf?: boolean } = {}): Command {
  cmd
    .option('--session <id...>', 'only these sessions')
    .option('--speaker <name...>', 'only these speakers')
    .addOption(new Option('--role <role...>', 'only these roles').choices([...ROLES]))
    .addOption(new Option('--kind <kind...>', 'only these kinds').choices([...MEMORY_KINDS]))
    .option('--tag <tag...>', 'only items carrying all these tags')
    .option('--user <id>', 'only items of this user id')
    .option('--agent <id>', 'only items of this agent id')
    .option('--run <id>', 'only items of this run id')
    .option('--from <time>', 'event time at or after (ISO-8601)')
    .option('--to <time>', 'event time before (ISO-8601)');
  if (extra.statuses)
    cmd.addOption(
      new Option('--status <status...>', 'lifecycle states (default: active)').choices([...MEMORY_STATUSES]),
    );
  if (extra.asOf)
    cmd.option(
      '--as-of <time>',
      'when the question is asked (ISO-8601): "10 days ago" counts from it (default: now)',
    );
  return cmd;
}

function filterFrom(o: FilterOptions): Record<string, unknown> {
  const filter: Record<string, unknown> = {
    sessionIds: o.session,
    speakers: o.speaker,
    roles: o.role,
    kinds: o.kind,
    tags: o.tag,
    statuses: o.status,
    userId: o.user,
    agentId: o.agent,
    runId: o.run,
    from: o.from,
    to: o.to,
    asOf: o.asOf,
  };
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined));
}

async function writeLines(out: NodeJS.WritableStream, lines: AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const line of lines) {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
    count++;
  }
  return count;
}

export function buildProgram(): Command {
  const program = new Command('memcube')
    .description(
      'memcube — governed long-term memory for LLM agents, local-first (SQLite + an offline embedder).',
    )
    .version(VERSION)
    .addOption(new Option('--db <path>', 'database file').env('MEMCUBE_DB').default(defaultDatabasePath()))
    .addOption(
      new Option('--cube <name>', 'cube to work in (tenant:name for a cube another tenant shares)')
        .env('MEMCUBE_CUBE')
        .default('default'),
    )
    .addOption(
      new Option(
        '--tenant <id>',
        "tenant whose cubes to work in (a server's tenants are those made with POST /v1/tenants; serve acts per API key instead)",
      )
        .env('MEMCUBE_TENANT')
        .default('default'),
    )
    .addOption(
      new Option(
        '--embedder <name>',
        'local (offline model), none (lexical only) or openai-compatible (env MEMCUBE_EMBEDDER_BASE_URL, _MODEL, _API_KEY)',
      )
        .choices(EMBEDDER_CHOICES)
        .env('MEMCUBE_EMBEDDER')
        .default('local'),
    )
    .addOption(
      new Option('--config <file>', 'JSON config: ingest, retrieval, limits, durability (see README)').env(
        'MEMCUBE_CONFIG',
      ),
    )
    .option('--json', 'machine-readable JSON on stdout', false)
    .showHelpAfterError('(run with --help for usage)')
    // Before any subcommand exists, so they inherit it: usage errors throw instead of exiting.
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // "memcube: error: …", as the engine's errors read.
      outputError: (s, write) => write(`memcube: ${s}`),
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 success; 1 the work failed (not found, a conflict, a bad file, storage); 2 the command line is wrong (an unknown option, a value out of range, options that clash).\n' +
        'Examples:\n  memcube add "I moved to Berlin" --speaker Alice --session s1\n  memcube search "where does Alice live?"\n  memcube context "Alice" --budget 500',
    );
  program.hook('preAction', (_program, action) => {
    if (CUBE_COMMANDS.has(action.name())) checkCubeRef(program);
  });
  const globals = (cmd: Command): GlobalOptions => ({
    ...(cmd.optsWithGlobals() as Omit<GlobalOptions, 'embedderGiven' | 'tenantFrom'>),
    embedderGiven: program.getOptionValueSource('embedder') !== 'default',
    ...tenantFrom(program.getOptionValueSource('tenant')),
  });

  program
    .command('add')
    .description('remember text or messages (creates the cube if needed)')
    .argument('[text...]', 'the text to remember (or use --file)')
    .option(
      '-f, --file <path>',
      'messages as a JSON array or JSONL ({content, role, speaker, at}); - for stdin',
    )
    .option('--session <id>', 'session id')
    .option('--speaker <name>', 'who said it')
    .addOption(new Option('--role <role>', 'message role').choices([...ROLES]))
    .option('--at <time>', 'when it was said (ISO-8601); default now')
    .option('--tag <tag...>', 'tags')
    .option('--user <id>', 'user id')
    .option('--agent <id>', 'agent id')
    .option('--run <id>', 'run id (one execution of an agent)')
    .action(async (words: string[], o, cmd: Command) => {
      const g = globals(cmd);
      if (words.length > 0 && o.file) throw new UsageError('give either text or --file, not both', 'file');
      let messages: unknown[];
      if (o.file) messages = parseMessagesFile(await readText(o.file), o.file);
      else if (words.length > 0) {
        messages = [
          Object.fromEntries(
            Object.entries({ content: words.join(' '), speaker: o.speaker, role: o.role, at: o.at }).filter(
              ([, v]) => v !== undefined,
            ),
          ),
        ];
      } else {
        throw new UsageError(
          'nothing to add: give the text, or --file <path> (an option such as --tag takes every word after it: put the text first, or end the options with --)',
          'text',
        );
      }
      const options = Object.fromEntries(
        Object.entries({
          sessionId: o.session,
          userId: o.user,
          agentId: o.agent,
          runId: o.run,
          tags: o.tag,
        }).filter(([, v]) => v !== undefined),
      );
      await withMemory(g, async (memory) => {
        // Validate before `cube()` may create the cube: a rejected add must leave no trace.
        try {
          draftEpisodes(messages as AddInput, options, memory.config.limits, Date.now());
        } catch (err) {
          throw words.length > 0 ? inFlagTermsOfMessage(err) : err;
        }
        const cube = await memory.cube(g.cube);
        const result = await withProgress('embedding', g.json, (onProgress) =>
          cube.add(messages as AddInput, options, { onProgress }),
        );
        if (g.json) return printJson({ cube: cube.name, ...result });
        const created = result.items.filter((i) => i.created).length;
        for (const item of result.items) print(`${item.id}${item.created ? '' : '  (already stored)'}`);
        process.stderr.write(
          `added ${created}, already stored ${result.items.length - created}, in cube '${cube.name}'\n`,
        );
      });
    });

  addFilterOptions(
    program
      .command('search')
      .description(
        'find memories: lexical (BM25), vector, temporal, related-words and expansion channels fused by reciprocal rank',
      )
      .argument('[query...]', 'what to look for')
      .option('-n, --limit <n>', 'how many results', positiveInt, 10)
      .option(
        '--channels <list>',
        'comma-separated channels: lexical,vector,temporal,related,expansion,speaker,proximity (default: those the config weights)',
      ),
    { statuses: true, asOf: true },
  ).action(async (words: string[], o, cmd: Command) => {
    const g = globals(cmd);
    const query = queryOf(words);
    await readMemory(g, async (memory) => {
      const cube = await memory.cube(g.cube, { create: false });
      const hits = await cube.search(query, {
        limit: o.limit,
        ...filterFrom(o),
        ...(o.channels ? { channels: String(o.channels).split(',') } : {}),
      } as Parameters<typeof cube.search>[1]);
      if (g.json) printJson(hits);
      else print(formatHits(hits));
    });
  });

  addFilterOptions(
    program
      .command('context')
      .description(
        'prompt-ready memory for a query within a token budget (o200k_base tokens), with citations',
      )
      .argument('[query...]', 'the question or task the context is for')
      .option('-b, --budget <tokens>', 'token budget', positiveInt, 2000),
    { statuses: true, asOf: true },
  ).action(async (words: string[], o, cmd: Command) => {
    const g = globals(cmd);
    const query = queryOf(words);
    await readMemory(g, async (memory) => {
      const cube = await memory.cube(g.cube, { create: false });
      const pack = await cube.context(query, {
        tokenBudget: o.budget,
        ...filterFrom(o),
      } as Parameters<typeof cube.context>[1]);
      if (g.json) printJson(pack);
      else print(pack.items.length > 0 ? pack.text : emptyContextNote(pack.omitted, o.budget));
    });
  });

  addFilterOptions(
    program
      .command('list')
      .description('list memories in insertion order, a page at a time')
      .option('-n, --limit <n>', 'page size', positiveInt, 50)
      .option('--cursor <cursor>', 'continue after a previous page')
      .addOption(new Option('--order <order>', 'asc or desc').choices(['asc', 'desc']).default('asc')),
    { statuses: true },
  ).action(async (o, cmd: Command) => {
    const g = globals(cmd);
    await readMemory(g, async (memory) => {
      const cube = await memory.cube(g.cube, { create: false });
      const page = await cube.list({
        limit: o.limit,
        order: o.order,
        ...(o.cursor ? { cursor: o.cursor } : {}),
        ...filterFrom(o),
      } as Parameters<typeof cube.list>[0]);
      if (g.json) return printJson(page);
      print(page.items.length ? page.items.map(formatItem).join('\n') : 'no memories');
      if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
    });
  });

  program
    .command('get')
    .description('show one memory')
    .argument('<id>')
    .action(async (id: string, _o, cmd: Command) => {
      const g = globals(cmd);
      await readMemory(g, async (memory) => {
        const item = await (await memory.cube(g.cube, { create: false })).get(id);
        if (g.json) printJson(item);
        else print(formatItem(item));
      });
    });

  program
    .command('history')
    .description('every version of a memory, with who changed it and when')
    .argument('<id>')
    .action(async (id: string, _o, cmd: Command) => {
      const g = globals(cmd);
      await readMemory(g, async (memory) => {
        const versions = await (await memory.cube(g.cube, { create: false })).history(id);
        if (g.json) printJson(versions);
        else print(formatHistory(versions));
      });
    });

  for (const [name, description] of [
    ['delete', 'tombstone a memory: hidden from search, kept with its history, recoverable with restore'],
    ['restore', 'bring back a deleted memory'],
  ] as const) {
    program
      .command(name)
      .description(description)
      .argument('<id>')
      .action(async (id: string, _o, cmd: Command) => {
        const g = globals(cmd);
        await readMemory(g, async (memory) => {
          const cube = await memory.cube(g.cube, { create: false });
          const item = name === 'delete' ? await cube.delete(id) : await cube.restore(id);
          if (g.json) printJson(item);
          else
            print(
              `${name === 'delete' ? 'deleted' : 'restored'} ${item.id} (now v${item.version}, ${item.status})`,
            );
        });
      });
  }

  program
    .command('update')
    .description('correct a memory: a new version, the old one kept in its history')
    .argument('<id>')
    .argument('[text...]', 'the new text (leave out to change only tags or times)')
    // One tag a flag: `--tag <tag...>` would take the new text too, and a tags-only update is valid.
    .option(
      '--tag <tag>',
      'a tag, replacing the old tags (repeat for several)',
      // After `--no-tag` the value so far is false, not a list.
      (tag: string, tags: string[] | false | undefined) => [...(Array.isArray(tags) ? tags : []), tag],
    )
    .option('--no-tag', 'remove every tag')
    .option('--at <time>', 'when it happened or became true (ISO-8601)')
    .option('--no-at', 'clear the event time: the memory counts from when it was added')
    .option('--until <time>', 'when it stopped being true (ISO-8601)')
    .option('--no-until', 'clear --until: the memory is true again')
    .action(async (id: string, words: string[], o, cmd: Command) => {
      const g = globals(cmd);
      // `--no-X` leaves false: the patch's way of clearing a field (no tags, a null time).
      const patch = Object.fromEntries(
        Object.entries({
          content: words.length > 0 ? words.join(' ') : undefined,
          tags: o.tag === false ? [] : o.tag,
          validFrom: o.at === false ? null : o.at,
          validTo: o.until === false ? null : o.until,
        }).filter(([, v]) => v !== undefined),
      );
      if (Object.keys(patch).length === 0) {
        throw new UsageError(
          'nothing to update: give the new text, --tag, --at or --until (or --no-tag, --no-at, --no-until)',
          'text',
        );
      }
      await readMemory(g, async (memory) => {
        const asked = Date.now();
        const item = await (await memory.cube(g.cube, { create: false })).update(id, patch);
        if (g.json) printJson(item);
        // A version written now is stamped now; one from before says nothing was written.
        else if (Date.parse(item.updatedAt) < asked)
          print(`unchanged: ${item.id} already says so (v${item.version}); nothing was written`);
        else
          print(
            `updated ${item.id}: ${describeUpdate(item, Object.keys(patch))} (now v${item.version}; \`memcube history ${item.id}\` shows every version)`,
          );
      });
    });

  program
    .command('export')
    .description('write the cube (items, versions, audit) as JSONL')
    .option('-o, --out <file>', 'output file (default: stdout)')
    .action(async (o, cmd: Command) => {
      const g = globals(cmd);
      await readMemory(g, async (memory) => {
        const cube = await memory.cube(g.cube, { create: false });
        const out = o.out ? await openOutput(o.out) : process.stdout;
        const lines = await writeLines(out, cube.export());
        if (o.out) {
          out.end();
          await once(out, 'finish');
          process.stderr.write(`exported ${lines} lines from cube '${cube.name}' to ${o.out}\n`);
        }
      });
    });

  program
    .command('import')
    .description(
      'read a JSONL export back (ids, versions and audit kept); validated before anything is written',
    )
    .argument('<file>', 'the export file, or - for stdin')
    .action(async (file: string, _o, cmd: Command) => {
      const g = globals(cmd);
      const text = await readText(file);
      // Checked before the database is opened: a file that is no export creates no database.
      const { header } = parseExport(text.split('\n'));
      const cubeOption = cmd.parent?.getOptionValueSource('cube') === 'default' ? {} : { cube: g.cube };
      // A new cube keeps the exported cube's `none`; an existing one is opened with its own.
      const imported = await withMemory(
        g,
        (memory) =>
          withProgress('embedding', g.json, (onProgress) =>
            memory.importCube(text.split('\n'), { ...cubeOption, onProgress }),
          ),
        header.cube.embedderId === 'none' ? 'none' : g.embedder,
      );
      if (g.json)
        printJson({ cube: imported.cube.name, items: imported.items, auditRecords: imported.auditRecords });
      else
        print(
          `imported ${imported.items} items and ${imported.auditRecords} audit records into cube '${imported.cube.name}'${embeddedNote(header.cube.embedderId, imported.cube.info.embedderId)}`,
        );
    });

  program
    .command('stats')
    .description('counts for the cube')
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      await readMemory(g, async (memory) => {
        const stats = await (await memory.cube(g.cube, { create: false })).stats();
        if (g.json) printJson(stats);
        else print(formatStats(stats));
      });
    });

  program
    .command('cubes')
    .description('list the cubes in the database')
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      const show = (cubes: CubeInfo[]) => {
        if (g.json) return printJson(cubes);
        print(
          cubes.length
            ? cubes.map((c) => `${c.name}  (${c.embedderId}, created ${c.createdAt})`).join('\n')
            : 'no cubes',
        );
      };
      // No database yet holds no cubes; listing them creates none.
      if (!databaseExists(g.db)) return show([]);
      await readMemory(g, async (memory) => show(await memory.listCubes()));
    });

  program
    .command('audit')
    .description('the audit log of the cube (every mutation: who, what, when, versions)')
    .option('--item <id>', 'only records of this item')
    .option('-n, --limit <n>', 'how many records', positiveInt, 100)
    .option('--newest', 'the newest records first (default: the oldest first)')
    .option(
      '--after <record>',
      'only records after this record id (the next page, oldest first)',
      positiveInt,
    )
    .option(
      '--before <record>',
      'only records before this record id (the next page with --newest)',
      positiveInt,
    )
    .action(async (o, cmd: Command) => {
      const g = globals(cmd);
      await readMemory(g, async (memory) => {
        const cube = await memory.cube(g.cube, { create: false });
        const query = {
          order: o.newest ? ('newest' as const) : ('oldest' as const),
          ...(o.item ? { itemId: o.item } : {}),
          ...(o.after === undefined ? {} : { afterId: o.after }),
          ...(o.before === undefined ? {} : { beforeId: o.before }),
        };
        const records = await cube.audit({ ...query, limit: o.limit });
        if (g.json) printJson(records);
        else print(formatAudit(records));
        const last = records.at(-1);
        // A full page may have a next one: one record past it says.
        const bound = o.newest ? { beforeId: last?.id } : { afterId: last?.id };
        if (
          last &&
          records.length === o.limit &&
          (await cube.audit({ ...query, ...bound, limit: 1 })).length > 0
        ) {
          process.stderr.write(`more: ${o.newest ? '--before' : '--after'} ${last.id}\n`);
        }
      });
    });

  program
    .command('reembed')
    .description("re-embed every item of the cube with --embedder and make it the cube's embedder")
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      // --embedder, given or by default, is the embedder to switch to: reembed opens no cube with it.
      await readMemory(g, async (memory) => {
        const cube = await withProgress('re-embedding', g.json, (onProgress) =>
          memory.reembed(g.cube, { onProgress }),
        );
        if (g.json) printJson(cube.info);
        else print(`cube '${cube.name}' now uses ${cube.info.embedderId}`);
      });
    });

  program
    .command('demo')
    .description(
      'ingest a bundled sample conversation and show search, context and history (in memory unless --db is given)',
    )
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      const path = cmd.parent?.getOptionValueSource('db') === 'default' ? ':memory:' : g.db;
      const { formatDemo, runDemo } = await import('./demo.js');
      const demo = await withMemory({ ...g, db: path }, runDemo);
      if (g.json) printJson(demo);
      else print(formatDemo(demo));
    });

  program
    .command('serve')
    .description(
      'serve memory over HTTP: REST under /v1 (docs at /v1/docs), MCP at /mcp; MEMCUBE_ADMIN_KEY bootstraps tenants and keys',
    )
    .option('--port <n>', 'port (0 picks a free one)', portNumber, 8787)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--max-body <bytes>', 'largest request body accepted', positiveInt, DEFAULT_MAX_BODY_BYTES)
    .option(
      '--rate-limit <n>',
      'requests per second per key, in this process (0 = off)',
      wholeNumber,
      DEFAULT_RATE_LIMIT.perSecond,
    )
    .option('--burst <n>', 'requests a key may burst above the rate', positiveInt, DEFAULT_RATE_LIMIT.burst)
    .option(
      '--pg <url>',
      'serve a PostgreSQL database (postgres://...) instead of the --db file; any number of servers can share it',
      postgresUrl,
    )
    .option('--pg-pool <n>', 'connections to PostgreSQL this server keeps open (default 10)', positiveInt)
    .action(async (o, cmd: Command) => {
      const g = globals(cmd);
      if (o.pg && cmd.parent?.getOptionValueSource('db') === 'cli') {
        throw new UsageError('give either --db or --pg, not both', 'pg');
      }
      // Before the database is opened: a refused key leaves no new database behind.
      assertAdminKey(process.env.MEMCUBE_ADMIN_KEY || undefined);
      // Cubes warm in the background as requests first reach them (`Cube.warm`).
      const memory = await openMemory(
        o.pg ? { ...g, db: o.pg } : g,
        o.pgPool ? { postgres: { poolSize: o.pgPool } } : {},
        { warmCubes: true },
      );
      // The server's modules (Hono, the MCP SDK, metrics) load only for the commands that serve.
      const { startServer } = await import('../server/serve.js');
      const server = await startServer({
        memory,
        port: o.port,
        host: o.host,
        maxBodyBytes: o.maxBody,
        rateLimit: o.rateLimit > 0 ? { perSecond: o.rateLimit, burst: o.burst } : null,
        ...(process.env.MEMCUBE_ADMIN_KEY ? { adminKey: process.env.MEMCUBE_ADMIN_KEY } : {}),
      });
      // Listening for the signals before saying it serves: a caller may stop it on that line.
      const stopped = Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
      // memory.path, not the flag: a postgres URL's password is masked there.
      process.stderr.write(
        `memcube: serving ${memory.path} on ${server.url} (docs: ${server.url}/v1/docs)\n`,
      );
      if (!process.env.MEMCUBE_ADMIN_KEY) {
        process.stderr.write(
          'memcube: MEMCUBE_ADMIN_KEY is not set: only keys made before can call; set it (16+ characters) to create tenants and keys\n',
        );
      }
      const signal = await stopped;
      process.stderr.write(`memcube: ${String(signal[0] ?? 'signal')}: finishing in-flight requests\n`);
      await server.close();
      process.stderr.write('memcube: stopped\n');
    });

  program
    .command('mcp')
    .description(
      'serve memory to an MCP client (Claude Desktop, Cursor, ...) over stdio, on --cube by default',
    )
    .action(async (_o, cmd: Command) => {
      const g = globals(cmd);
      const { runStdioMcp } = await import('../mcp/stdio.js');
      const memory = await openMemory(g, {}, { warmCubes: true });
      if (g.tenantFrom) {
        try {
          await checkTenant(g.tenant, memory, g.tenantFrom);
        } catch (err) {
          await memory.close();
          throw err;
        }
      }
      await runStdioMcp(memory, {
        defaultCube: g.cube,
        version: VERSION,
      });
    });

  registerEvalCommands(program);
  registerBenchCommand(program);
  return program;
}

/** The library's option names that the command line spells as these flags. */
const FLAG_OF_OPTION: Record<string, string> = {
  tokenBudget: '--budget',
  limit: '--limit',
  cursor: '--cursor',
  from: '--from',
  to: '--to',
  sessionIds: '--session',
  sessionId: '--session',
  agentId: '--agent',
  speakers: '--speaker',
  roles: '--role',
  kinds: '--kind',
  tags: '--tag',
  statuses: '--status',
  userId: '--user',
  runId: '--run',
  asOf: '--as-of',
  channels: '--channels',
};

/** The audit query's fields as `audit` spells them. */
const FLAG_OF_AUDIT_BOUND: Record<string, string> = {
  afterId: '--after',
  beforeId: '--before',
  limit: '--limit',
};

/**
 * What an update set, as it now reads: the text in full (so words meant as tags, `--tag a b`,
 * show as the text they became), tags, times.
 */
function describeUpdate(item: MemoryItem, fields: string[]): string {
  const said: Record<string, string> = {
    content: `text ${JSON.stringify(item.content)}`,
    tags: item.tags.length ? `tags ${item.tags.join(', ')}` : 'no tags',
    validFrom: `event time ${item.validFrom ?? `none (counts from ${item.createdAt})`}`,
    validTo: `until ${item.validTo ?? 'none'}`,
  };
  return fields.map((f) => said[f]).join('; ');
}

/** What became of an export's vectors, when the cube it went into embeds otherwise. */
function embeddedNote(exported: string, cube: string): string {
  if (exported === cube) return '';
  if (exported === 'none') return `, embedded with '${cube}' (the export had no vectors)`;
  if (cube === 'none')
    return `, without vectors (exported with '${exported}'; search is by words only until \`memcube reembed\`)`;
  return `, embedded again with '${cube}' (exported with '${exported}')`;
}

/** The update patch's fields as `update` spells them. */
const FLAG_OF_PATCH: Record<string, string> = {
  content: 'text',
  tags: '--tag',
  validFrom: '--at',
  validTo: '--until',
};

/** An engine message naming an option (`options.tokenBudget: Too small…`) names the flag instead. */
function inFlagTerms(message: string): string {
  return message
    .replace(/^options\.(\w+)(\[\d+\])?:/, (whole, name: string) =>
      FLAG_OF_OPTION[name] ? `${FLAG_OF_OPTION[name]}:` : whole,
    )
    .replace(/^patch\.(\w+)(\[\d+\])?:/, (whole, name: string) =>
      FLAG_OF_PATCH[name] ? `${FLAG_OF_PATCH[name]}:` : whole,
    )
    .replace(/^query\.(\w+):/, (whole, name: string) =>
      FLAG_OF_AUDIT_BOUND[name] ? `${FLAG_OF_AUDIT_BOUND[name]}:` : whole,
    )
    .replace(/^invalid config: tenant:/, '--tenant:');
}

/**
 * Exit status 2 is a command line to fix: commander's parse errors, options that clash, and a
 * flag's value the engine refuses (`--limit 5000`: its schema names the option). 1 is work that
 * failed: not found, a bad file, storage, the embedder.
 */
function isUsageError(err: MemcubeError): boolean {
  if (err instanceof UsageError) return true;
  // The query, an update's patch, an id, the cursor, eval's retriever and the tenant come from
  // the command line too.
  if (err.code === 'invalid_config') return err.field === 'tenant';
  return (
    err.code === 'invalid_input' &&
    /^(options\.\w+|patch(\.\w+(\[\d+\])?)?$|query(\.\w+)?$|cursor$|id$|retriever$)/.test(err.field ?? '')
  );
}

/**
 * An error in the one message `add TEXT` builds from its arguments names the argument (`--at: not
 * an ISO-8601 date…`, not `messages[0].at: …`) and is a usage error, as a bad `--from` is.
 */
function inFlagTermsOfMessage(err: unknown): unknown {
  const told = withFieldRenamed(err, (field) => {
    const name = /^messages\[0\]\.(at|speaker|role|content)$/.exec(field)?.[1];
    return name && (name === 'content' ? 'text' : `--${name}`);
  });
  return told instanceof MemcubeError && told !== err ? new UsageError(told.message, told.field) : err;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof MemcubeError) {
      process.stderr.write(`memcube: error: ${inFlagTerms(err.message)}\n`);
      return isUsageError(err) ? 2 : 1;
    }
    process.stderr.write(
      `memcube: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

// A reader that stops early (`memcube list --json | head`) closes the pipe: stop quietly, exit 0
// unless the command already failed, instead of dying with a stack trace. Output is printed
// after the work it reports is committed, so nothing acknowledged is lost.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = await main(process.argv);
