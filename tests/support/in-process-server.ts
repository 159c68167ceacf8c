import { loadConfig } from '../../src/config.js';
import { setLogLevel } from '../../src/log.js';
import { createFleetServer, type FleetServer } from '../../src/server/fleet-server.js';
import { referenceWorkload } from '../../src/workload/reference.js';
import type { Workload } from '../../src/workload/types.js';

export interface InProcessServer {
  server: FleetServer;
  /** The MCP endpoint. */
  url: string;
  port: number;
  /** Drains and stops the server (as SIGTERM does). */
  stop(): Promise<void>;
}

/**
 * One replica built inside the test process from the sources (no `dist/`, no child process), in
 * memory unless `env` names a Redis, listening on a port the kernel picks. What a test sees is
 * what a client sees over HTTP; coverage of `src/server/` counts it.
 */
export async function startInProcess(env: Record<string, string> = {}, workload: Workload = referenceWorkload): Promise<InProcessServer> {
  setLogLevel('silent');
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    POD_NAME: 'in-process',
    METRICS_PORT: '0',
    LOG_LEVEL: 'silent',
    DRAIN_TIMEOUT_MS: '2000',
    REQUEST_STATE_KEYS: 'in-process-request-state-key-0123456789',
    ...env,
  });
  const server = await createFleetServer({ config, workload });
  const port = await server.listen();
  return { server, port, url: `http://127.0.0.1:${port}/mcp`, stop: () => server.shutdown() };
}
