/** Characters path-to-regexp 8 reads as syntax (parameters, wildcards, groups, reserved). */
const ROUTE_SYNTAX = /[:*{}()[\]?+!\\]/;

/** Characters for which parseurl hands a path to url.parse instead of splitting it at `?`. */
const ODD_TARGET = /[\t\n\f\r #\u00a0\ufeff]/;

/**
 * Whether a request target is the MCP endpoint, decided as Express 5 routes `app.all(mcpPath)`:
 * the path part (before `?`), case-insensitive, with an optional trailing slash (`/mcp/` is the
 * endpoint, `/mcp/x` is not; a trailing slash in `mcpPath` itself counts for nothing). True or
 * false for the targets clients send; undefined where only Express can tell (a target in
 * absolute-form or with characters parseurl treats apart, a path with route syntax in it): the
 * Express app, which serves the endpoint too, routes those.
 */
export function mcpPathMatcher(mcpPath: string): (url: string | undefined) => boolean | undefined {
  if (ROUTE_SYNTAX.test(mcpPath)) return () => undefined;
  // What the router matches against: the path without its trailing slashes, except '/' itself.
  const literal = mcpPath === '/' ? mcpPath : mcpPath.replace(/\/+$/, '');
  const pattern = new RegExp(`^(?:${literal.replace(/[.^$|/]/g, '\\$&')})(?:\\/$)?$`, 'i');
  return (url) => {
    if (url === undefined || url.charCodeAt(0) !== 0x2f || ODD_TARGET.test(url)) return undefined;
    const query = url.indexOf('?');
    return pattern.test(query === -1 ? url : url.slice(0, query));
  };
}
