/**
 * Crash durability: a process adding memories is killed with SIGKILL at an arbitrary point,
 * three times over on the same database. Every id it acknowledged (printed after `add`
 * resolved) must survive with its content, and the database must pass `PRAGMA integrity_check`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./crash-child.mjs', import.meta.url));
const ROUNDS = 3;
const MIN_ACKS = 200;
/** The most one round may take before the child is killed and the test fails. */
const ROUND_LIMIT_MS = 7_000;

interface Round {
  run: string;
  /** Acknowledged ids in the order the child wrote them; line i holds message i. */
  ids: string[];
  stderr: string;
  exit: { code: number | null; signal: NodeJS.Signals | null };
}

let dir: string;
let child: ChildProcess | undefined;

function killChild(): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Runs the child until it has acknowledged at least `target` ids, then SIGKILLs it mid-stream. */
function crashRound(dbPath: string, run: string, target: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CHILD, dbPath, run], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const ids: string[] = [];
    let pending = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      killChild();
      reject(
        new Error(
          `round ${run}: only ${ids.length} acknowledged ids after ${ROUND_LIMIT_MS} ms; stderr:\n${stderr}`,
        ),
      );
    }, ROUND_LIMIT_MS);

    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      // The last piece is an unfinished line (or ''): not acknowledged yet.
      pending = lines.pop() ?? '';
      ids.push(...lines.filter((l) => l.length > 0));
      if (!killed && ids.length >= target) {
        killed = true;
        // Kill while the child is busy writing: it never waits between adds.
        proc.kill('SIGKILL');
      }
    });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
    });
    proc.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close' fires after the exit and after stdout is drained, so every line the child wrote is in.
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ run, ids, stderr, exit: { code, signal } });
    });
  });
}

describe('crash durability', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
      execFileSync(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['tsc', '-p', 'tsconfig.build.json'], {
        cwd: ROOT,
        stdio: 'inherit',
      });
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-crash-'));
  });

  afterEach(() => {
    killChild();
    child = undefined;
  });

  afterAll(() => {
    killChild();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged add across repeated SIGKILLs, with an intact database', async () => {
    const dbPath = path.join(dir, 'crash.db');
    const acknowledged = new Map<string, string>();

    for (let round = 0; round < ROUNDS; round++) {
      const run = `r${round}`;
      // Vary the kill point from round to round.
      const target = MIN_ACKS + Math.floor(Math.random() * 100);
      const result = await crashRound(dbPath, run, target);
      expect(result.exit.signal, `child exited on its own; stderr:\n${result.stderr}`).toBe('SIGKILL');
      expect(result.ids.length).toBeGreaterThanOrEqual(target);
      expect(new Set(result.ids).size).toBe(result.ids.length);
      result.ids.forEach((id, i) => {
        acknowledged.set(id, `crash run ${run} message ${i}`);
      });

      // Reopen through the public API: every acknowledged id is there with its content.
      const memory = await MemoryOS.open({ path: dbPath, embedder: 'none' });
      try {
        const cube = await memory.cube('crash', { create: false });
        const items: Array<{
          id: string;
          content: string;
          turnIndex: number | null;
          sessionId: string | null;
        }> = [];
        let cursor: string | undefined;
        do {
          const page = await cube.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
          items.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
        const byId = new Map(items.map((item) => [item.id, item]));
        const missing = [...acknowledged.keys()].filter((id) => !byId.has(id));
        expect(missing, `${missing.length} acknowledged ids lost after round ${round}`).toEqual([]);
        for (const [id, content] of acknowledged) {
          expect(byId.get(id)?.content).toBe(content);
        }
        // Spot-check the single-item read path too.
        const lastId = result.ids.at(-1) ?? '';
        expect((await cube.get(lastId)).content).toBe(acknowledged.get(lastId));
        // At most the one in-flight add per round may have committed without being acknowledged.
        expect(items.length).toBeGreaterThanOrEqual(acknowledged.size);
        expect(items.length).toBeLessThanOrEqual(acknowledged.size + round + 1);
        // Turns of the one session stay gap-free and in order across crashes.
        expect(items.map((item) => item.turnIndex)).toEqual(items.map((_, i) => i));
        expect(items.every((item) => item.sessionId === 'crash-session')).toBe(true);
        // Whole transactions only: each item has exactly one version, one audit record and one index entry.
        const stats = await cube.stats();
        expect(stats.items).toBe(items.length);
        expect(stats.versions).toBe(items.length);
        expect(stats.auditRecords).toBe(items.length + 1);
        const probe = await cube.search(`crash run ${run} message 0`, { limit: 5 });
        expect(probe.map((hit) => hit.item.id)).toContain(result.ids[0]);
      } finally {
        await memory.close();
      }

      const store = SqliteStore.open(dbPath);
      try {
        expect(store.integrityCheck()).toBe('ok');
      } finally {
        await store.close();
      }
    }
    expect(acknowledged.size).toBeGreaterThanOrEqual(ROUNDS * MIN_ACKS);
  }, 30_000);
});
