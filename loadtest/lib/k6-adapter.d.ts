/** Types of k6-adapter.js. */
import type { LoadConfig } from './config.js';
import type { AdapterResponse, FlowContext, HttpAdapter, MetricsSink } from './mcp.js';
export declare function fromK6Response(response: unknown): AdapterResponse;
export declare function k6Http(): HttpAdapter;
export declare function k6Metrics(): MetricsSink;
export declare function createK6Context(config: LoadConfig): FlowContext;
