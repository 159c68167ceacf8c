import type { ServerResponse } from 'node:http';

type Labelled = ServerResponse & { mcpMethod?: string };

/** Labels a request for metrics without letting clients create label values. */
export function methodLabel(res: ServerResponse): string {
  return (res as Labelled).mcpMethod ?? 'other';
}

export function setMethodLabel(res: ServerResponse, method: string): void {
  (res as Labelled).mcpMethod = method;
}
