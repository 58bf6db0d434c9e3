import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';

let root: MemoryOS;

/** A tenant and one key of it in the access store, as the server's admin routes make them. */
async function makeTenantWithKey(tenant: string, keyId: string): Promise<void> {
  const access = root.accessStore;
  if (!access) throw new Error('the SQLite memory has an access store');
  const ctx = { actor: 'test', now: Date.now() };
  if (!(await access.getTenant(tenant))) await access.createTenant(tenant, tenant, ctx);
  await access.createKey(
    {
      id: keyId,
      tenant,
      name: keyId,
      scopes: ['admin'],
      cubes: null,
      secretHash: '0'.repeat(64),
      expiresAt: null,
    },
    ctx,
  );
}

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
    await makeTenantWithKey('globex', 'k-bob');
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

  it('shares only with tenants and keys that exist, and only the owner shares', async () => {
    const alice = root.as({ tenant: 'acme', actor: 'k-alice' });
    await alice.cube('notes');
    await makeTenantWithKey('acme', 'k-acme');
    await expect(alice.share('notes', { kind: 'tenant', id: 'not-yet' }, 'admin')).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(alice.share('notes', { kind: 'key', id: 'no-such-key' }, 'read')).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(alice.share('notes', { kind: 'key', id: 'k-acme' }, 'read')).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await makeTenantWithKey('globex', 'k-bob');
    await makeTenantWithKey('initech', 'k-ini');
    await alice.share('notes', { kind: 'tenant', id: 'globex' }, 'admin');
    const bob = root.as({ tenant: 'globex', actor: 'k-bob', keyId: 'k-bob' });
    await expect(bob.share('acme:notes', { kind: 'tenant', id: 'initech' }, 'admin')).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(bob.unshare('acme:notes', { kind: 'tenant', id: 'globex' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect((await alice.grants('notes')).map((g) => g.grantee)).toEqual([{ kind: 'tenant', id: 'globex' }]);
  });

  it('a cube created after another tenant deleted one does not inherit its audit trail', async () => {
    const alice = root.as({ tenant: 'acme', actor: 'k-alice' });
    await (await alice.cube('last')).add('acme secret');
    await alice.deleteCube('last');
    const bob = root.as({ tenant: 'globex', actor: 'k-bob' });
    const mine = await bob.cube('mine');
    expect((await mine.audit()).map((r) => [r.operation, r.actor])).toEqual([['create_cube', 'k-bob']]);
    const exported = [];
    for await (const line of mine.export()) exported.push(line);
    expect(JSON.stringify(exported)).not.toContain('k-alice');
    // The deleted cube's own trail is still there for its owner.
    expect((await alice.audit({ limit: 100 })).map((r) => r.operation)).toContain('delete_cube');
  });

  it('re-embed and import respect a key limited to other cubes, and write nothing', async () => {
    const admin = root.as({ tenant: 'acme', actor: 'a' });
    await (await admin.cube('secret')).add('classified');
    const before = await admin.audit({ cube: 'secret', limit: 100 });
    const limited = root.as({ tenant: 'acme', actor: 'l', scopes: ['write'], cubes: ['public'] });
    await expect(limited.reembed('secret')).rejects.toMatchObject({ code: 'not_found' });
    const lines = [];
    for await (const line of (await admin.cube('secret')).export()) lines.push(JSON.stringify(line));
    await expect(limited.importCube(lines, { cube: 'secret' })).rejects.toMatchObject({ code: 'not_found' });
    expect(await admin.audit({ cube: 'secret', limit: 100 })).toEqual(before);
  });

  it('exporting a cube, which carries its audit log, needs admin on it', async () => {
    const alice = root.as({ tenant: 'acme', actor: 'k-alice' });
    await (await alice.cube('notes')).add('x');
    const reader = root.as({ tenant: 'acme', actor: 'r', scopes: ['read'] });
    const read = async () => {
      for await (const _ of (await reader.cube('notes', { create: false })).export()) break;
    };
    await expect(read()).rejects.toMatchObject({ code: 'forbidden' });
  });
});
