export interface LoadgenMessage {
  type: string;
  name?: string;
  [field: string]: any;
}
export interface Loadgen {
  pid: number | undefined;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  next(type: string, name?: string): Promise<LoadgenMessage>;
  send(message: Record<string, unknown>): void;
  kill(): void;
}
export function startLoadgen(config: Record<string, unknown>): Loadgen;
