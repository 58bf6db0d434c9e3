/**
 * Orders strings by UTF-16 code units: the same on every machine, unlike `localeCompare`, whose
 * order follows the runtime's locale data, and without its collation work in a search's sorts.
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
