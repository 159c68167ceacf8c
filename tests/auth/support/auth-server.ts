import { loadConfig } from '../../../src/config.js';
import { freePort } from '../../../src/fleet/free-port.js';
import { createFleetServer, type FleetServer } from '../../../src/server/fleet-server.js';
import { referenceWorkload } from '../../../src/workload/reference.js';

export interface AuthServer {
  server: FleetServer;
  /** The MCP endpoint, which is also the resource URL tokens must be issued for. */
  url: string;
  origin: string;
}

/** One in-process replica in memory mode with authorization on, on a port known before it starts. */
export async function startAuthServer(env: Record<string, string>, port?: number): Promise<AuthServer> {
  port ??= await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/mcp`;
  const config = loadConfig({
    HOST: '127.0.0.1',
    POD_NAME: 'auth-test',
    METRICS_PORT: '0',
    LOG_LEVEL: 'silent',
    AUTH_RESOURCE_URL: url,
    ...env,
    PORT: String(port),
  });
  const server = await createFleetServer({ config, workload: referenceWorkload });
  await server.listen();
  return { server, url, origin };
}
