export const NOT_PER_CALL_STATEMENT: RegExp;
export const NOT_PER_CALL_REDIS_KEY: RegExp;
export function statementText(query: string): string;
export function statementCounts(rows: Array<{ query: string; toplevel: boolean; calls: number | string }>): {
  top: Record<string, number>;
  nested: Record<string, number>;
};
export function countsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number>;
export function sum(counts: Record<string, number>): number;
export function processTree(root: number): number[];
export function clusterCpu(postmasterPid: number): Record<string, number>;
export function cpuBetween(before: Record<string, number>, after: Record<string, number>): number;
export type ProcessRole = 'commands' | 'listen' | 'background' | 'probe';
export function processRole(backendType: string | null, applicationName: string | null): ProcessRole;
export interface PostgresSnapshot {
  cpu: Record<string, number>;
  roles: Record<string, ProcessRole>;
  top: Record<string, number>;
  nested: Record<string, number>;
}
export function cpuByRole(before: Pick<PostgresSnapshot, 'cpu'>, after: Pick<PostgresSnapshot, 'cpu' | 'roles'>): Record<ProcessRole, number>;
export function enablePgStatStatements(postgres: { query(text: string): Promise<unknown>; restart(): Promise<void> }): Promise<void>;
export class PostgresProbe {
  static connect(postgres: { url: string; pid: number | undefined }): Promise<PostgresProbe>;
  snapshot(): Promise<PostgresSnapshot>;
  close(): Promise<void>;
}
