/**
 * The chart's wiring, proven by running it: three `node dist/main.js` processes started with
 * exactly the environment the rendered Deployment gives its container (plus what the image and
 * the kubelet add), one local Redis in place of the bundled one, and a session initialized on one
 * replica and served by the others. Also: the helm test command, the metrics listener, and the
 * SIGTERM drain within the chart's grace period.
 *
 * The only substitutions, each forced by running three "pods" on one host:
 * - POD_NAME / HOSTNAME: downward API and kubelet values, faked per replica;
 * - REDIS_URL: the rendered host:port (the bundled Redis Service) becomes the local redis-server;
 * - PORT / METRICS_PORT: every pod has its own network namespace, these processes share one, so
 *   each gets free ports (the rendered values are first checked against the container ports).
 * Requires `npm run build` (dist/), as `npm test` does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IService } from 'kubernetes-models/v1/Service';
import { freePort, RedisProcess } from '../../src/fleet/redis-process.js';
import { repoRoot } from './support/paths.js';
import { resolveEnv, serverContainer } from './support/pod.js';
import { find, render, type K8sObject } from './support/render.js';
import { dockerfileInstructions } from './support/server-env.js';

const MAIN = path.join(repoRoot, 'dist/main.js');

interface Replica {
  name: string;
  port: number;
  metricsPort: number;
  env: Record<string, string>;
  child: ChildProcess;
  output: string;
}

/** ENV of the Dockerfile's runtime stage: part of the container's environment too. */
function imageEnv(): Record<string, string> {
  const instructions = dockerfileInstructions();
  const last = Math.max(...instructions.map((i) => i.stage));
  const env: Record<string, string> = {};
  for (const i of instructions.filter((x) => x.stage === last && x.op === 'ENV')) {
    for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

const objects = (() => {
  try {
    return render({ releaseName: 'mcp-fleet', namespace: 'mcp-fleet' }).objects;
  } catch (error) {
    return error as Error;
  }
})();
const rendered = (): K8sObject[] => {
  if (objects instanceof Error) throw objects;
  return objects;
};

let redis: RedisProcess | undefined;
const replicas: Replica[] = [];
/** The chart's user, when the replicas run as it (see beforeAll). */
let runAs: { uid: number; gid: number } | undefined;

/**
 * Whether a process of this user can run the server from this checkout: not when the checkout (or
 * this Node) lies below a directory only its owner may enter, such as a `mktemp -d` folder.
 */
function canRunAs(user: { uid: number; gid: number }): boolean {
  const probe = spawnSync(process.execPath, ['-e', 'require("node:fs").accessSync(process.argv[1], require("node:fs").constants.R_OK)', MAIN], {
    cwd: repoRoot,
    ...user,
    stdio: 'ignore',
  });
  return probe.error === undefined && probe.status === 0;
}

async function waitReady(r: Replica, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (r.child.exitCode !== null) throw new Error(`${r.name} exited with ${r.child.exitCode}:\n${r.output}`);
    const ok = await fetch(`http://127.0.0.1:${r.port}/readyz`).then((res) => res.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${r.name} was not ready within ${timeoutMs} ms:\n${r.output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm test does)`);
  const deployment = find<IDeployment & K8sObject>(rendered(), 'Deployment');
  const container = serverContainer(deployment);
  const pod = deployment.spec!.template.spec!;
  redis = await RedisProcess.start();
  // The startup probe's budget: the time the kubelet gives a container to come up.
  const startupMs = container.startupProbe!.periodSeconds! * container.startupProbe!.failureThreshold! * 1000;
  // As the chart's user when we can switch to it: then the repository (the image's /app) is not
  // writable, as on the read-only root filesystem, and only /tmp is.
  const chartUser = { uid: pod.securityContext!.runAsUser!, gid: pod.securityContext!.runAsGroup! };
  if (process.getuid?.() === 0) {
    if (canRunAs(chartUser)) runAs = chartUser;
    else console.log(`the replicas run as this user: UID ${chartUser.uid} cannot reach ${MAIN} or ${process.execPath}`);
  }
  for (let i = 0; i < 3; i++) {
    const name = `mcp-fleet-6f7d9c5b8-r${i}x${i}z`;
    const env = resolveEnv(container, { fields: { 'metadata.name': name } });
    const redisUrl = new URL(env.REDIS_URL!);
    const local = new URL(redis.url);
    redisUrl.hostname = local.hostname;
    redisUrl.port = local.port;
    const port = await freePort();
    const metricsPort = await freePort();
    const full: Record<string, string> = {
      // What the image and the kubelet add to every container.
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOSTNAME: name,
      HOME: '/home/node',
      ...imageEnv(),
      ...env,
      REDIS_URL: redisUrl.toString().replace(/\/$/, ''),
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
    };
    const child = spawn(process.execPath, [MAIN], { cwd: repoRoot, env: full, stdio: ['ignore', 'pipe', 'pipe'], ...runAs });
    const replica: Replica = { name, port, metricsPort, env: full, child, output: '' };
    child.stdout!.on('data', (chunk: Buffer) => (replica.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (replica.output += chunk.toString()));
    replicas.push(replica);
  }
  await Promise.all(replicas.map((r) => waitReady(r, startupMs)));
}, 120_000);

afterAll(async () => {
  await Promise.all(
    replicas.map(
      (r) =>
        new Promise<void>((resolve) => {
          if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
          r.child.once('exit', () => resolve());
          r.child.kill('SIGKILL');
        }),
    ),
  );
  await redis?.dispose();
});

function client(): Client {
  return new Client({ name: 'chart-runtime-test', version: '1.0.0' });
}

/** A transport that records the X-MCP-Replica header of every response. */
function transport(url: string, seen: string[], sessionId?: string): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(url), {
    sessionId,
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      const replica = res.headers.get('x-mcp-replica');
      if (replica) seen.push(replica);
      return res;
    },
  });
}

const mcpUrl = (r: Replica): string => `http://127.0.0.1:${r.port}${r.env.MCP_PATH}`;

async function whoami(c: Client): Promise<{ replica: string; sessionId: string }> {
  const result = await c.callTool({ name: 'whoami', arguments: {} });
  const content = result.content as Array<{ type: string; text?: string }>;
  return JSON.parse(content.find((x) => x.type === 'text')!.text!) as { replica: string; sessionId: string };
}

describe('three replicas with the environment of the rendered Deployment', () => {
  it('the environment is the container env of the chart, with only the stated substitutions', () => {
    const deployment = find<IDeployment & K8sObject>(rendered(), 'Deployment');
    const container = serverContainer(deployment);
    const renderedEnv = resolveEnv(container, { fields: { 'metadata.name': 'x' } });
    expect(Number(renderedEnv.PORT)).toBe(container.ports!.find((p) => p.name === 'http')!.containerPort);
    expect(Number(renderedEnv.METRICS_PORT)).toBe(container.ports!.find((p) => p.name === 'metrics')!.containerPort);
    const redisHost = new URL(renderedEnv.REDIS_URL!).hostname;
    expect(rendered().some((o) => o.kind === 'Service' && o.metadata.name === redisHost)).toBe(true);
    expect(deployment.spec!.template.spec!.enableServiceLinks).toBe(false);
    for (const r of replicas) {
      const substituted = new Set(['POD_NAME', 'REDIS_URL', 'PORT', 'METRICS_PORT']);
      for (const [k, v] of Object.entries(renderedEnv)) if (!substituted.has(k)) expect(r.env[k], k).toBe(v);
      expect(Object.keys(r.env).sort()).toEqual([...new Set([...Object.keys(renderedEnv), ...Object.keys(imageEnv()), 'PATH', 'HOSTNAME', 'HOME'])].sort());
      expect(r.env.POD_NAME).toBe(r.name);
      if (runAs && fs.existsSync(`/proc/${r.child.pid}/status`)) {
        const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${r.child.pid}/status`, 'utf8'))?.[1];
        expect(Number(uid)).toBe(deployment.spec!.template.spec!.securityContext!.runAsUser);
      }
    }
  });

  it('each replica answers the probes on its port, and /metrics only on the metrics port', async () => {
    for (const r of replicas) {
      expect((await fetch(`http://127.0.0.1:${r.port}/healthz`)).status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${r.port}/readyz`);
      expect(ready.status).toBe(200);
      expect(ready.headers.get('x-mcp-replica')).toBe(r.name);
      const metrics = await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toMatch(/^mcp_fleet_\w+/m);
      // On the Node that runs the tests: the image's, in the run of tests/packaging/image-node.test.ts.
      expect(text).toContain(`nodejs_version_info{version="${process.version}"`);
      expect((await fetch(`http://127.0.0.1:${r.port}/metrics`)).status).toBe(404);
    }
  });

  it('a session initialized on one replica is served by the two others', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const seen: string[] = [];
    const first = client();
    const t1 = transport(mcpUrl(a), seen);
    await first.connect(t1);
    const sessionId = t1.sessionId!;
    expect(sessionId).toBeDefined();
    expect(seen).toContain(a.name);

    for (const other of [b, c]) {
      const seenHere: string[] = [];
      const next = client();
      const t = transport(mcpUrl(other), seenHere, sessionId);
      t.setProtocolVersion(t1.protocolVersion!);
      await next.connect(t);
      const who = await whoami(next);
      expect(who).toEqual({ replica: other.name, sessionId });
      expect(seenHere).toEqual([other.name]);
      await t.close();
    }
    expect(await whoami(first)).toEqual({ replica: a.name, sessionId });
    await t1.close();
  }, 30_000);

  it('the helm test command initializes a session and calls whoami', () => {
    const pod = rendered().find((o) => o.kind === 'Pod') as (IPod & K8sObject) | undefined;
    const command = [...pod!.spec!.containers[0]!.command!];
    const svc = find<IService & K8sObject>(rendered(), 'Service', 'mcp-fleet');
    // The Service address becomes one replica's address.
    const target = replicas[1]!;
    const serviceUrl = `http://${svc.metadata.name}:${svc.spec!.ports![0]!.port}${target.env.MCP_PATH}`;
    expect(command[2]).toBe(serviceUrl);
    command[2] = mcpUrl(target);
    expect(command[0]).toBe('node');
    const cli = path.join(repoRoot, command[1]!);
    expect(fs.existsSync(cli), `${command[1]} (the command-line client) is not built`).toBe(true);
    const result = spawnSync(process.execPath, [cli, ...command.slice(2)], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(target.name);
  }, 30_000);

  it('SIGTERM drains well within the grace period the chart gives: streams closed with a retry hint, exit 0', async () => {
    const deployment = find<IDeployment & K8sObject>(rendered(), 'Deployment');
    const spec = deployment.spec!.template.spec!;
    const preStopSeconds = Number(serverContainer(deployment).lifecycle!.preStop!.exec!.command![1]);
    const budgetMs = (spec.terminationGracePeriodSeconds! - preStopSeconds) * 1000;
    const victim = replicas[2]!;

    // A session (initialized on replica 0) with its standalone GET stream held by the victim.
    const owner = client();
    const t = transport(mcpUrl(replicas[0]!), []);
    await owner.connect(t);
    const stream = await fetch(mcpUrl(victim), {
      headers: { accept: 'text/event-stream', 'mcp-session-id': t.sessionId!, 'mcp-protocol-version': t.protocolVersion! },
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = '';
    const drained = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString();
      }
    })();

    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => victim.child.once('exit', (code) => resolve(code)));
    victim.child.kill('SIGTERM');
    const code = await exited;
    const tookMs = Date.now() - started;
    await drained;
    expect(code, victim.output).toBe(0);
    expect(tookMs).toBeLessThan(budgetMs);
    expect(tookMs).toBeLessThanOrEqual(Number(victim.env.DRAIN_TIMEOUT_MS) + 2000);
    expect(text).toMatch(/^retry: ?\d+/m);
    // The session lives on: another replica still serves it.
    expect((await whoami(owner)).replica).toBe(replicas[0]!.name);
    await t.close();
  }, 60_000);
});
