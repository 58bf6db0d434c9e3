import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessStore, NewApiKey } from '../../src/store/access.js';
import type { Store, WriteContext } from '../../src/store/store.js';

const EMB = { id: 'test-emb', dimensions: 0 };

/**
 * What every `AccessStore` must do, beside the `Store` it shares a database with. Run it for each
 * backend: `describeAccessConformance('postgres', async () => ({ store, access }))`.
 */
export function describeAccessConformance(
  name: string,
  open: () => Promise<{ store: Store; access: AccessStore }>,
): void {
  describe(`AccessStore conformance: ${name}`, () => {
    let store: Store;
    let access: AccessStore;
    let clock = Date.UTC(2024, 0, 1);
    /** A write context whose clock moves one second per write. */
    const ctx = (actor = 'tester'): WriteContext => {
      clock += 1000;
      return { actor, now: clock, requestId: 'req' };
    };
    const newKey = (id: string, tenant: string, extra: Partial<NewApiKey> = {}): NewApiKey => ({
      id,
      tenant,
      name: `key ${id}`,
      scopes: ['read'],
      cubes: null,
      secretHash: 'ab'.repeat(32),
      expiresAt: null,
      ...extra,
    });

    beforeEach(async () => {
      ({ store, access } = await open());
    });
    afterEach(async () => {
      await store.close();
    });

    it('creates tenants once and lists them', async () => {
      const made = await access.createTenant('acme', 'Acme', ctx());
      expect(made).toMatchObject({ id: 'acme', name: 'Acme' });
      await expect(access.createTenant('acme', 'Again', ctx())).rejects.toMatchObject({ code: 'conflict' });
      await access.createTenant('globex', 'Globex', ctx());
      expect((await access.listTenants()).map((t) => t.id)).toEqual(['acme', 'globex']);
      expect(await access.getTenant('nobody')).toBeNull();
    });

    it('stores keys with their hash, lists them per tenant without it, revokes within the tenant only', async () => {
      const created = await access.createKey(
        newKey('k1', 'acme', { cubes: ['notes'], expiresAt: clock + 60_000 }),
        ctx('admin'),
      );
      expect(created).not.toHaveProperty('secretHash');
      expect(created).toMatchObject({
        id: 'k1',
        tenant: 'acme',
        scopes: ['read'],
        cubes: ['notes'],
        createdBy: 'admin',
      });
      expect(created.expiresAt).not.toBeNull();
      await access.createKey(newKey('k2', 'globex'), ctx());
      expect((await access.findKey('k1'))?.secretHash).toBe('ab'.repeat(32));
      expect(await access.findKey('nope')).toBeNull();
      expect((await access.listKeys('acme')).map((k) => k.id)).toEqual(['k1']);
      expect(JSON.stringify(await access.listKeys('acme'))).not.toContain('abab');

      await expect(access.revokeKey('acme', 'k2', ctx())).rejects.toMatchObject({ code: 'not_found' });
      const revoked = await access.revokeKey('acme', 'k1', ctx());
      expect(revoked.revokedAt).not.toBeNull();
      expect((await access.findKey('k1'))?.revokedAt).not.toBeNull();
      await expect(access.revokeKey('acme', 'k1', ctx())).rejects.toMatchObject({ code: 'conflict' });
    });

    it('grants, changes and revokes access to a cube; grantsFor shows only other tenants’ cubes', async () => {
      await store.createCube('acme', 'notes', EMB, ctx());
      await store.createCube('globex', 'own', EMB, ctx());
      const scope = { tenant: 'acme', cube: 'notes' };
      await access.grant(scope, { kind: 'tenant', id: 'globex' }, 'read', ctx());
      await access.grant(scope, { kind: 'tenant', id: 'globex' }, 'write', ctx());
      await access.grant(scope, { kind: 'key', id: 'k9' }, 'admin', ctx());
      await access.grant({ tenant: 'globex', cube: 'own' }, { kind: 'tenant', id: 'globex' }, 'read', ctx());
      expect(
        (await access.listGrants(scope)).map((g) => [g.grantee.kind, g.grantee.id, g.permission]),
      ).toEqual([
        ['key', 'k9', 'admin'],
        ['tenant', 'globex', 'write'],
      ]);
      const forGlobex = await access.grantsFor('globex', null);
      expect(forGlobex.map((g) => [g.owner, g.cube, g.permission])).toEqual([['acme', 'notes', 'write']]);
      expect((await access.grantsFor('initech', 'k9')).map((g) => g.permission)).toEqual(['admin']);
      await expect(
        access.grant({ tenant: 'acme', cube: 'missing' }, { kind: 'tenant', id: 'x' }, 'read', ctx()),
      ).rejects.toMatchObject({
        code: 'not_found',
      });

      await access.revokeGrant(scope, { kind: 'tenant', id: 'globex' }, ctx());
      await expect(access.revokeGrant(scope, { kind: 'tenant', id: 'globex' }, ctx())).rejects.toMatchObject({
        code: 'not_found',
      });
      expect(await access.grantsFor('globex', null)).toEqual([]);

      await store.deleteCube('acme', 'notes', ctx());
      expect(await access.grantsFor('initech', 'k9')).toEqual([]);
    });

    it('lists a tenant’s audit records, deleted cubes and tenant-level operations included, with filters', async () => {
      await access.createTenant('acme', 'Acme', ctx('admin'));
      await access.createKey(newKey('k1', 'acme'), ctx('admin'));
      await store.createCube('acme', 'notes', EMB, ctx('k1'));
      await store.createCube('globex', 'notes', EMB, ctx('k2'));
      await access.grant(
        { tenant: 'acme', cube: 'notes' },
        { kind: 'tenant', id: 'globex' },
        'read',
        ctx('k1'),
      );
      await store.deleteCube('acme', 'notes', ctx('k1'));

      const all = await access.listTenantAudit('acme', { limit: 100 });
      expect(all.map((r) => [r.operation, r.cube, r.actor])).toEqual([
        ['create_tenant', '', 'admin'],
        ['create_key', '', 'admin'],
        ['create_cube', 'notes', 'k1'],
        ['share', 'notes', 'k1'],
        ['delete_cube', 'notes', 'k1'],
      ]);
      expect(all.every((r) => r.tenant === 'acme' && r.details.requestId === 'req')).toBe(true);
      expect((await access.listTenantAudit('acme', { cube: 'notes', limit: 100 })).length).toBe(3);
      expect((await access.listTenantAudit('acme', { actor: 'admin', limit: 100 })).length).toBe(2);
      const third = all[2];
      if (!third) throw new Error('missing record');
      expect((await access.listTenantAudit('acme', { afterId: third.id, limit: 100 })).length).toBe(2);
      const latest = await access.listTenantAudit('acme', { order: 'newest', limit: 2 });
      expect(latest.map((r) => r.operation)).toEqual(['delete_cube', 'share']);
      const before = await access.listTenantAudit('acme', {
        order: 'newest',
        beforeId: third.id,
        limit: 100,
      });
      expect(before.map((r) => r.operation)).toEqual(['create_key', 'create_tenant']);
      expect(await access.listTenantAudit('acme', { from: clock + 1, limit: 100 })).toEqual([]);
      expect((await access.listTenantAudit('globex', { limit: 100 })).map((r) => r.operation)).toEqual([
        'create_cube',
      ]);
    });
  });
}
