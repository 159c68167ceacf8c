import { loadConfig, type LoadConfig } from '../../loadtest/lib/config.js';
import type { FlowContext } from '../../loadtest/lib/mcp.js';
import { nodeHttp } from './fetch-adapter.js';
import { MemoryMetrics } from './memory-metrics.js';

export interface NodeContext extends FlowContext {
  metrics: MemoryMetrics;
  config: LoadConfig;
  logs: string[];
  close(): void;
}

/** A flow context against `url`, with the scenario settings of `env` (names as under k6). */
export function nodeContext(url: string, env: Record<string, string> = {}, options: { reuse?: boolean } = {}): NodeContext {
  const metrics = new MemoryMetrics();
  const adapter = nodeHttp(metrics, options);
  const logs: string[] = [];
  return {
    http: adapter,
    metrics,
    config: loadConfig({ ...env, K6_MCP_URL: url }),
    logs,
    log: (message: string) => logs.push(message),
    close: () => adapter.close(),
  };
}

/**
 * k6's shared-iterations executor in small: `vus` workers take `iterations` iterations between
 * them; each worker has its own state object, as each k6 VU has its own module scope.
 */
export async function runIterations<T>(iterations: number, vus: number, iteration: (state: Record<string, unknown>, n: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: vus }, async () => {
      const state: Record<string, unknown> = {};
      for (let n = next++; n < iterations; n = next++) results[n] = await iteration(state, n);
    }),
  );
  return results;
}
