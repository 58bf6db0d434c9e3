import { MEMORY_KINDS, type MemoryKind, ROLES, type Role } from '../../core/types.js';

/**
 * A row's class bits, which the in-process indexes keep per slot so that they apply role and
 * kind filters themselves (both never change after `add`): one bit for its role (or for having
 * none), then one for its kind. 13 bits in all.
 */
export function classBits(role: Role | null, kind: MemoryKind): number {
  return roleBit(role) | kindBit(kind);
}

const roleBit = (role: Role | null): number => 1 << (role === null ? 0 : ROLES.indexOf(role) + 1);
const kindBit = (kind: MemoryKind): number => 1 << (ROLES.length + 1 + MEMORY_KINDS.indexOf(kind));
const ANY_ROLE = (1 << (ROLES.length + 1)) - 1;
const ANY_KIND = ((1 << MEMORY_KINDS.length) - 1) << (ROLES.length + 1);

/** What a row's class bits must share with each mask for a filter to keep it. */
export interface ClassMasks {
  roles: number;
  kinds: number;
}

/** The masks of a filter's roles and kinds; an absent list keeps every role or kind. */
export function classMasks(
  roles: readonly Role[] | undefined,
  kinds: readonly MemoryKind[] | undefined,
): ClassMasks {
  return {
    roles: roles ? roles.reduce((mask, role) => mask | roleBit(role), 0) : ANY_ROLE,
    kinds: kinds ? kinds.reduce((mask, kind) => mask | kindBit(kind), 0) : ANY_KIND,
  };
}

/** The masks of a search that names no role or kind. */
export const EVERY_CLASS: ClassMasks = classMasks(undefined, undefined);

/** Whether a row of these class bits passes the masks. */
export function classesPass(bits: number, masks: ClassMasks): boolean {
  return (bits & masks.roles) !== 0 && (bits & masks.kinds) !== 0;
}
