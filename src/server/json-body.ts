/** A POST body that is not JSON: the legacy leg answers it with a parse error. */
export const NOT_JSON: unique symbol = Symbol('not JSON');

/** Parses a POST body once, for the era router and the leg that serves it. */
export function parseJsonBody(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return NOT_JSON;
  }
}
