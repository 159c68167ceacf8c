/**
 * README: "start several on different PORTs with the same key" — with nothing else set, each
 * replica gets a metrics port of its own (PORT + 6464) and a name of its own (host:port); a port
 * that is taken is named by its setting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/fleet/free-port.js';
import { MAIN } from '../support/server-process.js';
import { initialize, callTool, toolJson } from '../support/raw-mcp.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** A port p with p + 6464 free too. */
async function portPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 6464 > 65535) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer().once('error', () => resolve(false));
      server.listen(port + 6464, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function start(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const { METRICS_PORT: _m, POD_NAME: _p, ...inherited } = process.env;
  const child = spawn(process.execPath, [MAIN], { env: { ...inherited, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

async function listening(r: ReturnType<typeof start>): Promise<Record<string, string>> {
  const deadline = Date.now() + 30_000;
  while (!r.output().includes('"msg":"listening"')) {
    if (r.child.exitCode !== null || Date.now() > deadline) throw new Error(`did not listen: ${r.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return JSON.parse(
    r
      .output()
      .split('\n')
      .find((line) => line.includes('"msg":"listening"'))!,
  ) as Record<string, string>;
}

describe('several replicas on one host, on different PORTs', () => {
  it('each serves metrics on a port of its own and answers whoami with a name of its own', async () => {
    const ports = [await portPair(), await portPair()];
    const replicas = ports.map((port) => start({ PORT: String(port) }));
    const lines = await Promise.all(replicas.map(listening));
    expect(lines.map((l) => l.metrics)).toEqual(ports.map((p) => `http://127.0.0.1:${p + 6464}/metrics`));
    for (const port of ports) expect((await fetch(`http://127.0.0.1:${port + 6464}/metrics`)).status).toBe(200);
    const names: string[] = [];
    for (const port of ports) {
      const url = `http://127.0.0.1:${port}/mcp`;
      names.push(toolJson(await callTool(url, await initialize(url), 'whoami')).replica);
    }
    expect(names[0]).not.toBe(names[1]);
    expect(names[0]).toMatch(new RegExp(`:${ports[0]}$`));
  }, 60_000);

  it('a metrics port in use stops the start with a message naming METRICS_PORT, exit code 2', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    const metricsPort = (taken.address() as net.AddressInfo).port;
    try {
      const r = start({ PORT: String(await freePort()), METRICS_PORT: String(metricsPort) });
      expect(await r.exited).toBe(2);
      expect(r.output()).toContain(`METRICS_PORT: 127.0.0.1:${metricsPort} is already in use`);
    } finally {
      taken.close();
    }
  }, 60_000);
});
