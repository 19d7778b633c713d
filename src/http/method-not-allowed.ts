/**
 * Which methods a path answers, for a 405 with its Allow header (RFC 9110 §15.5.6) instead of a
 * 404 when the path exists but not with the method asked. Fastify's router knows only exact
 * matches, so every route's URL is kept here as a pattern, in the router's own terms: a `:name`
 * segment matches any one segment, a trailing `*` anything.
 */
export class RouteMethods {
  private readonly routes: { pattern: RegExp; method: string }[] = [];

  add(method: string, url: string): void {
    const source = url
      .split('/')
      .map((seg) =>
        seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, (c) => `\\${c}`),
      )
      .join('/');
    this.routes.push({ pattern: new RegExp(`^${source}$`), method });
  }

  /** The methods routed at this path (without its query), sorted; empty when the path is unknown. */
  allowed(path: string): string[] {
    const methods = new Set(this.routes.filter((r) => r.pattern.test(path)).map((r) => r.method));
    return [...methods].sort();
  }
}
