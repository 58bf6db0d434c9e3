import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';

let root: MemoryOS;

beforeEach(async () => {
  root = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
});

afterEach(async () => {
  await root.close();
});

describe('MemoryOS.as', () => {
  it('keeps tenants apart: another tenant’s cube is unknown, not forbidden', async () => {
    const alice = root.as({ tenant: 'acme', actor: 'k-alice' });
    const bob = root.as({ tenant: 'globex', actor: 'k-bob' });
    const [id] = (await (await alice.cube('notes')).add('the launch code is 1234')).ids;
    await expect(bob.cube('acme:notes', { create: false })).rejects.toMatchObject({ code: 'not_found' });
    await expect(bob.cube('acme:missing', { create: false })).rejects.toMatchObject({ code: 'not_found' });
    expect(await bob.listCubes()).toEqual([]);
    const bobNotes = await bob.cube('notes');
    await expect(bobNotes.get(id as string)).rejects.toMatchObject({ code: 'not_found' });
    expect(await bobNotes.search('launch code')).toEqual([]);
  });

  it('records the actor and request id on writes', async () => {
    const alice = root.as({ tenant: 'acme', actor: 'k-alice', requestId: 'r-1' });
    const cube = await alice.cube('notes');
    await cube.add('hello');
    const records = await alice.audit({ cube: 'notes', limit: 10 });
    expect(records.map((r) => [r.operation, r.actor, r.details.requestId])).toEqual([
      ['create_cube', 'k-alice', 'r-1'],
      ['add', 'k-alice', 'r-1'],
    ]);
  });

  it('enforces scopes: read cannot write, write cannot delete a cube or read the audit', async () => {
    await root.as({ tenant: 'acme', actor: 'setup' }).cube('notes');
    const reader = root.as({ tenant: 'acme', actor: 'r', scopes: ['read'] });
    const writer = root.as({ tenant: 'acme', actor: 'w', scopes: ['write'] });
    const forbidden = { code: 'forbidden' };
    await expect((await reader.cube('notes')).add('x')).rejects.toMatchObject(forbidden);
    await expect(reader.cube('other')).rejects.toMatchObject(forbidden);
    await (await writer.cube('notes')).add('y');
    await expect(writer.deleteCube('notes')).rejects.toMatchObject(forbidden);
    await expect(writer.audit({ limit: 10 })).rejects.toMatchObject(forbidden);
  });

  it('limits a key to named cubes', async () => {
    const admin = root.as({ tenant: 'acme', actor: 'a' });
    await admin.cube('notes');
    await admin.cube('secrets');
    const limited = root.as({ tenant: 'acme', actor: 'l', cubes: ['notes'] });
    expect((await limited.listCubes()).map((c) => c.name)).toEqual(['notes']);
    await expect(limited.cube('secrets', { create: false })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('shares a cube with a tenant or a key, with the granted permission only', async () => {
    const alice = root.as({ tenant: 'acme', actor: 'k-alice' });
    await (await alice.cube('notes')).add('shared fact about walruses');
    await alice.share('notes', { kind: 'tenant', id: 'globex' }, 'read');
    const bob = root.as({ tenant: 'globex', actor: 'k-bob', keyId: 'k-bob' });
    const visible = await bob.visibleCubes();
    expect(visible.map((v) => [v.ref, v.permission])).toEqual([['acme:notes', 'read']]);
    const shared = await bob.cube('acme:notes', { create: false });
    expect((await shared.search('walruses')).length).toBe(1);
    await expect(shared.add('bob writes')).rejects.toMatchObject({ code: 'forbidden' });

    await alice.share('notes', { kind: 'key', id: 'k-bob' }, 'write');
    await (await bob.cube('acme:notes', { create: false })).add('bob writes');
    const carol = root.as({ tenant: 'globex', actor: 'k-carol', keyId: 'k-carol' });
    await expect((await carol.cube('acme:notes')).add('carol writes')).rejects.toMatchObject({
      code: 'forbidden',
    });

    await alice.unshare('notes', { kind: 'tenant', id: 'globex' });
    await expect(carol.cube('acme:notes', { create: false })).rejects.toMatchObject({ code: 'not_found' });
    expect((await alice.audit({ cube: 'notes', limit: 100 })).map((r) => r.operation)).toContain('unshare');
  });

  it('deletes a cube with its memories; the audit trail stays', async () => {
    const alice = root.as({ tenant: 'acme', actor: 'k-alice' });
    await (await alice.cube('notes')).add('to be removed');
    await alice.deleteCube('notes');
    expect(await alice.listCubes()).toEqual([]);
    const trail = await alice.audit({ limit: 100 });
    expect(trail.map((r) => r.operation)).toEqual(['create_cube', 'add', 'delete_cube']);
  });

  it('closing a scoped handle leaves the shared store open', async () => {
    const alice = root.as({ tenant: 'acme', actor: 'k-alice' });
    await alice.close();
    await expect(root.listCubes()).resolves.toEqual([]);
  });
});
