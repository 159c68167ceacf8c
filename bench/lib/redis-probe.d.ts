export function parseResp(buffer: Buffer, offset?: number): [unknown, number] | undefined;
export function parseInfo(text: string): Record<string, string | number>;
export function parseCommandStats(text: string): Record<string, number>;
export function parseCommandUsec(text: string): Record<string, number>;
export function perCallBetween(before: Record<string, number>, after: Record<string, number>, calls: number): Record<string, number>;
export const NOT_PER_CALL: Set<string>;
export const NOT_PER_CALL_KEY: RegExp;
export function commandsBetween(before: Record<string, number>, after: Record<string, number>): number;
export function classifyMonitor(lines: string[]): { client: number; script: number; byCommand: Record<string, number> };
export class RedisProbe {
  static connect(port: number, host?: string): Promise<RedisProbe>;
  command(...args: Array<string | number>): Promise<unknown>;
  snapshot(): Promise<{ cpuMicros: number; commands: Record<string, number>; usec: Record<string, number> }>;
  monitor(): Promise<string[]>;
  close(): void;
}
