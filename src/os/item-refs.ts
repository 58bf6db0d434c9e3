import { ConflictError, InvalidInputError, NotFoundError } from '../core/errors.js';
import { isItemId, isShortId } from '../core/ids.js';
import type { CubeScope, Store } from '../store/store.js';

/**
 * The id a reference names: a full id as it is, a short id (its last 12 hex digits) when exactly
 * one item of the given cubes ends with it, whatever its status. `where` names those cubes in
 * messages ("in cube 'notes'"); `field` is the argument the reference came in.
 */
export async function resolveItemRef(
  store: Store,
  scopes: CubeScope[],
  ref: string,
  where: string,
  field = 'id',
): Promise<string> {
  if (typeof ref === 'string' && isItemId(ref)) return ref;
  if (typeof ref === 'string' && isShortId(ref)) {
    const ids = new Set<string>();
    for (const scope of scopes) {
      for (const id of await store.findIdsBySuffix(scope, ref, 2)) ids.add(id);
      if (ids.size > 1) break;
    }
    const [only] = ids;
    if (ids.size === 1 && only) return only;
    if (ids.size === 0) throw new NotFoundError(`no item with short id '${ref}' ${where}`);
    throw new ConflictError(`short id '${ref}' matches several items ${where}; use the full id`);
  }
  throw new InvalidInputError(
    `${field}: '${String(ref).slice(0, 80)}' is not a memory id (a UUID returned by add, or its last 12 hex digits)`,
    field,
  );
}
