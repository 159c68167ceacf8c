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
