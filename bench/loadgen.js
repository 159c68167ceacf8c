#!/usr/bin/env node
// The benchmark's load generator, run as its own process (forked with an IPC channel by
// bench/lib/loadgen-process.js): closed-loop `tools/call` from N virtual clients over keep-alive
// connections, or notification latency probes. Loopback only, bounded in count and time: it stops
// by itself when its phases are over, when it reaches `maxCalls`, or at its deadline.
//
// Config (the first IPC message, or JSON in argv[2]):
//   load:   { mode: 'load', url, era: 'legacy'|'modern', clients, tool, args, phases: [{ name, ms }], maxCalls, timeoutMs,
//             census?: { calls } (a counted batch after the phases, started by the parent's { type: 'go' }) }
//   notify: { mode: 'notify', era, streamUrl, triggerUrl, samples, timeoutMs }
// Messages sent: { type: 'ready' } after setup, { type: 'phase', name } as each phase starts,
// { type: 'phase-end', name, calls, errors, seconds, latency } as it ends, { type: 'notify', ... },
// { type: 'error', message }, then the process exits.
import { callTool, initializeSession, keepAliveAgent, openStream } from './lib/wire.js';
import { latencySummary } from './lib/stats.js';

const pending = new Set();
/** Sends a message to the parent (or prints it as a JSON line when run by hand); exits wait for these. */
function send(message) {
  const sent = new Promise((resolve) =>
    process.send ? process.send(message, () => resolve()) : process.stdout.write(`${JSON.stringify(message)}\n`, () => resolve()),
  );
  pending.add(sent);
  void sent.then(() => pending.delete(sent));
}
const exit = async (code) => {
  await Promise.all([...pending]);
  process.exit(code);
};
const LOOPBACK = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//;

function assertLoopback(...urls) {
  for (const url of urls) if (!LOOPBACK.test(url)) throw new Error(`the load generator only targets loopback addresses, not ${url}`);
}

/** Whether an answer is a JSON-RPC result (not an error, not a transport failure). */
const isResult = (answer) => answer.status === 200 && answer.text.includes('"result"') && !answer.text.includes('"isError":true');

async function runLoad(config) {
  assertLoopback(config.url);
  const agent = keepAliveAgent(config.clients);
  const sessions = [];
  if (config.era === 'legacy') {
    // Each virtual client has its own session, created before any phase starts.
    for (let i = 0; i < config.clients; i++) sessions.push(await initializeSession(config.url, agent));
  }
  send({ type: 'ready', sessions: sessions.length });

  let total = 0;
  let phase;
  let stopped = false;
  let reachedMax;
  const maxReached = new Promise((resolve) => (reachedMax = resolve));
  const counters = () => ({ calls: 0, errors: 0, latencies: [], started: performance.now() });

  const client = async (index) => {
    const session = sessions[index];
    while (!stopped && total < config.maxCalls) {
      const startedIn = phase;
      const t0 = performance.now();
      let ok = false;
      try {
        ok = isResult(await callTool(config.url, session, config.tool, config.args, agent, config.timeoutMs));
      } catch {
        ok = false;
      }
      if (++total >= config.maxCalls) reachedMax();
      // A phase's calls are those that ended in it (in a steady closed loop, as many as started in
      // it): what its CPU and Redis figures are divided by. Its latencies are those of the calls
      // that also started in it.
      const endedIn = phase;
      if (!endedIn) continue;
      endedIn.calls++;
      if (!ok) endedIn.errors++;
      else if (startedIn === endedIn) endedIn.latencies.push(performance.now() - t0);
    }
  };

  const workers = Array.from({ length: config.clients }, (_, i) => client(i));
  for (const { name, ms } of config.phases) {
    phase = counters();
    send({ type: 'phase', name });
    const current = phase;
    let timer;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), maxReached]);
    clearTimeout(timer);
    phase = undefined;
    const seconds = (performance.now() - current.started) / 1000;
    send({ type: 'phase-end', name, calls: current.calls, errors: current.errors, seconds, latency: latencySummary(current.latencies) });
    if (total >= config.maxCalls) break;
  }
  stopped = true;
  await Promise.all(workers);
  if (config.census) await runCensus(config, sessions, agent);
  agent.destroy();
}

/**
 * A counted batch after the timed phases, with nothing else in flight: once the parent says go
 * (its MONITOR is attached), exactly `census.calls` calls by the same clients, then phase-end, so
 * what Redis saw in between is theirs alone.
 */
async function runCensus(config, sessions, agent) {
  // Run by hand (no parent), it starts at once.
  const go = process.send ? new Promise((resolve) => process.once('message', resolve)) : Promise.resolve();
  send({ type: 'phase', name: 'census' });
  await go;
  let left = config.census.calls;
  let calls = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: config.clients }, async (_, index) => {
      while (left > 0) {
        left--;
        let ok = false;
        try {
          ok = isResult(await callTool(config.url, sessions[index], config.tool, config.args, agent, config.timeoutMs));
        } catch {
          ok = false;
        }
        calls++;
        if (!ok) errors++;
      }
    }),
  );
  send({ type: 'phase-end', name: 'census', calls, errors, seconds: (performance.now() - started) / 1000, latency: latencySummary([]) });
}

/** Waits for the first message `match` accepts, or `timeoutMs`; resolves with its arrival time or undefined. */
function waiter() {
  let pending;
  return {
    deliver(message, at) {
      if (pending?.match(message)) {
        const { resolve } = pending;
        pending = undefined;
        resolve(at);
      }
    },
    next(match, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pending = undefined;
          resolve(undefined);
        }, timeoutMs);
        pending = { match, resolve: (at) => (clearTimeout(timer), resolve(at)) };
      });
    },
  };
}

/**
 * Notification latency: from sending the trigger (legacy: notify with the session; modern: bump)
 * to triggerUrl, until the notification arrives on the stream held on streamUrl.
 */
async function runNotify(config) {
  assertLoopback(config.streamUrl, config.triggerUrl);
  const agent = keepAliveAgent(4);
  const legacy = config.era === 'legacy';
  const session = legacy ? await initializeSession(config.streamUrl, agent) : undefined;
  const resource = `counter://${config.resourceName ?? 'bench'}`;
  const arrivals = waiter();
  let tag = '';
  const matches = legacy
    ? (m) => m.method === 'notifications/message' && m.params?.data?.message === tag
    : (m) => m.method === 'notifications/resources/updated' && m.params?.uri === resource;
  const stream = await openStream(config.streamUrl, { session, listen: legacy ? undefined : [resource], agent, onMessage: (m, at) => arrivals.deliver(m, at) });
  if (stream.status !== 200) throw new Error(`stream on ${config.streamUrl}: HTTP ${stream.status}`);
  const trigger = () =>
    legacy
      ? callTool(config.triggerUrl, session, 'notify', { message: tag, count: 1 }, agent)
      : callTool(config.triggerUrl, undefined, 'bump', { name: config.resourceName ?? 'bench' }, agent);

  const latencies = [];
  let delivered = 0;
  let sent = 0;
  let missedInARow = 0;
  // Round 0 is unmeasured: it waits until the stream is attached wherever the server attaches it.
  // Three misses in a row end the probe: that server does not deliver there.
  for (let i = 0; i <= config.samples && missedInARow < 3; i++) {
    tag = `n${process.pid}-${i}`;
    const arrived = arrivals.next(matches, config.timeoutMs);
    const t0 = performance.now();
    const answer = await trigger();
    const at = await arrived;
    if (answer.status !== 200) throw new Error(`trigger on ${config.triggerUrl}: HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
    missedInARow = at === undefined ? missedInARow + 1 : 0;
    if (i === 0) continue;
    sent++;
    if (at !== undefined) {
      delivered++;
      latencies.push(at - t0);
    }
  }
  stream.close();
  agent.destroy();
  send({ type: 'notify', samples: sent, delivered, latency: latencySummary(latencies) });
}

async function main(config) {
  const budgetMs = (config.phases ?? []).reduce((s, p) => s + p.ms, 0) + (config.samples ?? 0) * (config.timeoutMs ?? 1000) + 60_000;
  // The hard stop, whatever the servers do.
  setTimeout(() => {
    send({ type: 'error', message: `the load generator passed its deadline (${budgetMs} ms)` });
    void exit(3);
  }, budgetMs).unref();
  if (config.mode === 'load') await runLoad(config);
  else if (config.mode === 'notify') await runNotify(config);
  else throw new Error(`unknown mode ${config.mode}`);
}

const start = (config) =>
  main(config).then(
    () => exit(0),
    (error) => {
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      return exit(1);
    },
  );

if (process.argv[2]) start(JSON.parse(process.argv[2]));
else process.once('message', start);
