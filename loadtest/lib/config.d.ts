/** Types of config.js. */
export interface LoadConfig {
  url: string;
  streamTimeoutMs: number;
  notifyCalls: number;
  notificationsPerCall: number;
  maxPolls: number;
  crossReplicaFloor: number;
  killMode: 'delete' | 'ttl';
  sessionTtlSeconds: number;
  rate: number;
  rampUp: string;
  hold: string;
  preAllocatedVUs: number;
  maxVUs: number;
  p95Ms: number;
  p99Ms: number;
  maxErrorRate: number;
  listenWindowMs: number;
  listenSettleMs: number;
  listenMarginMs: number;
  listenCounters: number;
  listenBumps: number;
  sampleCalls: number;
  taskCount: number;
  taskStepMs: number;
  taskPollMs: number;
  taskTimeoutMs: number;
  taskRechecks: number;
  vus: number;
  duration: string;
  summaryJson: string;
}
export declare const DEFAULT_URL: string;
export declare function loadConfig(env: Record<string, string | undefined>): LoadConfig;
