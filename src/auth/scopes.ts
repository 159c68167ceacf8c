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
  for (const entry of (value ?? '').split(';').map((e) => e.trim()).filter((e) => e !== '')) {
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

/** The scopes a request needs: the server's required scopes and, for tools/call, the tool's. */
export class ScopePolicy {
  constructor(
    readonly required: readonly string[],
    readonly toolScopes: ReadonlyMap<string, readonly string[]>,
  ) {}

  /** Every scope the called tools need, required scopes first, each once. */
  neededFor(toolNames: readonly string[]): string[] {
    const needed = new Set(this.required);
    for (const name of toolNames) for (const scope of this.toolScopes.get(name) ?? []) needed.add(scope);
    return [...needed];
  }

  /** Whether a token granted `granted` may call (and so see) `tool`. */
  allowsTool(tool: string, granted: readonly string[]): boolean {
    return (this.toolScopes.get(tool) ?? []).every((scope) => granted.includes(scope));
  }
}

/** The tool names of the tools/call requests in a parsed body (one message or a 2025-03-26 batch). */
export function calledTools(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  const names: string[] = [];
  for (const message of messages) {
    if (typeof message !== 'object' || message === null || (message as { method?: unknown }).method !== 'tools/call') continue;
    const name = (message as { params?: { name?: unknown } }).params?.name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}
