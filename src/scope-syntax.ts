/** The syntax of OAuth scopes in settings and tokens; read by the configuration and by authorization. */

/** OAuth scope-token (RFC 6749 §3.3): printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

/** A space- or comma-separated scope list. */
export function splitScopes(value: string): string[] {
  return value.split(/[\s,]+/).filter((s) => s !== '');
}

/**
 * Parses AUTH_TOOL_SCOPES: `tool=scope scope;tool2=scope`. A call of `tool` needs every scope
 * listed for it (on top of AUTH_REQUIRED_SCOPES).
 */
export function parseToolScopes(value: string | undefined): { toolScopes: Map<string, string[]>; problems: string[] } {
  const toolScopes = new Map<string, string[]>();
  const problems: string[] = [];
  for (const entry of (value ?? '')
    .split(';')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const eq = entry.indexOf('=');
    const tool = eq < 0 ? '' : entry.slice(0, eq).trim();
    const scopes = eq < 0 ? [] : splitScopes(entry.slice(eq + 1));
    if (tool === '' || scopes.length === 0) {
      problems.push(`AUTH_TOOL_SCOPES: ${JSON.stringify(entry)} is not tool=scope [scope ...]`);
      continue;
    }
    if (toolScopes.has(tool)) problems.push(`AUTH_TOOL_SCOPES names ${tool} twice`);
    const bad = scopes.filter((s) => !isScopeToken(s));
    if (bad.length > 0) problems.push(`AUTH_TOOL_SCOPES: ${bad.map((s) => JSON.stringify(s)).join(', ')} is not a valid scope`);
    toolScopes.set(tool, scopes);
  }
  return { toolScopes, problems };
}
