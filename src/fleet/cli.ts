#!/usr/bin/env node
import net from 'node:net';
import path from 'node:path';
import { parseCliArgs, USAGE, UsageError, type CliOptions } from './cli-args.js';
import { startFleet, type Fleet } from './index.js';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function describe(fleet: Fleet): string {
  const rows = fleet.replicas.map(
    (r) => `  ${r.name.padEnd(12)} port ${String(r.port).padEnd(6)} pid ${String(r.pid ?? '-').padEnd(8)} metrics ${r.metricsUrl}`,
  );
  return [
    '',
    `MCP endpoint (load balancer, every request round-robin): ${fleet.url}`,
    fleet.store === 'postgres'
      ? `PostgreSQL: ${fleet.storeUrl}${fleet.postgres ? ` (started by the launcher, data in ${fleet.postgres.dir}, removed on stop)` : ''}`
      : `Redis: ${fleet.storeUrl}${fleet.redis ? ' (started by the launcher, nothing persisted)' : ''}`,
    'Replicas:',
    ...rows,
    `Logs: ${fleet.logDir}`,
    `Load balancer configuration: ${fleet.lbConfigFile}`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

async function run(options: CliOptions): Promise<void> {
  if (options.port !== 0 && !(await portIsFree(options.port))) {
    throw new UsageError(`port ${options.port} is in use; pick another with --port (0 picks a free one)`);
  }
  process.stdout.write(`starting ${options.replicas} replicas ...\n`);
  const fleet = await startFleet({
    replicas: options.replicas,
    store: options.store,
    redisUrl: options.redisUrl,
    databaseUrl: options.databaseUrl,
    env: options.env,
    basePort: options.basePort,
    lbPort: options.port === 0 ? undefined : options.port,
    logDir: path.resolve(options.logDir),
    quiet: !options.verbose,
  });
  process.stdout.write(describe(fleet));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`${signal} again: killing everything\n`);
      process.exit(130);
    }
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the fleet ...\n`);
    fleet.stop().then(
      () => {
        process.stdout.write('stopped\n');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`stopping failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));

  // A replica that dies on its own is reported (the fleet keeps running: that is what it is for).
  const down = new Set<string>();
  const watch = setInterval(() => {
    for (const replica of fleet.replicas) {
      if (!replica.running && !stopping && !down.has(replica.name)) {
        down.add(replica.name);
        process.stderr.write(`${replica.name} is not running; its log: ${replica.logFile}\n`);
      }
      if (replica.running) down.delete(replica.name);
    }
  }, 1000);
  watch.unref();
  // Keep the process alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

let options: CliOptions;
try {
  options = parseCliArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
run(options).catch((error: unknown) => {
  process.stderr.write(`mcp-fleet: the fleet did not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
