import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemcubeError } from '../../src/core/errors.js';
import { MEMORY_STATUSES } from '../../src/core/types.js';
import { MemoryOS } from '../../src/os/memory-os.js';
import { PLAIN_RETRIEVAL } from '../helpers/plain-retrieval.js';

async function caught(fn: () => Promise<unknown>): Promise<MemcubeError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MemcubeError);
    return err as MemcubeError;
  }
  throw new Error('expected a MemcubeError, but the call succeeded');
}

describe('a cube remembers its embedder', () => {
  let dir: string;
  let file: string;
  const handles: MemoryOS[] = [];

  async function open(embedder: 'none' | 'local'): Promise<MemoryOS> {
    const handle = await MemoryOS.open({ ...PLAIN_RETRIEVAL, path: file, embedder });
    handles.push(handle);
    return handle;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-embedder-'));
    file = path.join(dir, 'memory.db');
  });
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to open a none cube with the local embedder until it is re-embedded', async () => {
    const lexical = await open('none');
    const cube = await lexical.cube('diary');
    const { ids } = await cube.add(
      [
        { content: 'I moved to Berlin last month.', speaker: 'Ana' },
        { content: 'The recipe needs two cups of flour.', speaker: 'Ana' },
        { content: 'We adopted a grey cat.', speaker: 'Ana' },
      ],
      { sessionId: 's1' },
    );
    await cube.delete(ids[2] as string);
    expect(cube.info).toMatchObject({ embedderId: 'none', dimensions: 0 });
    await lexical.close();

    const semantic = await open('local');
    expect(semantic.embedderId).toBe('local:use-lite');
    const err = await caught(() => semantic.cube('diary'));
    expect(err.code).toBe('embedder_mismatch');
    expect(err.message).toContain('memcube reembed');
    expect(err.message).toContain("'none'");
    expect(err.message).toContain("'local:use-lite'");
    expect((await caught(() => semantic.cube('diary', { create: false }))).code).toBe('embedder_mismatch');
    // The refusal changed nothing: the cube is still recorded with its old embedder.
    expect((await semantic.listCubes()).map((c) => [c.name, c.embedderId, c.dimensions])).toEqual([
      ['diary', 'none', 0],
    ]);

    let progress: Array<[number, number]> = [];
    const switched = await semantic.reembed('diary', {
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(progress.at(-1)).toEqual([3, 3]);
    expect(switched.info).toMatchObject({ name: 'diary', embedderId: semantic.embedderId, dimensions: 512 });
    const stats = await switched.stats();
    expect(stats.items).toBe(3);
    expect(stats.vectors).toBe(stats.items);
    const reembedAudit = (await switched.audit()).filter((a) => a.operation === 'reembed');
    expect(reembedAudit).toHaveLength(1);
    expect(reembedAudit[0]?.details).toMatchObject({
      embedder: { id: 'local:use-lite', dimensions: 512 },
      vectors: 3,
    });

    // Vector search now works, finds a paraphrase, and still hides the deleted item.
    const hits = await switched.search('relocated to Germany', { channels: ['vector'] });
    expect(hits.map((h) => h.item.id)).toEqual([ids[0], ids[1]]);
    expect(hits[0]?.channels.vector?.rank).toBe(1);
    const fused = await switched.search('relocated to Germany');
    expect(fused[0]?.item.id).toBe(ids[0]);
    // Items, ids and versions are untouched by re-embedding.
    const items = (await switched.list({ statuses: [...MEMORY_STATUSES] })).items;
    expect(items.map((i) => [i.id, i.version, i.status])).toEqual([
      [ids[0], 1, 'active'],
      [ids[1], 1, 'active'],
      [ids[2], 2, 'deleted'],
    ]);
    // A restored item is searchable by vector again.
    await switched.restore(ids[2] as string);
    expect((await switched.search('a kitten', { channels: ['vector'] }))[0]?.item.id).toBe(ids[2]);

    // New writes through the switched cube get vectors.
    await switched.add('Dinner at eight tonight.');
    expect((await switched.stats()).vectors).toBe(4);

    // The switch is durable, and now the none handle is the one refused.
    await semantic.close();
    const again = await open('local');
    expect((await again.cube('diary', { create: false })).info.embedderId).toBe('local:use-lite');
    await again.close();
    const lexicalAgain = await open('none');
    expect((await caught(() => lexicalAgain.cube('diary'))).code).toBe('embedder_mismatch');

    // And it can go back to lexical-only.
    progress = [];
    const back = await lexicalAgain.reembed('diary', {
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(back.info).toMatchObject({ embedderId: 'none', dimensions: 0 });
    expect((await back.stats()).vectors).toBe(0);
    expect(progress.at(-1)).toEqual([4, 4]);
    expect((await back.search('Berlin')).map((h) => h.item.id)).toEqual([ids[0]]);
    expect((await caught(() => back.search('Berlin', { channels: ['vector'] }))).field).toBe('channels');
  });

  it('reembed of an unknown cube is not_found', async () => {
    const handle = await open('none');
    expect((await caught(() => handle.reembed('ghost'))).code).toBe('not_found');
    expect((await caught(() => handle.reembed('../ghost'))).code).toBe('invalid_input');
  });

  it('an export from a lexical cube imports into a local database with vectors', async () => {
    const lexical = await MemoryOS.open({ ...PLAIN_RETRIEVAL, path: ':memory:', embedder: 'none' });
    handles.push(lexical);
    const cube = await lexical.cube('notes');
    const { ids } = await cube.add([
      { content: 'I moved to Berlin last month.' },
      { content: 'We adopted a grey cat.' },
    ]);
    await cube.delete(ids[1] as string);
    const lines: string[] = [];
    for await (const line of cube.export()) lines.push(JSON.stringify(line));

    const semantic = await open('local');
    const { cube: imported } = await semantic.importCube(lines);
    expect(imported.info).toMatchObject({ embedderId: 'local:use-lite', dimensions: 512 });
    expect((await imported.stats()).vectors).toBe(2);
    const hits = await imported.search('relocated to Germany', { channels: ['vector'] });
    expect(hits.map((h) => h.item.id)).toEqual([ids[0]]);
  });

  it('importing into an existing cube with another embedder is embedder_mismatch, writing nothing', async () => {
    const lexical = await open('none');
    const cube = await lexical.cube('notes');
    await cube.add('I moved to Berlin last month.');
    const lines: string[] = [];
    for await (const line of cube.export()) lines.push(JSON.stringify(line));
    await lexical.close();

    const semantic = await open('local');
    const err = await caught(() => semantic.importCube(lines));
    expect(err.code).toBe('embedder_mismatch');
    expect((await semantic.listCubes()).map((c) => c.embedderId)).toEqual(['none']);
  });
});
