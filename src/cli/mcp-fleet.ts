#!/usr/bin/env node
// `mcp-fleet serve [--workload SPEC]` runs a replica; `mcp-fleet client ...` is the client CLI.
// Runs in this process (no child process): the one that receives SIGTERM is the one that drains.
import { readFileSync } from 'node:fs';

const USAGE = `Usage:
  mcp-fleet serve [--workload SPEC]   run a replica (settings from the environment, see README)
  mcp-fleet client [options] URL ...  the MCP client CLI (mcp-fleet client --help)
  mcp-fleet --version

SPEC (or MCP_WORKLOAD): reference, conformance, or a module whose default export is a Workload:
a path relative to the working directory (./dist/tools.js) or an installed package name.
`;

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

function usageError(message: string): never {
  process.stderr.write(`mcp-fleet: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/** The workload `serve` was given, if any. */
function parseServeArgs(args: string[]): { workload: string | undefined; help: boolean } {
  let workload: string | undefined;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--workload') {
      workload = args[++i];
      if (workload === undefined) throw new Error('--workload needs a value');
    } else if (arg.startsWith('--workload=')) workload = arg.slice('--workload='.length);
    else throw new Error(`serve: unknown argument ${JSON.stringify(arg)}`);
  }
  return { workload, help };
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve': {
      let parsed: ReturnType<typeof parseServeArgs>;
      try {
        parsed = parseServeArgs(rest);
      } catch (error) {
        usageError((error as Error).message);
      }
      if (parsed.help) {
        process.stdout.write(USAGE);
        return;
      }
      const { runFleetServer } = await import('../run/run-fleet-server.js');
      await runFleetServer({ workload: parsed.workload });
      return;
    }
    case 'client':
      // The client CLI reads its arguments from process.argv.
      process.argv.splice(2, 1);
      await import('../client/cli.js');
      return;
    case '--version':
    case 'version':
      process.stdout.write(`${version()}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      usageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`mcp-fleet: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
