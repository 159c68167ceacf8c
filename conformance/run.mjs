#!/usr/bin/env node
// Runs the official MCP conformance suite's server scenarios against mcp-fleet: the requirement set
// of each protocol revision (2025-11-25 on the session wire, 2026-07-28 on the stateless wire),
// against one in-memory server process and against a local fleet of three replicas behind a load
// balancer, once on Redis and once on PostgreSQL: six runs. Prints them side by side and exits non-zero on any failure of a required
// scenario not listed, with its reason, in conformance/expected-failures.json.
//
//   npm run conformance [-- --target single|fleet|fleet-postgres|all] [--revision 2025-11-25|2026-07-28|all]
//                       [--scenario NAME[,NAME...]] [--verbose] [--keep]
//
// The suite needs Node >= 22 (the project itself runs on Node 20): set CONFORMANCE_NODE, or see the
// message printed when none is found. CONFORMANCE_CLI may point at the suite's dist/index.js.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { evaluateRun, formatSideBySide, parseExpectedFailures, parseRequirementList, scenarioFromResultDir, summarizeChecks } from './results.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requireFromRoot = createRequire(path.join(ROOT, 'package.json'));
const NODE_PACKAGE = `node-${process.platform}-${process.arch}`;
const NODE_CACHE = path.join(ROOT, 'node_modules', '.cache', 'conformance-node');
const SUITE_PACKAGE = '@modelcontextprotocol/conformance';
const SUITE_VERSION = '0.2.0-alpha.12';
/** The revisions whose requirement sets are run, each at its own wire. */
const REVISIONS = ['2025-11-25', '2026-07-28'];
const SERVER_START_TIMEOUT_MS = 20_000;
const SUITE_TIMEOUT_MS = 10 * 60_000;
/** Settings of the server that the targets decide themselves, whatever the caller's environment says. */
const SERVER_SETTINGS = /^(PORT|HOST|MCP_PATH|METRICS_PORT|SESSION_MODE|MCP_WORKLOAD|ALLOWED_ORIGINS|ALLOWED_HOSTS|REDIS_.*|DATABASE_.*)$/;
const ALL_TARGETS = ['single', 'fleet', 'fleet-postgres'];

/** A problem with the setup rather than with the server: reported as such, exit code 2. */
class SetupError extends Error {}

function parseArgs(argv) {
  const options = { targets: ALL_TARGETS, revisions: REVISIONS, scenarios: undefined, verbose: false, keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      const next = argv[i + 1];
      if (next === undefined) throw new SetupError(`${arg} needs a value`);
      i += 1;
      return next;
    };
    if (arg === '--target') {
      const target = value();
      if (![...ALL_TARGETS, 'all'].includes(target)) throw new SetupError(`--target is ${ALL_TARGETS.join(', ')} or all`);
      options.targets = target === 'all' ? ALL_TARGETS : [target];
    } else if (arg === '--revision') {
      const revision = value();
      if (![...REVISIONS, 'all'].includes(revision)) throw new SetupError(`--revision is ${REVISIONS.join(', ')} or all`);
      options.revisions = revision === 'all' ? REVISIONS : [revision];
    } else if (arg === '--scenario') {
      options.scenarios = [...(options.scenarios ?? []), ...value().split(',').filter(Boolean)];
    } else if (arg === '--verbose') options.verbose = true;
    else if (arg === '--keep') options.keep = true;
    else throw new SetupError(`unknown argument ${arg}`);
  }
  return options;
}

function nodeMajor(binary) {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const match = result.status === 0 ? /^v(\d+)\./.exec(result.stdout.trim()) : null;
  return match ? Number(match[1]) : undefined;
}

/** A Node >= 22 to run the suite with. */
function findNode() {
  const fromEnv = process.env.CONFORMANCE_NODE;
  if (fromEnv) {
    const major = nodeMajor(fromEnv);
    if (major === undefined || major < 22) {
      throw new SetupError(`CONFORMANCE_NODE=${fromEnv} is not a Node 22 or later (${major ? `v${major}` : 'does not run'})`);
    }
    return fromEnv;
  }
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const candidates = [];
  try {
    candidates.push(path.join(path.dirname(requireFromRoot.resolve(`${NODE_PACKAGE}/package.json`)), 'bin', 'node'));
  } catch {
    // not installed in the project
  }
  candidates.push(path.join(NODE_CACHE, 'node_modules', NODE_PACKAGE, 'bin', 'node'));
  for (const candidate of candidates) {
    if (fs.existsSync(candidate) && (nodeMajor(candidate) ?? 0) >= 22) return candidate;
  }
  throw new SetupError(
    [
      `The conformance suite needs Node 22 or later; this is Node ${process.version} and no other was found.`,
      'Either point CONFORMANCE_NODE at a Node >= 22 binary, or install one where this script looks for it',
      `(${path.relative(ROOT, NODE_CACHE)}, inside node_modules, so it is never committed, and off the PATH of npm scripts):`,
      '',
      '  bash scripts/conformance-node.sh',
    ].join('\n'),
  );
}

/** The suite's CLI script and version. */
function findSuite() {
  const fromEnv = process.env.CONFORMANCE_CLI;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new SetupError(`CONFORMANCE_CLI=${fromEnv} does not exist`);
    return { cli: fromEnv, version: 'from CONFORMANCE_CLI' };
  }
  let manifestPath;
  try {
    manifestPath = requireFromRoot.resolve(`${SUITE_PACKAGE}/package.json`);
  } catch {
    throw new SetupError(`${SUITE_PACKAGE} is not installed: it is a dev dependency (${SUITE_VERSION}), run npm ci`);
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.conformance;
  if (!bin) throw new SetupError(`${manifestPath} names no conformance binary`);
  return { cli: path.join(path.dirname(manifestPath), bin), version: manifest.version };
}

/**
 * Extension scenarios the suite runs unscored that this project scores as required: it implements
 * the io.modelcontextprotocol/tasks extension (src/tasks/), so its scenarios must pass.
 */
const SCORED_EXTENSION_SCENARIOS = /^tasks-/;

/** What a revision requires of a server (the suite's set and this project's scored extensions), and what it runs without scoring. */
function listRequirements(node, cli, revision) {
  const result = spawnSync(node, [cli, 'list', '--server', '--requirements', revision], { encoding: 'utf8' });
  if (result.status !== 0) throw new SetupError(`conformance list --requirements ${revision} failed:\n${result.stderr || result.stdout}`);
  const set = parseRequirementList(result.stdout);
  if (set.required.length === 0) throw new SetupError(`conformance list --requirements ${revision} printed no server scenarios:\n${result.stdout}`);
  return scoreProjectExtensions(set);
}

function scoreProjectExtensions({ required, notScored }) {
  const scored = notScored.filter(({ scenario }) => SCORED_EXTENSION_SCENARIOS.test(scenario)).map(({ scenario }) => scenario);
  return { required: [...required, ...scored], notScored: notScored.filter(({ scenario }) => !scored.includes(scenario)) };
}

function readExpectedFailures() {
  const file = path.join(ROOT, 'conformance', 'expected-failures.json');
  try {
    return parseExpectedFailures(fs.readFileSync(file, 'utf8'), REVISIONS);
  } catch (error) {
    throw new SetupError(`${path.relative(ROOT, file)}: ${error.message}`);
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Things to undo if the run is interrupted. */
const cleanups = new Set();

function onInterrupt(signal) {
  process.stderr.write(`\n${signal}: stopping servers\n`);
  Promise.allSettled([...cleanups].map((cleanup) => cleanup())).finally(() => process.exit(130));
}

/** `node dist/main.js` on a free loopback port, in memory, serving the conformance workload. */
async function withSingleServer(workDir, use) {
  const main = path.join(ROOT, 'dist', 'main.js');
  if (!fs.existsSync(main)) throw new SetupError('dist/main.js is missing: run npm run build first');
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SERVER_SETTINGS.test(name)));
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    MCP_WORKLOAD: 'conformance',
    DRAIN_TIMEOUT_MS: '2000',
  });
  const logPath = path.join(workDir, 'single-server.log');
  const log = fs.openSync(logPath, 'a');
  const child = spawn(process.execPath, [main], { cwd: ROOT, env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exit;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exit = { code, signal }))));
  const stop = async () => {
    if (exit) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  cleanups.add(stop);
  try {
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
    while (!(await canConnect(port))) {
      if (exit) throw new SetupError(`the server exited (${exit.signal ?? `code ${exit.code}`}) before listening; see ${logPath}`);
      if (Date.now() > deadline) throw new SetupError(`the server did not listen on port ${port} in time; see ${logPath}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return await use(`http://127.0.0.1:${port}/mcp`);
  } finally {
    await stop();
    cleanups.delete(stop);
  }
}

/** The suite's DNS-rebinding scenario needs a loopback URL, and the others the MCP endpoint. */
function mcpEndpoint(url) {
  const parsed = new URL(url);
  if (parsed.hostname === '0.0.0.0' || parsed.hostname === '[::]') parsed.hostname = '127.0.0.1';
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/mcp';
  return parsed.href;
}

/** Three replicas on `store` (redis or postgres) behind the local load balancer, from the fleet launcher. */
async function withFleet(_workDir, use, store = 'redis') {
  const entry = path.join(ROOT, 'dist', 'fleet', 'index.js');
  if (!fs.existsSync(entry)) {
    throw new SetupError(
      fs.existsSync(path.join(ROOT, 'src', 'fleet', 'index.ts'))
        ? 'dist/fleet/index.js is missing: run npm run build first'
        : 'there is no fleet launcher (src/fleet/index.ts) in this checkout',
    );
  }
  const { startFleet } = await import(pathToFileURL(entry).href);
  if (typeof startFleet !== 'function') throw new SetupError('dist/fleet/index.js exports no startFleet');
  let fleet;
  try {
    fleet = await startFleet({ replicas: 3, store, env: { MCP_WORKLOAD: 'conformance' } });
  } catch (error) {
    throw new SetupError(`the fleet did not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  const stop = () => fleet.stop();
  cleanups.add(stop);
  try {
    return await use(mcpEndpoint(fleet.url));
  } finally {
    await stop();
    cleanups.delete(stop);
  }
}

/**
 * Runs one revision's requirement set (or, with --scenario, each chosen scenario at that revision)
 * and reads back every scenario's checks.
 */
async function runSuite({ node, cli, url, revision, outDir, logPath, scenarios, verbose }) {
  const runs = scenarios
    ? // --force: an extension scenario (tasks-*) is off the spec timeline, and runs only when forced.
      scenarios.map((s) => ['--scenario', s, '--spec-version', revision, ...(SCORED_EXTENSION_SCENARIOS.test(s) ? ['--force'] : [])])
    : [['--requirements', revision]];
  for (const selection of runs) {
    const log = fs.openSync(logPath, 'a');
    const child = spawn(node, [cli, 'server', '--url', url, '-o', outDir, ...selection], {
      cwd: ROOT,
      stdio: ['ignore', verbose ? 'pipe' : log, verbose ? 'pipe' : log],
    });
    if (verbose) {
      for (const stream of [child.stdout, child.stderr]) {
        stream.on('data', (chunk) => {
          fs.appendFileSync(logPath, chunk);
          process.stdout.write(chunk);
        });
      }
    }
    fs.closeSync(log);
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(kill, SUITE_TIMEOUT_MS);
    cleanups.add(kill);
    // The suite exits 1 when a required scenario fails; the checks themselves are judged below.
    await new Promise((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    cleanups.delete(kill);
  }
  const results = new Map();
  for (const dir of fs.existsSync(outDir) ? fs.readdirSync(outDir) : []) {
    const scenario = scenarioFromResultDir(dir);
    const checksFile = path.join(outDir, dir, 'checks.json');
    if (scenario && fs.existsSync(checksFile)) {
      results.set(scenario, summarizeChecks(JSON.parse(fs.readFileSync(checksFile, 'utf8'))));
    }
  }
  return results;
}

const TARGETS = {
  single: { title: 'one replica in memory', start: withSingleServer },
  fleet: { title: 'the fleet (3 replicas on Redis behind HAProxy)', start: (workDir, use) => withFleet(workDir, use, 'redis') },
  'fleet-postgres': { title: 'the fleet (3 replicas on PostgreSQL behind HAProxy)', start: (workDir, use) => withFleet(workDir, use, 'postgres') },
};

/** A revision's scenarios narrowed to the ones chosen with --scenario. */
function narrow(set, expected, chosen) {
  if (!chosen) return { set, expected };
  return {
    set: { required: set.required.filter((s) => chosen.includes(s)), notScored: set.notScored.filter((n) => chosen.includes(n.scenario)) },
    expected: Object.fromEntries(Object.entries(expected).filter(([name]) => chosen.includes(name))),
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const node = findNode();
  const suite = findSuite();
  const sets = Object.fromEntries(options.revisions.map((revision) => [revision, listRequirements(node, suite.cli, revision)]));
  const known = Object.values(sets).flatMap((set) => [...set.required, ...set.notScored.map((n) => n.scenario)]);
  const unknown = (options.scenarios ?? []).filter((s) => !known.includes(s));
  if (unknown.length > 0) throw new SetupError(`no server scenario of ${options.revisions.join(' or ')}: ${unknown.join(', ')}`);
  const expected = readExpectedFailures();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-conformance-'));
  const described = options.revisions.map((r) => `${r} (${sets[r].required.length} required server scenarios)`).join(', ');
  console.log(`MCP conformance suite ${suite.version}, Node ${nodeMajor(node)} at ${node}\nrevisions: ${described}`);
  if (suite.version !== SUITE_VERSION && !process.env.CONFORMANCE_CLI) {
    console.log(`note: the workload and expected failures were written for suite ${SUITE_VERSION}`);
  }
  console.log(`logs and results: ${workDir}\n`);

  const columns = [];
  for (const name of options.targets) {
    const target = TARGETS[name];
    const runs = options.revisions
      .map((revision) => ({ revision, ...narrow(sets[revision], expected[revision], options.scenarios) }))
      .filter(({ set }) => set.required.length + set.notScored.length > 0);
    try {
      await target.start(workDir, async (url) => {
        for (const { revision, set, expected: expectedHere } of runs) {
          process.stdout.write(`running ${revision} against ${target.title} ... `);
          const picked = options.scenarios ? [...set.required, ...set.notScored.map((n) => n.scenario)] : undefined;
          const results = await runSuite({
            node,
            cli: suite.cli,
            url,
            revision,
            outDir: path.join(workDir, `${name}-${revision}-results`),
            logPath: path.join(workDir, `${name}-${revision}-suite.log`),
            scenarios: picked,
            verbose: options.verbose,
          });
          const evaluation = evaluateRun(set, results, expectedHere);
          console.log(evaluation.ok ? 'ok' : 'failures');
          columns.push({ name: `${name} ${revision}`, expected: expectedHere, evaluation });
        }
      });
    } catch (error) {
      if (!(error instanceof SetupError)) throw error;
      console.log(`${name}: not run`);
      for (const { revision, set } of runs) {
        if (!columns.some((c) => c.name === `${name} ${revision}`)) {
          columns.push({ name: `${name} ${revision}`, error: error.message, required: set.required.length });
        }
      }
    }
  }

  console.log(`\n${formatSideBySide(columns)}\n`);
  report(columns);

  const failed = columns.some((c) => !c.evaluation?.ok);
  if (failed || options.keep) console.log(`logs and results kept in ${workDir}`);
  else fs.rmSync(workDir, { recursive: true, force: true });
  const rows = columns.flatMap((c) => c.evaluation?.rows ?? []);
  const passed = rows.filter((r) => r.verdict === 'pass').length;
  const expectedFailures = rows.filter((r) => r.verdict === 'expected-failure').length;
  const stale = columns.reduce((sum, c) => sum + (c.evaluation?.stale.length ?? 0), 0);
  const notRun = columns.reduce((sum, c) => sum + (c.error ? c.required : 0), 0);
  const failures = rows.filter((r) => r.verdict === 'fail' || r.verdict === 'missing').length + stale + notRun;
  if (expectedFailures > 0) console.log(`${expectedFailures} required scenario run(s) failed as expected`);
  console.log(`conformance: ${passed} passed, ${failures} failed`);
  return failed ? 1 : 0;
}

function report(columns) {
  for (const column of columns) {
    if (column.error) {
      console.log(`${column.name}: NOT RUN: ${column.error}\n`);
      continue;
    }
    const { rows, unexpected, stale } = column.evaluation;
    for (const scenario of unexpected) {
      const row = rows.find((r) => r.scenario === scenario);
      console.log(`${column.name}: ${scenario} failed`);
      for (const problem of row.summary?.problems ?? ['no result was written (did the suite crash? see its log)']) {
        console.log(`    ${problem}`);
      }
    }
    for (const scenario of stale) {
      console.log(
        rows.some((r) => r.scenario === scenario)
          ? `${column.name}: ${scenario} passes but is listed in expected-failures.json: remove it`
          : `${column.name}: expected-failures.json names ${scenario}, which this revision does not require`,
      );
    }
    for (const row of rows.filter((r) => r.verdict === 'expected-failure')) {
      console.log(`${column.name}: ${row.scenario} failed as expected: ${column.expected[row.scenario]}`);
    }
    if (unexpected.length + stale.length > 0) console.log('');
  }
}

process.once('SIGINT', onInterrupt);
process.once('SIGTERM', onInterrupt);
// Launchers may await processes they unref()'d; keep the event loop alive until main() is done.
setInterval(() => {}, 60_000);
main().then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof SetupError) {
      console.error(`\nconformance: ${error.message}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(2);
  },
);
