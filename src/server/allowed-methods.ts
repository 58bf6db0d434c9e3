interface RegisteredRoute {
  method: string;
  path: string;
}

/** A Hono path pattern (`/v1/cubes/:cube`, `/v1/docs/*`) as a regular expression for whole paths. */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * The methods some route answers on a path, for a 405's `Allow` header (HEAD wherever GET is: Hono
 * answers it); empty where no route matches the path at all (a 404). Middleware (`ALL`) answers no
 * path of its own.
 */
export function methodsAllowed(routes: readonly RegisteredRoute[]): (path: string) => string[] {
  const patterns = routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({ method: r.method, pattern: patternOf(r.path) }));
  return (path) => {
    const methods = new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
