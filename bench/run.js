#!/usr/bin/env node
// npm run bench: mcp-fleet's two eras side by side with tmcp, the SDK's stock server and the floor
// (bare node:http), in one invocation, in interleaved rounds; writes bench/results/latest.json and
// latest.md. Everything runs on the Node the image ships (.cache/tools/bin/image-node, from
// scripts/install-test-tools.sh): started with another Node, the bench starts itself again on that one.
// With --cpu-prof, the replicas run under node --cpu-prof instead and the profiles are summarised.
// Usage: npm run bench [-- --rounds 3 --clients 50 --warmup-ms 1500 --measure-ms 2500 --only mcp-fleet,tmcp/redis-3-lb]
//        npm run bench -- --baseline ../other-checkout   (that build's dist/main.js in mcp-fleet's setups too)
//        npm run bench -- --node current   (the Node running this script, whichever it is)
//        npm run bench -- --cpu-prof [--cpu-prof-dir bench/results/profiles] [--only mcp-fleet/redis-3-lb]
//        npm run bench -- --render bench/results/latest.json   (the table again from a run's figures)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureLoad, measureNotifications, measureRedisIdle, primeLoad } from './lib/measure.js';
import { profileScenarios } from './lib/profile-run.js';
import { checkTargets, renderMarkdown, scenarioId, summarise } from './lib/report.js';
import { roundOrder } from './lib/schedule.js';
import { baselineTargets, ERAS, startTarget, TARGETS, WITHOUT_NOTIFICATIONS } from './lib/targets.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const IMAGE_NODE = path.resolve(HERE, '../.cache/tools/bin/image-node');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '50' },
    'warmup-ms': { type: 'string', default: '1500' },
    'measure-ms': { type: 'string', default: '2500' },
    'census-calls': { type: 'string', default: '500' },
    'prime-ms': { type: 'string', default: '4000' },
    'notify-samples': { type: 'string', default: '100' },
    'max-calls': { type: 'string', default: '2000000' },
    only: { type: 'string' },
    out: { type: 'string', default: path.join(HERE, 'results') },
    'cpu-prof': { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string', default: path.join(HERE, 'results', 'profiles') },
    render: { type: 'string' },
    baseline: { type: 'string' },
    node: { type: 'string', default: 'image' },
  },
});

/**
 * `--node image` (the default): this script, the load generator and every server on the image's
 * Node. Started with another one, the bench runs itself again on the image's and exits with it.
 */
function nodeSource() {
  if (values.node === 'current') return `this Node, ${process.execPath}`;
  const wanted = values.node === 'image' ? IMAGE_NODE : path.resolve(values.node);
  if (!fs.existsSync(wanted)) {
    throw new Error(
      `no Node at ${wanted}: run \`bash scripts/install-test-tools.sh\` (it installs the image's Node there), or pass --node current / --node <path>`,
    );
  }
  if (fs.realpathSync(wanted) !== fs.realpathSync(process.execPath)) {
    const run = spawnSync(wanted, process.execArgv.concat(process.argv.slice(1)), { stdio: 'inherit' });
    process.exit(run.status ?? 1);
  }
  return values.node === 'image' ? "the image's Node, .cache/tools/bin/image-node" : process.execPath;
}

const settings = {
  rounds: Number(values.rounds),
  clients: Number(values.clients),
  warmupMs: Number(values['warmup-ms']),
  measureMs: Number(values['measure-ms']),
  censusCalls: Number(values['census-calls']),
  primeMs: Number(values['prime-ms']),
  notifySamples: Number(values['notify-samples']),
  notifyTimeoutMs: 2000,
  maxCalls: Number(values['max-calls']),
  timeoutMs: 10_000,
};

/** `--only a,b`: targets or scenarios whose id starts with one of them. */
const selected = (id) => !values.only || values.only.split(',').some((prefix) => id.startsWith(prefix.trim()));
const NODE_SOURCE = values.render ? undefined : nodeSource();
const targetList = values.baseline ? [...TARGETS, ...baselineTargets(values.baseline)] : TARGETS;
const scenarios = targetList.flatMap((t) => ERAS[t.impl].map((era) => ({ ...t, era, id: scenarioId(t.impl, t.setup, era) }))).filter((s) => selected(s.id));
if (scenarios.length === 0 && !values.render) throw new Error(`--only ${values.only} selects no scenario`);

function machine() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    nodeSource: NODE_SOURCE,
    os: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg(),
  };
}

const log = (line) => process.stderr.write(`${line}\n`);

async function compare() {
  const targets = [];
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    settings,
    scenarios: scenarios.map(({ id, impl, setup, era }) => ({ id, impl, setup, era })),
    redisIdleCpuUsPerSecond: {},
    rounds: [],
  };
  try {
    log(`servers, load generator and bench on Node ${process.version} (${results.machine.nodeSource})`);
    for (const t of targetList.filter((t) => scenarios.some((s) => s.impl === t.impl && s.setup === t.setup))) {
      log(`starting ${t.id}`);
      targets.push(await startTarget(t));
    }
    for (const target of targets.filter((t) => t.redis)) {
      await measureRedisIdle(target);
      results.redisIdleCpuUsPerSecond[target.id] = target.redisIdleCpuUsPerSecond;
    }
    const byId = new Map(targets.map((t) => [t.id, t]));
    // Unmeasured: each scenario once, so that round 1 does not measure cold processes.
    for (const scenario of scenarios) {
      if (settings.primeMs <= 0) break;
      log(`priming ${scenario.id}`);
      await primeLoad(byId.get(`${scenario.impl}/${scenario.setup}`), scenario.era, settings);
    }
    for (let round = 0; round < settings.rounds; round++) {
      const entry = { scenarios: {}, notifications: {} };
      const order = roundOrder(scenarios, round);
      for (const scenario of order) {
        const target = byId.get(`${scenario.impl}/${scenario.setup}`);
        let m;
        try {
          m = await measureLoad(target, scenario.era, settings);
        } catch (error) {
          // One failed scenario leaves a gap in its round, not a lost run.
          entry.scenarios[scenario.id] = { error: error instanceof Error ? error.message : String(error) };
          log(`round ${round + 1}/${settings.rounds} ${scenario.id}: failed: ${entry.scenarios[scenario.id].error}`);
          continue;
        }
        entry.scenarios[scenario.id] = m;
        log(
          `round ${round + 1}/${settings.rounds} ${scenario.id}: ${m.callsPerSecond.toFixed(0)} calls/s, p50 ${m.p50Ms.toFixed(2)} ms, ${m.serverCpuUsPerCall.toFixed(0)} µs CPU/call${m.errors ? `, ${m.errors} errors` : ''}`,
        );
      }
      for (const scenario of order.filter((s) => !WITHOUT_NOTIFICATIONS.has(s.impl))) {
        const target = byId.get(`${scenario.impl}/${scenario.setup}`);
        entry.notifications[scenario.id] = await measureNotifications(target, scenario.era, settings);
      }
      results.rounds.push(entry);
    }
  } finally {
    for (const target of targets) await target.stop();
  }
  write(results);
}

/** Summarises `results`, writes latest.json and latest.md, prints the Markdown. */
function write(results) {
  const summary = summarise(results);
  const checks = checkTargets(summary);
  const markdown = renderMarkdown(results, summary, checks);
  fs.mkdirSync(values.out, { recursive: true });
  fs.writeFileSync(path.join(values.out, 'latest.json'), `${JSON.stringify({ ...results, summary, targets: checks }, null, 2)}\n`);
  fs.writeFileSync(path.join(values.out, 'latest.md'), markdown);
  process.stdout.write(markdown);
  log(`wrote ${path.join(values.out, 'latest.json')} and latest.md`);
}

if (values.render) {
  // Again from a run's JSON, without measuring: after a change to the summary or the table.
  const { summary: _summary, targets: _targets, ...results } = JSON.parse(fs.readFileSync(values.render, 'utf8'));
  write(results);
} else if (values['cpu-prof']) {
  log(`profiling on Node ${process.version} (${NODE_SOURCE})`);
  await profileScenarios(scenarios, settings, values['cpu-prof-dir'], log);
} else {
  await compare();
}
process.exit(0);
