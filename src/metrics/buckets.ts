/** Histogram buckets (upper bounds, seconds unless said otherwise). */

/** Store time, per command or summed over one request: 50 µs (a loopback round trip) to 1 s. */
export const STORE_SECONDS_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** Store commands caused by one HTTP request (a count, not seconds). */
export const STORE_COMMAND_COUNT_BUCKETS = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128];

/** Whole MCP request, 1 ms to 30 s (tool calls may be slow; GET streams exceed the top bucket). */
export const REQUEST_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Publish-to-delivery latency, local (sub-millisecond) or through the store (Redis pub/sub). */
export const DELIVERY_SECONDS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
