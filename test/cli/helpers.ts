import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import { PLAIN_RETRIEVAL } from '../helpers/plain-retrieval.js';

/** The real, built binary: these tests exercise what `npm install -g memcube` would run. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Commands `runAll` keeps in flight at once. */
const CONCURRENCY = Math.max(2, Math.min(4, os.availableParallelism()));

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const UUID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

if (!fs.existsSync(CLI)) {
  throw new Error(`${CLI} is missing: run \`npm run build\` before the CLI tests`);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Database file; `null` passes no `--db` at all. Defaults to the sandbox's `m.db`. */
  db?: string | null;
  /** Embedder flag; `null` passes none, so the CLI's default (the local model) applies. Defaults to `none`. */
  embedder?: 'none' | 'local' | null;
  /** Written to the child's standard input. */
  input?: string;
  cwd?: string;
  /** `plain` (the default) runs with PLAIN_RETRIEVAL through MEMCUBE_CONFIG; `default` with memcube's own defaults. */
  config?: 'plain' | 'default';
  /** More environment variables for the child. */
  env?: Record<string, string>;
}

/** One plain-retrieval config file for the whole run, outside every sandbox (some tests check theirs stays empty). */
const PLAIN_CONFIG_FILE = path.join(os.tmpdir(), `memcube-cli-plain-${process.pid}.json`);

/** The plain config file, written on first use; removed when the test file is done, not left behind. */
function plainConfigFile(): string {
  if (!fs.existsSync(PLAIN_CONFIG_FILE)) fs.writeFileSync(PLAIN_CONFIG_FILE, JSON.stringify(PLAIN_RETRIEVAL));
  return PLAIN_CONFIG_FILE;
}
afterAll(() => fs.rmSync(PLAIN_CONFIG_FILE, { force: true }));

/**
 * A fresh temporary directory with its own database and its own HOME, and a runner for the
 * built CLI whose environment carries no MEMCUBE_* variable from the parent.
 */
export class CliSandbox {
  readonly dir: string;
  readonly home: string;
  readonly db: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-cli-'));
    this.home = path.join(this.dir, 'home');
    fs.mkdirSync(this.home);
    this.db = path.join(this.dir, 'm.db');
    const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith('MEMCUBE_'));
    // HOME and XDG_DATA_HOME point into the sandbox, so the default database path does too.
    this.env = {
      ...Object.fromEntries(inherited),
      HOME: this.home,
      XDG_DATA_HOME: path.join(this.home, 'data'),
      NO_COLOR: '1',
    };
  }

  private envFor(options: RunOptions): NodeJS.ProcessEnv {
    const base = options.config === 'default' ? this.env : { ...this.env, MEMCUBE_CONFIG: plainConfigFile() };
    return { ...base, ...options.env };
  }

  private argv(args: string[], options: RunOptions): string[] {
    const db = options.db === undefined ? this.db : options.db;
    const embedder = options.embedder === undefined ? 'none' : options.embedder;
    return [
      CLI,
      ...(db === null ? [] : ['--db', db]),
      ...(embedder === null ? [] : ['--embedder', embedder]),
      ...args,
    ];
  }

  /** Runs `node dist/cli/main.js [--db ...] [--embedder ...] ...args` and waits for it. */
  run(args: string[], options: RunOptions = {}): CliResult {
    const result = spawnSync(process.execPath, this.argv(args, options), {
      cwd: options.cwd ?? this.dir,
      env: this.envFor(options),
      encoding: 'utf8',
      input: options.input ?? '',
      timeout: 60_000,
    });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** Like `run`, without blocking, so independent commands can run side by side. */
  runAsync(args: string[], options: RunOptions = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, this.argv(args, options), {
        cwd: options.cwd ?? this.dir,
        env: this.envFor(options),
        timeout: 60_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
      // A command that never reads stdin may exit before we finish writing it.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input ?? '');
    });
  }

  /** Runs independent (read-only, or separate-database) commands concurrently; results in order. */
  async runAll(commands: Array<[string[], RunOptions?]>): Promise<CliResult[]> {
    const results: CliResult[] = new Array(commands.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < commands.length) {
        const i = next++;
        const [args, options] = commands[i] ?? [[]];
        results[i] = await this.runAsync(args, options);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, commands.length) }, worker));
    return results;
  }

  /** `runAll` for `--json` commands that must succeed; returns the parsed outputs in order. */
  async jsonAll<T extends unknown[]>(commands: { [K in keyof T]: [string[], RunOptions?] }): Promise<T> {
    const results = await this.runAll(commands.map(([args, options]) => [[...args, '--json'], options]));
    return results.map((result, i) => {
      if (result.status !== 0) {
        throw new Error(`memcube ${commands[i]?.[0].join(' ')} exited ${result.status}: ${result.stderr}`);
      }
      return JSON.parse(result.stdout) as unknown;
    }) as T;
  }

  /** Runs with `--json`, expects exit 0, and parses stdout. */
  json<T>(args: string[], options: RunOptions = {}): T {
    const result = this.run([...args, '--json'], options);
    if (result.status !== 0) {
      throw new Error(`memcube ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    }
    return JSON.parse(result.stdout) as T;
  }

  /** Runs and expects exit 0; returns stdout. */
  ok(args: string[], options: RunOptions = {}): CliResult {
    const result = this.run(args, options);
    if (result.status !== 0) {
      throw new Error(`memcube ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    }
    return result;
  }

  /** Writes a file into the sandbox and returns its path. */
  file(name: string, content: string): string {
    const file = path.join(this.dir, name);
    fs.writeFileSync(file, content);
    return file;
  }

  path(name: string): string {
    return path.join(this.dir, name);
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A memcube error as the CLI reports one: exit 1, nothing on stdout, and exactly one line on
 * stderr starting `memcube: error:`. Returns that line.
 */
export function expectMemcubeError(result: CliResult, ...fragments: string[]): string {
  return expectErrorLine(result, 1, fragments);
}

/** The same for a command line to fix (options that clash, a flag's value out of range): exit 2. */
export function expectMemcubeUsageError(result: CliResult, ...fragments: string[]): string {
  return expectErrorLine(result, 2, fragments);
}

function expectErrorLine(result: CliResult, status: 1 | 2, fragments: string[]): string {
  expect(result.status, `stderr: ${result.stderr}`).toBe(status);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  const line = lines[0] ?? '';
  expect(line.startsWith('memcube: error: ')).toBe(true);
  for (const fragment of fragments) expect(line).toContain(fragment);
  return line;
}

/** A usage error: exit 2, nothing on stdout, commander's message on stderr. */
export function expectUsageError(result: CliResult, fragment: string): void {
  expect(result.status, `stderr: ${result.stderr}`).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain(fragment);
}

export const jsonl = (values: unknown[]): string => `${values.map((v) => JSON.stringify(v)).join('\n')}\n`;
