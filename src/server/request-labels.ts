import type { ServerResponse } from 'node:http';

/** Kept beside the response, not on it: a property added to every ServerResponse changes its shape each time. */
const labels = new WeakMap<ServerResponse, string>();

/** Labels a request for metrics without letting clients create label values. */
export function methodLabel(res: ServerResponse): string {
  return labels.get(res) ?? 'other';
}

export function setMethodLabel(res: ServerResponse, method: string): void {
  labels.set(res, method);
}
