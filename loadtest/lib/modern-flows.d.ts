/** Types of modern-flows.js. */
import type { FlowContext } from './mcp.js';
import type { ListenAnswer, ModernClient } from './modern-mcp.js';

export interface PendingListen {
  stream: Promise<ListenAnswer>;
  uris: string[];
  start: string;
  end: string;
  bumped: Record<string, number>;
  bumpReplicas: string[];
}
export interface ListenReport {
  ok: boolean;
  judged: boolean;
  expected: number;
  received: number;
  /** undefined where the stream was not judged (a marker missing). */
  lost: number | undefined;
  duplicated: number;
  unexpected: number;
  acknowledged: boolean;
  ready: boolean;
  complete: boolean;
  streamReplica: string | undefined;
  bumpReplicas: string[];
  cross: boolean;
}
export interface SampleReport {
  ok: boolean;
  firstReplica: string | undefined;
  retryReplica: string | undefined;
  cross: boolean;
}
export interface TamperReport {
  ok: boolean;
  error: { code: number; message: string; data?: unknown } | undefined;
}
export interface ModernReport {
  ok: boolean;
  listen: ListenReport;
  samples: SampleReport[];
  tamper: TamperReport;
}
export declare function judgeUpdates(bumped: Record<string, number>, received: Record<string, number>): { expected: number; lost: number; duplicated: number };
export declare function listenAndBump(ctx: FlowContext, client: ModernClient): Promise<PendingListen>;
export declare function judgeListen(ctx: FlowContext, pending: PendingListen): Promise<ListenReport>;
export declare function sampleAcrossReplicas(ctx: FlowContext, client: ModernClient, prompt: string): Promise<SampleReport>;
export declare function tamperedRetry(ctx: FlowContext, client: ModernClient, prompt: string): Promise<TamperReport>;
export declare function modernIteration(ctx: FlowContext): Promise<ModernReport>;
