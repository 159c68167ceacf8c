export interface CliOptions {
  replicas: number;
  /** The load balancer's port; 0 picks a free one. */
  port: number;
  basePort: number | undefined;
  store: 'redis' | 'postgres';
  redisUrl: string | undefined;
  databaseUrl: string | undefined;
  logDir: string;
  verbose: boolean;
  env: Record<string, string>;
  help: boolean;
}

export const USAGE = `Usage: npm run fleet -- [options]

Starts a local mcp-fleet: a store (redis-server, or a PostgreSQL cluster with --store postgres), N server replicas and HAProxy balancing every request
over them, round-robin, with no affinity. Ctrl-C stops everything it started.

Options:
  --replicas N        server processes (default 3)
  --port P            the load balancer's port (default 8080; 0 picks a free port)
  --base-port P       put the replicas on consecutive ports from P (default: free ports)
  --store S           redis (default) or postgres: the store every replica shares
  --redis-url URL     use this Redis instead of starting redis-server (default: $REDIS_URL)
  --database-url URL  use this PostgreSQL instead of starting a private cluster (default: $DATABASE_URL; implies --store postgres)
  --env NAME=VALUE    extra environment for every replica (repeatable), e.g. --env GET_STREAM_MAX_MS=5000
  --log-dir DIR       where each process's log goes (default .fleet/logs)
  --verbose           copy the replicas' output to this terminal too
  --help              this text
`;

export class UsageError extends Error {}

function integer(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${flag} needs a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

export function parseCliArgs(argv: string[], environment: NodeJS.ProcessEnv = process.env): CliOptions {
  const options: CliOptions = {
    replicas: 3,
    port: 8080,
    basePort: undefined,
    store: environment.DATABASE_URL ? 'postgres' : 'redis',
    redisUrl: environment.REDIS_URL || undefined,
    databaseUrl: environment.DATABASE_URL || undefined,
    logDir: '.fleet/logs',
    verbose: false,
    env: {},
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      i++;
      return next;
    };
    switch (flag) {
      case '--replicas':
        options.replicas = integer(flag, value(), 1, 64);
        break;
      case '--port':
        options.port = integer(flag, value(), 0, 65535);
        break;
      case '--base-port':
        options.basePort = integer(flag, value(), 1, 65000);
        break;
      case '--store': {
        const store = value();
        if (store !== 'redis' && store !== 'postgres') throw new UsageError(`--store must be redis or postgres (got ${JSON.stringify(store)})`);
        options.store = store;
        break;
      }
      case '--database-url':
        options.databaseUrl = value();
        options.store = 'postgres';
        break;
      case '--redis-url':
        options.redisUrl = value();
        break;
      case '--log-dir':
        options.logDir = value();
        break;
      case '--env': {
        const pair = value();
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new UsageError(`--env needs NAME=VALUE (got ${JSON.stringify(pair)})`);
        options.env[pair.slice(0, eq)] = pair.slice(eq + 1);
        break;
      }
      case '--verbose':
        options.verbose = true;
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  }
  return options;
}
