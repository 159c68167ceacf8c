/** Types of flows.js. */
import type { FlowContext, McpSession } from './mcp.js';

export interface NotificationsReport {
  ok: boolean;
  reason?: string;
  expected: number;
  received: number;
  lost: number;
  duplicated: number;
  inOrder: boolean;
  polls: number;
  streamReplica: string | undefined;
  notifyReplicas: string[];
  cross: boolean;
}
export interface RecoveryReport {
  ok: boolean;
  reason?: string;
  notFound: boolean;
  recovered: boolean;
  killed: string;
  replacement: string;
}
export interface ToolCallReport {
  ok: boolean;
  tool: string;
  replica?: string;
  recovered?: boolean;
  reason?: string;
}
export interface VuState {
  session?: McpSession;
}
export declare function uniqueTag(prefix: string): string;
export declare function judgeDelivery(expected: string[], received: string[]): { lost: number; duplicated: number; inOrder: boolean; unexpected: number };
export declare function crossReplicaNotifications(ctx: FlowContext): Promise<NotificationsReport>;
export declare function recoveryAfter404(ctx: FlowContext): Promise<RecoveryReport>;
export declare function sustainedToolCall(ctx: FlowContext, state: VuState, n: number): Promise<ToolCallReport>;
export declare function closeSession(state: VuState): Promise<void>;
export declare function smoke(
  ctx: FlowContext,
): Promise<{ ok: boolean; notifications: NotificationsReport; recovery: RecoveryReport; calls: ToolCallReport[] }>;
