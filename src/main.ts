#!/usr/bin/env node
import { ConfigError, loadConfig, type FleetConfig } from './config.js';
import { log, setLogLevel } from './log.js';
import { installRejectionGuard } from './process-guards.js';
import { PrometheusObserver, startMetricsServer, type MetricsServer } from './metrics/index.js';
import { createFleetServer } from './server/fleet-server.js';
import { resolveWorkload } from './workload/registry.js';

async function main(): Promise<void> {
  let config: FleetConfig;
  let workload;
  try {
    config = loadConfig();
    workload = resolveWorkload(config.workload);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`mcp-fleet: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  setLogLevel(config.logLevel);
  installRejectionGuard();
  const observer = new PrometheusObserver();
  const server = await createFleetServer({ config, workload, observer });
  const port = await server.listen();
  let metrics: MetricsServer | undefined;
  if (config.metricsPort !== 0) metrics = await startMetricsServer(observer.registry, config.metricsPort, config.host);
  log.info('listening', {
    url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}${config.mcpPath}`,
    replica: config.replicaName,
    store: server.store.kind,
    sessionMode: config.sessionMode,
    workload: workload.name,
    metrics: metrics ? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${metrics.port}/metrics` : 'off',
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    server
      .shutdown()
      .then(() => metrics?.close())
      .then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`mcp-fleet: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
