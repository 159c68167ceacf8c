import { ConfigError, loadConfig, settingNames, type ServerConfig } from '../config.js';
import { log, setLogLevel } from '../log.js';
import { PrometheusObserver, startMetricsServer, type MetricsServer } from '../metrics/index.js';
import { installRejectionGuard } from '../process-guards.js';
import { createFleetServer, type FleetServer } from '../server/fleet-server.js';
import { loadWorkload, WorkloadLoadError } from '../workload/load-workload.js';
import type { Workload } from '../workload/types.js';
import { ListenError, listening } from './listen-error.js';
import { unknownSettings } from './unknown-settings.js';

/**
 * How long closing the connections may take once the drain is over (runtimes, the store's
 * connections: QUIT, then a hard disconnect). Past SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS + this, the
 * process exits anyway: a stop is always bounded.
 */
export const CLOSE_BOUND_MS = 5000;

export interface RunFleetServerOptions {
  /** The workload, or its spec (`reference`, `conformance`, a module); MCP_WORKLOAD when unset. */
  workload?: Workload | string;
  /** The settings (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Where a workload module's relative path starts (default: the working directory). */
  cwd?: string;
}

export interface RunningFleetServer {
  config: ServerConfig;
  server: FleetServer;
  workload: Workload;
  /** The MCP endpoint as this host reaches it. */
  url: string;
  metricsUrl: string | undefined;
  /** Drains and closes as SIGTERM does, then exits the process. */
  stop(reason: string): void;
}

/** A start-up failure the operator fixes in the settings: one line, exit code 2. */
const isSettingsError = (error: unknown): boolean => error instanceof ConfigError || error instanceof WorkloadLoadError;

function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`mcp-fleet: ${isSettingsError(error) ? '' : 'could not start: '}${message}\n`);
  process.exit(isSettingsError(error) || error instanceof ListenError ? 2 : 1);
}

const localHost = (host: string): string => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

/**
 * What `mcp-fleet serve` (and `npm start`) run, for any workload: settings from the environment,
 * JSON logs, the MCP listener, the /metrics listener, readiness, and a drain on SIGTERM/SIGINT that
 * always ends (a second signal exits at once). Owns the process: a start-up failure prints one
 * line and exits (2 for a setting or workload to fix, 1 otherwise), and a stop exits.
 */
export async function runFleetServer(options: RunFleetServerOptions = {}): Promise<RunningFleetServer> {
  const env = options.env ?? process.env;
  let config: ServerConfig;
  let workload: Workload;
  try {
    config = loadConfig(env);
    setLogLevel(config.logLevel);
    workload = typeof options.workload === 'object' ? options.workload : await loadWorkload(options.workload ?? config.workload, options.cwd);
  } catch (error) {
    if (isSettingsError(error)) fail(error);
    throw error;
  }
  for (const { name, closest } of unknownSettings(env, settingNames())) {
    log.warn(`unknown setting ${name} ignored: did you mean ${closest}?`, { name, closest });
  }
  installRejectionGuard();
  const observer = new PrometheusObserver();
  let server: FleetServer;
  let metrics: MetricsServer | undefined;
  let port: number;
  try {
    server = await createFleetServer({ config, workload, observer });
    port = await listening('PORT', config.host, config.port, () => server.listen());
    if (config.metricsPort !== 0) {
      metrics = await listening('METRICS_PORT', config.host, config.metricsPort, () => startMetricsServer(observer.registry, config.metricsPort, config.host));
    }
  } catch (error) {
    fail(error);
  }
  const url = `http://${localHost(config.host)}:${port}${config.mcpPath}`;
  const metricsUrl = metrics ? `http://${localHost(config.host)}:${metrics.port}/metrics` : undefined;
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) {
      log.error('stopping at once: a second signal during the drain', { signal: reason });
      process.exit(reason === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    const boundMs = config.shutdownDelayMs + config.drainTimeoutMs + CLOSE_BOUND_MS;
    log.info('stopping', { signal: reason, boundMs });
    setTimeout(() => {
      log.error('the stop outlasted its bound: exiting without finishing it', { boundMs });
      process.exit(1);
    }, boundMs).unref();
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
  // Announced once the signals are handled: whoever waits for this line may stop the process at once.
  log.info('listening', {
    url,
    replica: config.replicaName,
    store: server.store.kind,
    sessionMode: config.sessionMode,
    workload: workload.name,
    metrics: metricsUrl ?? 'off',
  });

  return { config, server, workload, url, metricsUrl, stop };
}
