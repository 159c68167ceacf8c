/** Types of mcp.js, for the TypeScript tests that run the flows under Node. */
export interface AdapterResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
  error: string;
}

export interface RequestParams {
  headers: Record<string, string>;
  tags: Record<string, string>;
  timeoutMs?: number;
  /** A 404 is an expected answer here (not a failed request). */
  expect404?: boolean;
}

export interface HttpAdapter {
  request(method: string, url: string, body: string | null, params: RequestParams): Promise<AdapterResponse>;
  delay(ms: number): Promise<void>;
}

export interface MetricsSink {
  add(name: string, value: number | boolean, tags?: Record<string, string>): void;
  check(name: string, ok: boolean, tags?: Record<string, string>): void;
}

export interface FlowContext {
  http: HttpAdapter;
  metrics: MetricsSink;
  config: import('./config.js').LoadConfig;
  log(message: string): void;
}

export declare const PROTOCOL_VERSION: string;
export declare const REPLICA_HEADER: string;
export declare const SESSION_HEADER: string;

export declare function answerMessages(response: AdapterResponse): { messages: any[]; frames: import('./sse.js').SseFrame[] };

export declare class Answer {
  constructor(response: AdapterResponse, requestId: number);
  status: number;
  error: string;
  replica: string | undefined;
  headers: Record<string, string>;
  messages: any[];
  frames: import('./sse.js').SseFrame[];
  result: any;
  rpcError: any;
  readonly ok: boolean;
  readonly sessionNotFound: boolean;
}

export declare class StreamAnswer {
  constructor(response: AdapterResponse);
  status: number;
  error: string;
  replica: string | undefined;
  frames: import('./sse.js').SseFrame[];
  messages: any[];
  lastEventId: string | undefined;
  readonly ok: boolean;
}

export declare class McpSession {
  constructor(ctx: FlowContext, tags?: Record<string, string>);
  id: string | undefined;
  protocolVersion: string;
  initialize(tags?: Record<string, string>): Promise<Answer>;
  request(method: string, params?: Record<string, unknown>, tags?: Record<string, string>, options?: { expect404?: boolean }): Promise<Answer>;
  callTool(name: string, args?: Record<string, unknown>, tags?: Record<string, string>, options?: { expect404?: boolean }): Promise<Answer>;
  callToolRecovering(
    name: string,
    args?: Record<string, unknown>,
    tags?: Record<string, string>,
  ): Promise<{ answer: Answer; notFound: boolean; recovered: boolean }>;
  remove(tags?: Record<string, string>, options?: { expect404?: boolean }): Promise<number>;
  getStream(lastEventId?: string, tags?: Record<string, string>): Promise<StreamAnswer>;
  handle(): McpSession;
}
