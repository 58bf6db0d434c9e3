import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/embed/embedder.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import { CLI } from '../cli/helpers.js';
import { ADMIN_KEY, startTestServer } from './helpers.js';

/** An embedder that takes its time, so a request is surely in flight when shutdown starts. */
const slowEmbedder = (ms: number): Embedder => ({
  id: 'slow-test',
  dimensions: async () => 2,
  embed: async (texts) => {
    await new Promise((r) => setTimeout(r, ms));
    return texts.map(() => new Float32Array([1, 0]));
  },
});

describe('graceful shutdown', () => {
  it('finishes an in-flight request, then refuses new connections and closes the store', async () => {
    const t = await startTestServer({ embedder: slowEmbedder(400) });
    const { key } = await t.keyFor('acme', ['write']);
    await t.call('POST', '/v1/cubes', { key, body: { name: 'n' } });
    const inFlight = t.call('POST', '/v1/cubes/n/memories', {
      key,
      body: { text: 'said just before shutdown' },
    });
    await new Promise((r) => setTimeout(r, 100));
    const closing = t.close();
    const reply = await inFlight;
    expect(reply.status).toBe(201);
    await closing;
    await expect(fetch(`${t.url}/v1/health`)).rejects.toThrow();
  });

  it('memcube serve without MEMCUBE_ADMIN_KEY says what that leaves a caller', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-serve-'));
    try {
      const { MEMCUBE_ADMIN_KEY: _unset, ...env } = process.env;
      const child = spawn(
        process.execPath,
        [CLI, '--db', path.join(dir, 'm.db'), '--embedder', 'none', 'serve', '--port', '0'],
        { env },
      );
      let stderr = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
          if (stderr.includes('to create tenants and keys\n')) resolve();
        });
        child.once('exit', () => reject(new Error(`serve exited: ${stderr}`)));
      });
      expect(stderr).toContain('MEMCUBE_ADMIN_KEY is not set: only keys made before can call');
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('memcube serve stops on SIGTERM and keeps what it acknowledged', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-serve-'));
    const db = path.join(dir, 'm.db');
    try {
      const child = spawn(process.execPath, [CLI, '--db', db, '--embedder', 'none', 'serve', '--port', '0'], {
        env: { ...process.env, MEMCUBE_ADMIN_KEY: ADMIN_KEY },
      });
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
          const match = /on (http:\/\/\S+) /.exec(stderr);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', () => reject(new Error(`serve exited: ${stderr}`)));
      });
      const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
      const post = (p: string, body: unknown, headers: Record<string, string> = admin) =>
        fetch(`${url}${p}`, { method: 'POST', headers, body: JSON.stringify(body) }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as Record<string, unknown>,
        }));
      expect((await post('/v1/tenants', { id: 'acme' })).status).toBe(201);
      const key = (await post('/v1/keys', { tenant: 'acme', name: 'k', scopes: ['write'] })).body
        .key as string;
      const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      expect((await post('/v1/cubes', { name: 'n' }, auth)).status).toBe(201);
      expect((await post('/v1/cubes/n/memories', { text: 'kept after shutdown' }, auth)).status).toBe(201);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('stopped');
      expect(stderr).not.toContain('MEMCUBE_ADMIN_KEY is not set');

      const reopened = await MemoryOS.open({ path: db, embedder: 'none' });
      try {
        const cube = await reopened.as({ tenant: 'acme', actor: 'check' }).cube('n', { create: false });
        expect((await cube.list()).items.map((i) => i.content)).toEqual(['kept after shutdown']);
      } finally {
        await reopened.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
