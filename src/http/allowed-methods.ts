import type { FastifyInstance } from 'fastify';

/**
 * Records the method and path pattern of every route registered on `app` from now on, and returns
 * the methods of the resource a request path names (sorted; empty when none), so an unrouted
 * method on a known path can be answered 405 with `Allow` rather than 404. Where several patterns
 * match, the resource is the most specific one (fewest parameters), as in the OpenAPI document:
 * `/api/v1/webhooks/docker-registry/test` is that static path, not `…/{registry}/{token}`.
 */
export function trackRouteMethods(app: FastifyInstance): (path: string) => string[] {
  const routes: Array<{ method: string; pattern: RegExp; parameters: number }> = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = patternOf(route.url);
    const parameters = route.url.split(/:[A-Za-z0-9_]+|\*/).length - 1;
    for (const method of methods) routes.push({ method, pattern, parameters });
  });
  return (path) => {
    const matching = routes.filter((route) => route.pattern.test(path));
    const fewest = Math.min(...matching.map((route) => route.parameters));
    const methods = matching.filter((route) => route.parameters === fewest);
    return [...new Set(methods.map((route) => route.method))].sort();
  };
}

/** `/a/:b/*` → `^/a/[^/]+/.*$`. */
function patternOf(url: string): RegExp {
  const parts = url.split(/(:[A-Za-z0-9_]+|\*)/).map((part) => {
    if (part === '*') return '.*';
    if (part.startsWith(':')) return '[^/]+';
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('')}$`);
}
