export interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}
export interface Window {
  from?: number;
  to?: number;
}
export interface SelfTimes {
  busyUs: number;
  idleUs: number;
  functions: Map<string, { name: string; location: string; pkg: string; selfUs: number }>;
  packages: Map<string, number>;
  inclusive: Map<string, number>;
}
export interface PerCall {
  calls?: number;
  cpuUsPerCall?: number;
}
export function readProfiles(paths: string[]): Array<{ file: string; profile: CpuProfile }>;
export function timedSamples(profile: CpuProfile, window?: Window): Array<{ id: number; at: number; duration: number }>;
export function packageOf(url: string): string;
export function selfTimes(profiles: CpuProfile[], window?: Window): SelfTimes;
export function topFunctions(
  times: SelfTimes,
  options?: { top?: number } & PerCall,
): Array<{ name: string; location: string; pkg: string; selfMs: number; share: number; usPerCall: number }>;
export function topPackages(times: SelfTimes, options?: PerCall): Array<{ pkg: string; selfMs: number; share: number; usPerCall: number }>;
export const OWN_OR_MCP: RegExp;
export function topInclusive(
  times: SelfTimes,
  options?: { top?: number; only?: RegExp } & PerCall,
): Array<{ name: string; location: string; pkg: string; totalMs: number; share: number; usPerCall: number }>;
export function renderSummary(times: SelfTimes, options?: { top?: number; title?: string } & PerCall): string;
export function mergeProfiles(profiles: CpuProfile[], window?: Window): CpuProfile;
