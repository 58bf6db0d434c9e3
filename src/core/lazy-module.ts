import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A module loaded on its first use instead of at import. Parsing dates, tagging entities and
 * counting tokens take libraries that cost about half a second to load, which every CLI command
 * paid, `--help` and `list` included. They load through `require` (their CommonJS builds), so
 * their callers stay synchronous.
 */
export function lazyModule<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= require(specifier) as T;
    return loaded;
  };
}
