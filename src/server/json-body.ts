/** A POST body that is not JSON: the legacy leg answers it with a parse error. */
export const NOT_JSON: unique symbol = Symbol('not JSON');

/** A POST body nested deeper than any MCP message needs: refused before anything recurses into it. */
export const TOO_DEEP: unique symbol = Symbol('nested too deep');

export const MAX_JSON_DEPTH = 64;

/** Parses a POST body once, for the era router and the leg that serves it. */
export function parseJsonBody(raw: Buffer): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return NOT_JSON;
  }
  return depthOf(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH ? TOO_DEEP : value;
}

/** Nesting depth of a parsed JSON value, counted without recursion and only as far as `limit` + 1. */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(node) ? node : Object.values(node)) pending.push([child, depth + 1]);
  }
  return deepest;
}
