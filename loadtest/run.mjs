#!/usr/bin/env node
// Runs one k6 scenario of loadtest/ against K6_MCP_URL, or against a local fleet it starts (three
// replicas, Redis, HAProxy) and stops afterwards when no URL is given.
//
//   npm run loadtest -- <scenario> [k6 run options...]
//   K6_MCP_URL=https://mcp.example.com/mcp npm run loadtest -- smoke
//
// K6 may name the k6 binary; FLEET_REPLICAS the local fleet's size (default 3).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { which } from '../dist/fleet/which.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const SCENARIOS = ['smoke', 'cross-replica-notifications', '404-recovery', 'sustained-load', 'modern', 'tasks'];
/** The local fleet ends GET streams after this poll window, which cross-replica-notifications reads by. */
const LOCAL_GET_STREAM_MAX_MS = '2000';
/** ... and listen streams after this long, which modern reads by (as K6_MCP_LISTEN_WINDOW_MS). */
const LOCAL_LISTEN_STREAM_MAX_MS = '2000';

const INSTALL_K6 = `k6 was not found on the PATH (set K6 to its path if it is elsewhere). Install k6 v0.49 or later:
  Debian/Ubuntu: Grafana's apt repository, see https://grafana.com/docs/k6/latest/set-up/install-k6/
  macOS:         brew install k6
  Docker:        docker run --rm -i --network host -v "$PWD/loadtest:/loadtest" grafana/k6 run /loadtest/<scenario>.js
  or a release binary from https://github.com/grafana/k6/releases
The scenarios' flows also run without k6, as end-to-end tests: npx vitest run tests/loadtest`;

function usage() {
  return `usage: npm run loadtest -- <scenario> [k6 run options...]\nscenarios: ${SCENARIOS.join(', ')}\n`;
}

function runK6(k6, args, env) {
  return new Promise((resolve) => {
    const child = spawn(k6, args, { stdio: 'inherit', env });
    child.once('error', (error) => {
      process.stderr.write(`could not run ${k6}: ${error.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function localListenStreamMaxMs() {
  return process.env.LISTEN_STREAM_MAX_MS || LOCAL_LISTEN_STREAM_MAX_MS;
}

async function startLocalFleet() {
  const entry = path.join(ROOT, 'dist', 'fleet', 'index.js');
  if (!fs.existsSync(entry)) throw new Error('dist/fleet/index.js is missing: run npm run build first (npm run loadtest does)');
  const { startFleet } = await import(pathToFileURL(entry).href);
  const env = {
    GET_STREAM_MAX_MS: process.env.GET_STREAM_MAX_MS || LOCAL_GET_STREAM_MAX_MS,
    LISTEN_STREAM_MAX_MS: localListenStreamMaxMs(),
    LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
  };
  // 404-recovery by TTL expiry needs the fleet to expire sessions that fast.
  if (process.env.K6_MCP_KILL === 'ttl') env.SESSION_TTL_SECONDS = process.env.K6_MCP_SESSION_TTL_SECONDS || '5';
  return startFleet({ replicas: Number(process.env.FLEET_REPLICAS || 3), env });
}

async function main() {
  const [name, ...k6Args] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const scenario = name.replace(/\.js$/, '').replace(/^loadtest\//, '');
  if (!SCENARIOS.includes(scenario)) {
    process.stderr.write(`unknown scenario ${name}\n${usage()}`);
    return 2;
  }
  const k6 = process.env.K6 || which('k6');
  if (!k6) {
    process.stderr.write(`${INSTALL_K6}\n`);
    return 3;
  }
  const script = path.join(HERE, `${scenario}.js`);
  // k6 stops on Ctrl-C by itself (same process group); this process waits for it, then cleans up.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  if (process.env.K6_MCP_URL) {
    process.stdout.write(`running ${scenario} against ${process.env.K6_MCP_URL}\n`);
    return runK6(k6, ['run', ...k6Args, script], process.env);
  }
  process.stdout.write('K6_MCP_URL is not set: starting a local fleet (3 replicas, Redis, HAProxy) ...\n');
  const fleet = await startLocalFleet();
  try {
    process.stdout.write(`running ${scenario} against ${fleet.url}\n`);
    // The scenario reads listen streams by the window the local fleet was given.
    const env = { ...process.env, K6_MCP_URL: fleet.url, K6_MCP_LISTEN_WINDOW_MS: process.env.K6_MCP_LISTEN_WINDOW_MS || localListenStreamMaxMs() };
    return await runK6(k6, ['run', ...k6Args, script], env);
  } finally {
    await fleet.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`loadtest: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
