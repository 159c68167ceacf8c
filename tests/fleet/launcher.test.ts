import net from 'node:net';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHaproxy, HAPROXY_MISSING, startFleet, type Fleet } from '../../src/fleet/index.js';
import { isAlive } from '../../src/fleet/reaper.js';
import { which } from '../../src/fleet/which.js';
import { skipFleet } from './available.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/fleet/cli.js');

interface Answer {
  status: number;
  replica: string | undefined;
  reusedSocket: boolean;
  sessionId: string | undefined;
  body: string;
}

function send(url: string, agent: http.Agent | false, method = 'GET', body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, agent, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          replica: response.headers['x-mcp-replica'] as string | undefined,
          reusedSocket: request.reusedSocket,
          sessionId: response.headers['mcp-session-id'] as string | undefined,
          body: text,
        }),
      );
    });
    request.once('error', reject);
    request.end(body);
  });
}

const MCP_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

function initializeBody(id: number): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'launcher-test', version: '1' } },
  });
}

/** initialize through `url`; the new session's id. */
async function openSession(url: string): Promise<string> {
  const answer = await send(url, false, 'POST', initializeBody(1), MCP_HEADERS);
  if (answer.status !== 200 || !answer.sessionId) throw new Error(`initialize answered ${answer.status}: ${answer.body}`);
  return answer.sessionId;
}

describe.skipIf(skipFleet)('the local fleet launcher', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await startFleet({ replicas: 3 });
  });

  afterAll(async () => {
    await fleet?.stop();
  });

  it('starts three replicas on their own ports, all ready and in the load balancer rotation', async () => {
    expect(fleet.replicas.map((r) => r.name)).toEqual(['replica-0', 'replica-1', 'replica-2']);
    expect(new Set(fleet.replicas.map((r) => r.port)).size).toBe(3);
    expect(fleet.url).toBe(`http://127.0.0.1:${fleet.lbPort}/mcp`);
    for (const replica of fleet.replicas) {
      expect(replica.running).toBe(true);
      expect(replica.pid).toBeGreaterThan(0);
      expect((await send(replica.url.replace('/mcp', '/readyz'), false)).status).toBe(200);
      const metrics = await send(replica.metricsUrl, false);
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain('mcp_fleet_');
    }
    expect(await fleet.rotation()).toEqual({ 'replica-0': 'UP', 'replica-1': 'UP', 'replica-2': 'UP' });
  });

  it('balances each request of one keep-alive connection to the next replica', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answers: Answer[] = [];
      for (let i = 0; i < 9; i++) answers.push(await send(fleet.url, agent, 'POST', initializeBody(i), MCP_HEADERS));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      // One client connection throughout ...
      expect(answers.slice(1).every((a) => a.reusedSocket)).toBe(true);
      // ... and yet every request went to the next replica.
      const replicas = answers.map((a) => a.replica);
      expect(new Set(replicas)).toEqual(new Set(['replica-0', 'replica-1', 'replica-2']));
      for (let i = 1; i < replicas.length; i++) expect(replicas[i]).not.toBe(replicas[i - 1]);
    } finally {
      agent.destroy();
    }
  });

  it('keeps its connections to the replicas open for the next request instead of opening one per request', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await fleet.backendConnections();
      for (let i = 0; i < 30; i++) expect((await send(fleet.url, agent, 'POST', initializeBody(100 + i), MCP_HEADERS)).status).toBe(200);
      const after = await fleet.backendConnections();
      // Health checks open connections of their own: a few, not one per request.
      expect(after.opened - before.opened).toBeLessThan(15);
      expect(after.reused - before.reused).toBeGreaterThanOrEqual(20);
    } finally {
      agent.destroy();
    }
  });

  it('counts the requests the load balancer refused itself, which no replica saw', async () => {
    const before = await fleet.requestErrors();
    const port = Number(new URL(fleet.url).port);
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let got = '';
      socket.on('data', (chunk) => (got += chunk.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.write('POST /mcp HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\nContent-Length: 0\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).not.toMatch(/x-mcp-replica/i);
    expect(await fleet.requestErrors()).toBe(before + 1);
  });

  it('serves one session from every replica through the load balancer', async () => {
    const session = await openSession(fleet.url);
    const headers = { ...MCP_HEADERS, 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' };
    const served = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const answer = await send(
        fleet.url,
        false,
        'POST',
        JSON.stringify({ jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
        headers,
      );
      expect(answer.status).toBe(200);
      const text = answer.body.includes('data:')
        ? answer.body
            .split('\n')
            .filter((l) => l.startsWith('data: {'))
            .map((l) => l.slice(6))
            .at(-1)!
        : answer.body;
      const whoami = JSON.parse(JSON.parse(text).result.content[0].text);
      expect(whoami).toEqual({ replica: answer.replica, sessionId: session });
      served.add(whoami.replica);
    }
    expect(served.size).toBe(3);
  });

  it('passes SSE through as it is sent: a GET stream stays open and delivers each event at once', async () => {
    const session = await openSession(fleet.url);
    const sessionHeaders = { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' };
    let received = '';
    let ended = false;
    const stream = http.request(fleet.url, { method: 'GET', agent: false, headers: { Accept: 'text/event-stream', ...sessionHeaders } }, (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (received += chunk));
      response.on('end', () => (ended = true));
    });
    stream.end();
    try {
      // The priming event arrives while the stream is open: nothing holds it back.
      await expect.poll(() => received, { timeout: 3000 }).toMatch(/^id: /);
      const call = JSON.stringify({
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/call',
        params: { name: 'notify', arguments: { message: 'through-haproxy', count: 2 } },
      });
      expect((await send(fleet.url, false, 'POST', call, { ...MCP_HEADERS, ...sessionHeaders })).status).toBe(200);
      await expect.poll(() => (received.match(/through-haproxy/g) ?? []).length, { timeout: 3000 }).toBe(2);
      expect(ended).toBe(false);
    } finally {
      stream.destroy();
    }
  });

  it('delivers notifications without delay: through the balancer the median event is not held back beyond a direct one', async () => {
    // A balancer that coalesces the small writes of a chunked SSE body (HAProxy without
    // `option http-no-delay`) holds every event back by about 200 ms; on loopback a few ms is usual.
    // A loaded machine slows both paths alike, so the balancer is compared with a replica reached directly.
    const direct = await notificationLatencies(fleet.replicas[0]!.url);
    const balanced = await notificationLatencies(fleet.url);
    console.log(`notification latency p50: through the balancer ${balanced.p50} ms, direct ${direct.p50} ms (p90 ${balanced.p90} / ${direct.p90} ms)`);
    expect(balanced.p50 - direct.p50).toBeLessThan(100);
  });

  it('keeps answering through the load balancer when a replica is killed, and takes it back after a start', async () => {
    const victim = fleet.replicas[1]!;
    const oldPid = victim.pid!;
    await victim.kill('SIGKILL');
    expect(victim.running).toBe(false);
    expect(victim.pid).toBeUndefined();
    expect(isAlive(oldPid)).toBe(false);
    // Requests sent right away are retried on the others (redispatch) while health checks notice.
    const during = await Promise.all(Array.from({ length: 12 }, () => send(fleet.url.replace('/mcp', '/healthz'), false)));
    expect(during.map((a) => a.status)).toEqual(Array(12).fill(200));
    expect(during.some((a) => a.replica === victim.name)).toBe(false);
    await expect.poll(async () => (await fleet.rotation())[victim.name], { timeout: 5000 }).toBe('DOWN');

    await victim.start();
    expect(victim.pid).not.toBe(oldPid);
    expect((await fleet.rotation())[victim.name]).toBe('UP');
    const after = await Promise.all(Array.from({ length: 6 }, () => send(fleet.url.replace('/mcp', '/healthz'), false)));
    expect(after.some((a) => a.replica === victim.name)).toBe(true);
  });

  it('restarts a replica on the same port: SIGTERM, drain, exit, start, back in rotation', async () => {
    const replica = fleet.replicas[0]!;
    const { port, pid } = replica;
    await replica.restart();
    expect(replica.port).toBe(port);
    expect(replica.pid).not.toBe(pid);
    expect(isAlive(pid!)).toBe(false);
    expect((await send(`http://127.0.0.1:${port}/readyz`, false)).status).toBe(200);
    expect((await fleet.rotation())[replica.name]).toBe('UP');
  });
});

describe.skipIf(skipFleet)('stopping the fleet', () => {
  it('leaves no process behind: replicas, load balancer and redis-server are gone', async () => {
    const fleet = await startFleet({ replicas: 2 });
    const pids = [...fleet.replicas.map((r) => r.pid!), fleet.lbPid!];
    expect(pids.every((pid) => pid > 0 && isAlive(pid))).toBe(true);
    expect(fleet.redis?.running).toBe(true);
    await fleet.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(fleet.redis?.running).toBe(false);
    expect(fleet.replicas.every((r) => !r.running)).toBe(true);
    await expect(send(fleet.url.replace('/mcp', '/healthz'), false)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('kills what it started when the launching process dies without stopping the fleet', async () => {
    const script = `
      const { startFleet } = await import(${JSON.stringify(path.join(ROOT, 'dist/fleet/index.js'))});
      const fleet = await startFleet({ replicas: 2 });
      console.log(JSON.stringify([...fleet.replicas.map((r) => r.pid), fleet.lbPid]));
      throw new Error('launcher crashed');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    const pids = JSON.parse(out.trim()) as number[];
    expect(pids).toHaveLength(3);
    await expect.poll(() => pids.filter(isAlive)).toEqual([]);
  });
});

describe.skipIf(skipFleet)('npm run fleet (the CLI)', () => {
  it('prints the URL and the replicas, and Ctrl-C stops everything', async () => {
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-cli-logs-'));
    const child = spawn(process.execPath, [CLI, '--port', '0', '--replicas', '2', '--log-dir', logDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await expect.poll(() => out, { timeout: 20_000 }).toContain('Ctrl-C stops everything');
    const url = /MCP endpoint .*: (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(out)?.[1];
    expect(url).toBeDefined();
    expect(out).toMatch(/replica-0\s+port \d+\s+pid \d+\s+metrics http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(out).toMatch(/replica-1\s+port/);
    const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(2);
    expect((await send(url!.replace('/mcp', '/healthz'), false)).status).toBe(200);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    await expect(send(url!.replace('/mcp', '/healthz'), false)).rejects.toThrow(/ECONNREFUSED/);
    expect(fs.readdirSync(logDir).sort()).toEqual(['haproxy.log', 'replica-0.log', 'replica-1.log']);
    fs.rmSync(logDir, { recursive: true, force: true });
  });
});

describe('a missing load balancer or Redis', () => {
  it('is reported with how to install it', () => {
    expect(() => findHaproxy({ PATH: '/nonexistent' }, [])).toThrow(HAPROXY_MISSING);
    expect(HAPROXY_MISSING).toContain('apt-get install -y haproxy');
  });

  it('is looked for in the sbin directories too, where it is off the PATH of users other than root', () => {
    const found = which('haproxy');
    if (found) expect(findHaproxy({ PATH: '/nonexistent' }, [path.dirname(found)])).toBe(found);
    else expect(() => findHaproxy({ PATH: '/nonexistent' })).toThrow(HAPROXY_MISSING);
  });

  it.skipIf(skipFleet)('reports a missing redis-server with how to install it, or to set REDIS_URL', async () => {
    // A PATH with a shell but no redis-server; haproxy named by HAPROXY.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-path-'));
    try {
      fs.symlinkSync(which('sh')!, path.join(bin, 'sh'));
      const child = spawn(process.execPath, [CLI, '--port', '0'], { env: { PATH: bin, HAPROXY: which('haproxy')! }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(err).toContain('redis-server was not found');
      expect(err).toContain('apt-get install -y redis-server');
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it('names a HAPROXY setting that is not an executable', () => {
    expect(() => findHaproxy({ HAPROXY: '/nonexistent/haproxy' })).toThrow(/HAPROXY=\/nonexistent\/haproxy is not an executable/);
  });
});

/** Opens a session's GET stream at `url`, then times 50 notify calls (after a warm-up) from POST to event. */
async function notificationLatencies(url: string): Promise<{ p50: number; p90: number }> {
  const session = await openSession(url);
  const sessionHeaders = { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' };
  const arrived = new Map<string, number>();
  let buffered = '';
  let primed = false;
  const stream = http.request(url, { method: 'GET', agent: false, headers: { Accept: 'text/event-stream', ...sessionHeaders } }, (response) => {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      const now = performance.now();
      primed = true;
      buffered += chunk;
      for (const m of buffered.matchAll(/"message":"(latency-\d+)"/g)) if (!arrived.has(m[1]!)) arrived.set(m[1]!, now);
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
  });
  stream.end();
  try {
    await expect.poll(() => primed, { timeout: 3000 }).toBe(true);
    const latencies: number[] = [];
    // The first calls build the session's runtime on each replica: not what is measured.
    const warmUp = 6;
    for (let i = 0; i < warmUp + 50; i++) {
      const tag = `latency-${i}`;
      const call = JSON.stringify({ jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params: { name: 'notify', arguments: { message: tag, count: 1 } } });
      const sent = performance.now();
      expect((await send(url, false, 'POST', call, { ...MCP_HEADERS, ...sessionHeaders })).status).toBe(200);
      await expect.poll(() => arrived.has(tag), { timeout: 3000, interval: 1 }).toBe(true);
      if (i >= warmUp) latencies.push(arrived.get(tag)! - sent);
    }
    latencies.sort((a, b) => a - b);
    const p = (q: number): number => Math.round(latencies[Math.ceil(q * latencies.length) - 1]!);
    return { p50: p(0.5), p90: p(0.9) };
  } finally {
    stream.destroy();
  }
}
