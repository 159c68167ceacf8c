/** Types of modern-mcp.js. */
import type { AdapterResponse, Answer, FlowContext } from './mcp.js';

export declare const MODERN_PROTOCOL_VERSION: string;
export declare const SUBSCRIPTION_ID_META: string;
export declare const ACKNOWLEDGED: string;
export declare const RESOURCE_UPDATED: string;
export declare const TASKS_EXTENSION: string;

export declare class ListenAnswer {
  constructor(response: AdapterResponse, subscriptionId: number | string);
  status: number;
  error: string;
  replica: string | undefined;
  subscriptionId: number | string;
  messages: any[];
  readonly ok: boolean;
  readonly acknowledgement: any;
  stamped(message: unknown): boolean;
  updatesByUri(requested: string[]): { counts: Record<string, number>; unexpected: number };
}

export declare class ModernClient {
  constructor(ctx: FlowContext, tags?: Record<string, string>, capabilities?: Record<string, unknown>);
  clientInfo: { name: string; version: string };
  capabilities: Record<string, unknown>;
  body(id: number, method: string, params?: Record<string, unknown>): Record<string, any>;
  headers(method: string, params?: Record<string, unknown>): Record<string, string>;
  request(method: string, params?: Record<string, unknown>, tags?: Record<string, string>): Promise<Answer>;
  callTool(name: string, args?: Record<string, unknown>, extra?: Record<string, unknown>, tags?: Record<string, string>): Promise<Answer>;
  listen(uris: string[], tags?: Record<string, string>): Promise<ListenAnswer>;
}
