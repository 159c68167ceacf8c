#!/usr/bin/env node
// npm run bench: mcp-fleet's two eras side by side with tmcp and the SDK's stock server, in one
// invocation, in interleaved rounds; writes bench/results/latest.json and latest.md.
// With --cpu-prof, the replicas run under node --cpu-prof instead and the profiles are summarised.
// Usage: npm run bench [-- --rounds 3 --clients 50 --warmup-ms 1500 --measure-ms 2500 --only mcp-fleet,tmcp/redis-3-lb]
//        npm run bench -- --cpu-prof [--cpu-prof-dir bench/results/profiles] [--only mcp-fleet/redis-3-lb]
//        npm run bench -- --render bench/results/latest.json   (the table again from a run's figures)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureLoad, measureNotifications, measureRedisIdle, primeLoad } from './lib/measure.js';
import { profileScenarios } from './lib/profile-run.js';
import { checkTargets, renderMarkdown, scenarioId, summarise } from './lib/report.js';
import { roundOrder } from './lib/schedule.js';
import { ERAS, startTarget, TARGETS } from './lib/targets.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
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
  },
});

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
const scenarios = TARGETS.flatMap((t) => ERAS[t.impl].map((era) => ({ ...t, era, id: scenarioId(t.impl, t.setup, era) }))).filter((s) => selected(s.id));
if (scenarios.length === 0) throw new Error(`--only ${values.only} selects no scenario`);

function machine() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
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
    for (const t of TARGETS.filter((t) => scenarios.some((s) => s.impl === t.impl && s.setup === t.setup))) {
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
      for (const scenario of order) {
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
  await profileScenarios(scenarios, settings, values['cpu-prof-dir'], log);
} else {
  await compare();
}
process.exit(0);
