/**
 * The chart's wiring, proven by running it: three `node dist/main.js` processes started with
 * exactly the environment the rendered Deployment gives its container (plus what the image and
 * the kubelet add), one local Redis in place of the bundled one, a session initialized on one
 * replica and served by the others, and a 2026-07-28 round trip sealed on one replica and
 * completed on the others (the requestState key comes from the rendered Secret). Also: the helm
 * test command, the metrics listener, the SIGTERM drain within the chart's grace period, and a
 * replica rendered with authorization on, against the paths the Ingress and HTTPRoute publish.
 *
 * The only substitutions, each forced by running three "pods" on one host:
 * - POD_NAME / HOSTNAME: downward API and kubelet values, faked per replica;
 * - REDIS_URL: the rendered host:port (the bundled Redis Service) becomes the local redis-server;
 * - PORT / METRICS_PORT: every pod has its own network namespace, these processes share one, so
 *   each gets free ports (the rendered values are first checked against the container ports).
 * Secret references are resolved from the rendered Secret, as the kubelet resolves them.
 * Requires `npm run build` (dist/), as `npm test` does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { freePort } from '../../src/fleet/free-port.js';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { modernRequest, postModern, toolJson } from '../support/raw-mcp.js';
import { repoRoot, valuesDir } from './support/paths.js';
import { renderedSecrets, resolveEnv, serverContainer } from './support/pod.js';
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

function renderOrError(set: string[] = [], valueFiles: string[] = []): () => K8sObject[] {
  let result: K8sObject[] | Error;
  try {
    result = render({ releaseName: 'mcp-fleet', namespace: 'mcp-fleet', set, valueFiles }).objects;
  } catch (error) {
    result = error as Error;
  }
  return () => {
    if (result instanceof Error) throw result;
    return result;
  };
}
const rendered = renderOrError();
/** Authorization on, published through an Ingress and a Gateway. */
const ISSUER = 'https://id.example.com/realms/mcp';
const withAuth = renderOrError(
  [
    'auth.enabled=true',
    `auth.issuer=${ISSUER}`,
    'auth.resourceUrl=https://mcp.example.com/mcp',
    'auth.requiredScopes[0]=mcp:use',
    'ingress.enabled=true',
    'ingress.hosts[0]=mcp.example.com',
  ],
  [path.join(valuesDir, 'gateway.yaml')],
);

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
    const ok = await fetch(`http://127.0.0.1:${r.port}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${r.name} was not ready within ${timeoutMs} ms:\n${r.output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The container's environment as the kubelet gives it, Secrets resolved from the rendered ones. */
const containerEnv = (objects: K8sObject[], podName: string): Record<string, string> =>
  resolveEnv(serverContainer(find(objects, 'Deployment')), { fields: { 'metadata.name': podName }, secrets: renderedSecrets(objects) });

/** Starts one "pod" of the rendered Deployment, with the substitutions stated above. */
async function startReplica(objects: K8sObject[], name: string): Promise<Replica> {
  const env = containerEnv(objects, name);
  const redisUrl = new URL(env.REDIS_URL!);
  const local = new URL(redis!.url);
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
  return replica;
}

/** The startup probe's budget: the time the kubelet gives a container to come up. */
function startupMs(container: IContainer): number {
  return container.startupProbe!.periodSeconds! * container.startupProbe!.failureThreshold! * 1000;
}

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm test does)`);
  const deployment = find<IDeployment & K8sObject>(rendered(), 'Deployment');
  const pod = deployment.spec!.template.spec!;
  redis = await RedisProcess.start();
  // As the chart's user when we can switch to it: then the repository (the image's /app) is not
  // writable, as on the read-only root filesystem, and only /tmp is.
  const chartUser = { uid: pod.securityContext!.runAsUser!, gid: pod.securityContext!.runAsGroup! };
  if (process.getuid?.() === 0) {
    if (canRunAs(chartUser)) runAs = chartUser;
    else console.log(`the replicas run as this user: UID ${chartUser.uid} cannot reach ${MAIN} or ${process.execPath}`);
  }
  for (let i = 0; i < 3; i++) await startReplica(rendered(), `mcp-fleet-6f7d9c5b8-r${i}x${i}z`);
  await Promise.all(replicas.map((r) => waitReady(r, startupMs(serverContainer(deployment)))));
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
    const renderedEnv = containerEnv(rendered(), 'x');
    // One requestState key, from the chart's Secret, on every replica.
    expect(renderedEnv.REQUEST_STATE_KEYS).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(new Set(replicas.slice(0, 3).map((r) => r.env.REQUEST_STATE_KEYS))).toEqual(new Set([renderedEnv.REQUEST_STATE_KEYS]));
    expect(Number(renderedEnv.PORT)).toBe(container.ports!.find((p) => p.name === 'http')!.containerPort);
    expect(Number(renderedEnv.METRICS_PORT)).toBe(container.ports!.find((p) => p.name === 'metrics')!.containerPort);
    const redisHost = new URL(renderedEnv.REDIS_URL!).hostname;
    expect(rendered().some((o) => o.kind === 'Service' && o.metadata.name === redisHost)).toBe(true);
    expect(deployment.spec!.template.spec!.enableServiceLinks).toBe(false);
    for (const r of replicas.slice(0, 3)) {
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
    for (const r of replicas.slice(0, 3)) {
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

  it('a 2026-07-28 sampling round trip sealed on one replica completes on each of the others', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const call = (extra: Record<string, unknown> = {}) =>
      modernRequest('tools/call', { name: 'sample', arguments: { prompt: 'across the fleet' }, ...extra }, { sampling: {} });
    const asked = await postModern(mcpUrl(a), call());
    expect(asked.headers.get('x-mcp-replica')).toBe(a.name);
    const requestState = asked.messages[0]?.result?.requestState as string;
    expect(typeof requestState, JSON.stringify(asked.messages)).toBe('string');
    const inputResponses = Object.fromEntries(
      Object.keys(asked.messages[0]!.result.inputRequests as object).map((k) => [
        k,
        { role: 'assistant', model: 'm', content: { type: 'text', text: 'sampled' } },
      ]),
    );
    for (const other of [b, c]) {
      const retried = await postModern(mcpUrl(other), call({ requestState, inputResponses }));
      expect(toolJson(retried)).toMatchObject({ answer: 'sampled', replica: other.name });
    }
  }, 30_000);

  it('the helm test command calls whoami (2026-07-28: no session)', () => {
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
    // The CLI negotiates the era with server/discover and ends in 2026-07-28: the replica, no session.
    const whoamiResult = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { content?: Array<{ text?: string }> })
      .find((doc) => doc.content);
    expect(JSON.parse(whoamiResult!.content![0]!.text!)).toEqual({ replica: target.name, sessionId: null });
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

describe('a replica rendered with authorization on', () => {
  let replica: Replica;
  beforeAll(async () => {
    replica = await startReplica(withAuth(), 'mcp-fleet-auth-5c4d3b2a1-q0q0q');
    await waitReady(replica, startupMs(serverContainer(find(withAuth(), 'Deployment'))));
  }, 60_000);

  const base = (): string => `http://127.0.0.1:${replica.port}`;
  const toReplica = (url: string): string => url.replace(/^http:\/\/mcp-fleet:3000/, base());

  it('serves every path the Ingress and the HTTPRoute publish, and the challenge points at one of them', async () => {
    const ingressPaths = find<IIngress & K8sObject>(withAuth(), 'Ingress').spec!.rules![0]!.http!.paths.map((p) => p.path!);
    const routePaths = find<IHTTPRoute & K8sObject>(withAuth(), 'HTTPRoute').spec!.rules!.flatMap((r) => r.matches!.map((m) => m.path!.value!));
    expect(routePaths).toEqual(ingressPaths);
    const [mcpPath, ...metadataPaths] = ingressPaths;
    expect(mcpPath).toBe(replica.env.MCP_PATH);
    const denied = await fetch(`${base()}${mcpPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{}',
    });
    expect(denied.status).toBe(401);
    const challenge = denied.headers.get('www-authenticate') ?? '';
    const pointedAt = new URL(/resource_metadata="([^"]+)"/.exec(challenge)![1]!);
    expect(pointedAt.origin).toBe('https://mcp.example.com');
    expect(metadataPaths).toContain(pointedAt.pathname);
    for (const p of metadataPaths) {
      const res = await fetch(`${base()}${p}`);
      expect(res.status, p).toBe(200);
      expect(await res.json()).toMatchObject({ resource: 'https://mcp.example.com/mcp', authorization_servers: [ISSUER], scopes_supported: ['mcp:use'] });
    }
  });

  it('the helm test command, without a token, checks the challenge and the metadata', () => {
    const pod = withAuth().find((o) => o.kind === 'Pod') as IPod & K8sObject;
    const command = pod.spec!.containers[0]!.command!.map(toReplica);
    expect(command.slice(0, 3)).toEqual(['node', '--input-type=module', '-e']);
    const result = spawnSync(process.execPath, command.slice(1), { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ metadata: { authorization_servers: [ISSUER] } });
    // And it fails where it should: a server that names another issuer.
    const wrong = spawnSync(process.execPath, [...command.slice(1, 6), 'https://other.example.com', command[7]!], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain('does not name');
  });
});
