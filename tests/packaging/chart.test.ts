/**
 * The Helm chart, linted (`helm lint --strict`) and rendered (`helm template`) with real Helm 3 and
 * Helm 4 for the default values and several value sets, then validated against the Kubernetes
 * schemas and checked for the properties the deployment relies on. Both Helms must render the
 * same objects, here and wherever the tests render the chart (support/render.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { loadConfig } from '../../src/config.js';
import { typeCheckObjects, validateWithModels } from './support/k8s-validate.js';
import { chartDir, valuesDir } from './support/paths.js';
import { admits, letsOut, type Endpoint } from './support/network-policy.js';
import { matches, podTemplates, renderedSecrets, resolveEnv, restrictedProblems, serverContainer } from './support/pod.js';
import {
  differences,
  find,
  HELM_MAJORS,
  helmVersion,
  kinds,
  lint,
  render,
  renderError,
  type HelmMajor,
  type K8sObject,
  type RenderOptions,
  type Rendered,
} from './support/render.js';
import { serverEnvNames } from './support/server-env.js';

interface ValueSet extends RenderOptions {
  name: string;
}

const vf = (...names: string[]): string[] => names.map((n) => path.join(valuesDir, n));
const MONITORING_API = 'monitoring.coreos.com/v1';

const VALUE_SETS: ValueSet[] = [
  { name: 'defaults (bundled Redis)' },
  { name: 'external Redis (url, Secret, TLS)', valueFiles: vf('external.yaml') },
  { name: 'external Redis (host/port, user)', valueFiles: vf('external-host.yaml') },
  { name: 'external Redis Sentinel', valueFiles: vf('sentinel.yaml') },
  { name: 'external Redis Cluster', valueFiles: vf('cluster.yaml') },
  { name: 'bundled Redis with password and volume', valueFiles: vf('bundled-persistent.yaml') },
  { name: 'monitoring on', valueFiles: vf('monitoring.yaml'), apiVersions: [MONITORING_API] },
  { name: 'monitoring forced without the API', set: ['metrics.serviceMonitor.enabled=true'] },
  { name: 'autoscaling on', valueFiles: vf('autoscaling.yaml') },
  { name: 'ingress on', valueFiles: vf('ingress.yaml') },
  { name: 'gateway on', valueFiles: vf('gateway.yaml') },
  { name: 'one replica in memory', valueFiles: vf('single-memory.yaml') },
  { name: 'external PostgreSQL (URLs from a Secret)', valueFiles: vf('postgres.yaml') },
  { name: 'another release name', releaseName: 'edge', namespace: 'tools', valueFiles: vf('external.yaml', 'ingress.yaml') },
  { name: 'authorization on, Ingress and Gateway', valueFiles: vf('auth.yaml', 'ingress.yaml', 'gateway.yaml') },
  { name: 'NetworkPolicy naming its peers', valueFiles: vf('external.yaml', 'auth.yaml', 'network-policy.yaml') },
  { name: 'every server setting changed', valueFiles: vf('server-settings.yaml') },
];

/** Each value set's rendering by each Helm. */
const rendered = new Map<string, Rendered>();
const renderedBy = (major: HelmMajor, name: string): K8sObject[] => {
  const r = rendered.get(`${major}:${name}`);
  if (!r) throw new Error(`value set ${name} was not rendered with Helm ${major}`);
  return r.objects;
};
/** Helm 3's objects (Helm 4's are the same: checked below). */
const get = (name: string): K8sObject[] => renderedBy(3, name);

const SERVER_ENV = serverEnvNames();
/** Secrets the value sets name but the chart does not make (its own come from the rendering). */
const FAKES = {
  fields: { 'metadata.name': 'mcp-fleet-5d9c7b8f4-abcde' },
  secrets: {
    'mcp-fleet-redis/password': 's3cret',
    'redis-credentials/password': 's3cret',
    'mcp-fleet-redis-auth/password': 's3cret',
    'mcp-fleet-request-state/ring': 'operator-made-request-state-key-0000000000',
    'mcp-fleet-postgres/pooled-url': 'postgres://mcp:s3cret@pgbouncer.db.svc:6432/fleet',
    'mcp-fleet-postgres/direct-url': 'postgres://mcp:s3cret@postgres.db.svc:5432/fleet',
  },
};

function deploymentOf(objects: K8sObject[]): IDeployment & K8sObject {
  return find<IDeployment & K8sObject>(objects, 'Deployment');
}

function envOf(objects: K8sObject[]): Record<string, string> {
  return resolveEnv(serverContainer(deploymentOf(objects)), { ...FAKES, secrets: { ...FAKES.secrets, ...renderedSecrets(objects) } });
}

function containerPort(objects: K8sObject[], name: string): number | undefined {
  return serverContainer(deploymentOf(objects)).ports?.find((p) => p.name === name)?.containerPort;
}

function mainService(objects: K8sObject[]): IService & K8sObject {
  const name = deploymentOf(objects).metadata.name;
  return find<IService & K8sObject>(objects, 'Service', name);
}

beforeAll(() => {
  for (const major of HELM_MAJORS) for (const set of VALUE_SETS) rendered.set(`${major}:${set.name}`, render({ ...set, helm: major }));
}, 300_000);

describe.each(HELM_MAJORS)('Helm %i', (major) => {
  it(`is Helm ${major}`, () => {
    expect(helmVersion(major)).toMatch(new RegExp(`^v${major}\\.\\d+\\.\\d+`));
  });

  // helm lint takes no --api-versions: the monitoring value set is linted without the CRDs' API.
  it.each(VALUE_SETS.map((s) => [s.name, s] as const))('%s: helm lint --strict passes', (_name, set) => {
    const result = lint({ ...set, helm: major });
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toContain('0 chart(s) failed');
  });

  it.each(VALUE_SETS.map((s) => s.name))('%s: every object passes the kubernetes-models schemas', (name) => {
    expect(renderedBy(major, name).length).toBeGreaterThan(3);
    validateWithModels(renderedBy(major, name));
  });
});

describe('chart renders and validates', () => {
  it.each(VALUE_SETS.map((s) => s.name))('%s: Helm 3 and Helm 4 render the same objects', (name) => {
    expect(differences(renderedBy(3, name), renderedBy(4, name))).toEqual([]);
  });

  it('every .Values path the templates read is in values.yaml', () => {
    // Helm renders a value that is not there as empty (helm lint --strict does not catch it), so a
    // misspelt path would quietly render nothing.
    const defaults = parseYaml(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const has = (keys: string[]): boolean => {
      let node: unknown = defaults;
      for (const k of keys) {
        if (typeof node !== 'object' || node === null || !(k in node)) return false;
        node = (node as Record<string, unknown>)[k];
      }
      return true;
    };
    const templates = path.join(chartDir, 'templates');
    const read = new Set<string>();
    for (const file of fs.readdirSync(templates, { recursive: true, encoding: 'utf8' })) {
      if (!/\.(yaml|tpl|txt)$/.test(file)) continue;
      for (const m of fs.readFileSync(path.join(templates, file), 'utf8').matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) read.add(m[1]!.slice(1));
    }
    expect(read.size).toBeGreaterThan(50);
    expect([...read].filter((p) => !has(p.split('.'))).sort()).toEqual([]);
  });

  it('every object of every value set has only known, well-typed fields (TypeScript check)', () => {
    const all = VALUE_SETS.flatMap((s) => get(s.name).map((o) => ({ ...o, metadata: { ...o.metadata, name: `${o.metadata.name}@${s.name}` } })));
    expect(typeCheckObjects(all)).toEqual([]);
  }, 60_000);

  it('the type check does catch a misspelt field and a wrong type', () => {
    const d = structuredClone(deploymentOf(get('defaults (bundled Redis)')));
    const c = d.spec!.template.spec!.containers[0]! as unknown as Record<string, unknown>;
    c.readinesProbe = c.readinessProbe;
    (d.spec as unknown as Record<string, unknown>).replicas = 'three';
    const problems = typeCheckObjects([d]);
    expect(problems.join('\n')).toContain('readinesProbe');
    expect(problems.join('\n')).toContain("'string' is not assignable to type 'number'");
  }, 60_000);

  it('objects of the default values', () => {
    expect(kinds(get('defaults (bundled Redis)'))).toEqual([
      'Deployment/mcp-fleet',
      'NetworkPolicy/mcp-fleet',
      'NetworkPolicy/mcp-fleet-redis',
      'Pod/mcp-fleet-test-whoami',
      'PodDisruptionBudget/mcp-fleet',
      'Secret/mcp-fleet-request-state',
      'Service/mcp-fleet',
      'Service/mcp-fleet-metrics',
      'Service/mcp-fleet-redis',
      'Service/mcp-fleet-redis-headless',
      'ServiceAccount/mcp-fleet',
      'StatefulSet/mcp-fleet-redis',
    ]);
  });
});

describe.each(VALUE_SETS.map((s) => s.name))('%s', (name) => {
  it('the Service has no session affinity and reaches the container port', () => {
    const objects = get(name);
    for (const svc of objects.filter((o) => o.kind === 'Service') as Array<IService & K8sObject>) {
      expect([undefined, 'None']).toContain(svc.spec?.sessionAffinity);
      expect(svc.spec?.sessionAffinityConfig).toBeUndefined();
    }
    const svc = mainService(objects);
    expect(svc.spec!.ports).toHaveLength(1);
    const port = svc.spec!.ports![0]!;
    expect(port.targetPort).toBe('http');
    expect(containerPort(objects, 'http')).toBe(Number(envOf(objects).PORT));
    const pods = podTemplates(objects).filter((t) => matches(svc.spec!.selector, t.labels));
    expect(pods.map((t) => t.owner)).toEqual([`Deployment/${svc.metadata.name}`]);
  });

  it('probes point at /readyz and /healthz on the container port; the rollout never drops a replica', () => {
    const d = deploymentOf(get(name));
    const c = serverContainer(d);
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.ports?.find((p) => p.name === 'http')?.containerPort).toBe(Number(envOf(get(name)).PORT));
    expect(d.spec!.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
  });

  it('preStop and the grace period leave time to drain SSE streams', () => {
    const d = deploymentOf(get(name));
    const c = serverContainer(d);
    const command = c.lifecycle?.preStop?.exec?.command ?? [];
    expect(command[0]).toBe('sleep');
    const preStopMs = Number(command[1]) * 1000;
    const drainMs = Number(envOf(get(name)).DRAIN_TIMEOUT_MS);
    expect(preStopMs).toBeGreaterThan(0);
    expect(d.spec!.template.spec!.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(preStopMs + drainMs);
  });

  it('every pod meets the restricted Pod Security Standard', () => {
    const templates = podTemplates(get(name));
    expect(templates.length).toBeGreaterThan(0);
    for (const t of templates) expect({ owner: t.owner, problems: restrictedProblems(t) }).toEqual({ owner: t.owner, problems: [] });
    const server = templates.find((t) => t.owner.startsWith('Deployment/'))!;
    const tmp = server.spec.containers[0]!.volumeMounts?.find((m) => m.mountPath === '/tmp');
    expect(server.spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(server.spec.enableServiceLinks).toBe(false);
  });

  it('replicas spread over nodes; POD_NAME comes from the downward API', () => {
    const d = deploymentOf(get(name));
    const spread = d.spec!.template.spec!.topologySpreadConstraints ?? [];
    const byHost = spread.find((s) => s.topologyKey === 'kubernetes.io/hostname');
    expect(byHost).toBeDefined();
    expect(matches(byHost!.labelSelector!.matchLabels, d.spec!.template.metadata!.labels!)).toBe(true);
    const podName = serverContainer(d).env!.find((e) => e.name === 'POD_NAME');
    expect(podName?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
  });

  it('sets only environment variables the server reads, and the server accepts them', () => {
    const env = envOf(get(name));
    const unknown = Object.keys(env).filter((n) => !SERVER_ENV.has(n));
    expect(unknown).toEqual([]);
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('the metrics port agrees everywhere', () => {
    const objects = get(name);
    const env = envOf(objects);
    const metricsPort = containerPort(objects, 'metrics');
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.labels?.['app.kubernetes.io/component'] === 'metrics') as
      | (IService & K8sObject)
      | undefined;
    if (env.METRICS_PORT === '0') {
      expect(metricsPort).toBeUndefined();
      expect(svc).toBeUndefined();
      return;
    }
    expect(metricsPort).toBe(Number(env.METRICS_PORT));
    expect(svc!.spec!.ports).toEqual([{ name: 'metrics', port: metricsPort, targetPort: 'metrics', protocol: 'TCP' }]);
    expect(matches(svc!.spec!.selector, deploymentOf(objects).spec!.template.metadata!.labels!)).toBe(true);
  });

  it('the helm test hook goes through the Service with the server image: whoami, or without a token the auth challenge', () => {
    const objects = get(name);
    const pod = objects.find((o) => o.kind === 'Pod') as (IPod & K8sObject) | undefined;
    expect(pod).toBeDefined();
    expect(pod!.metadata.annotations?.['helm.sh/hook']).toBe('test');
    const c = pod!.spec!.containers[0]!;
    const svc = mainService(objects);
    const env = envOf(objects);
    const base = `http://${svc.metadata.name}:${svc.spec!.ports![0]!.port}`;
    expect(c.image).toBe(serverContainer(deploymentOf(objects)).image);
    if (env.AUTH_ISSUER === undefined) {
      expect(c.command).toEqual(['node', 'dist/client/cli.js', `${base}${env.MCP_PATH}`, 'call', 'whoami', '--json']);
    } else {
      // The script's arguments: the endpoint, the metadata URL the server serves for its path, the issuer and the resource.
      expect(c.command!.slice(0, 3)).toEqual(['node', '--input-type=module', '-e']);
      expect(c.command!.slice(4)).toEqual([
        `${base}${env.MCP_PATH}`,
        `${base}/.well-known/oauth-protected-resource${env.MCP_PATH}`,
        env.AUTH_ISSUER,
        env.AUTH_RESOURCE_URL,
      ]);
    }
    expect(pod!.spec!.restartPolicy).toBe('Never');
  });

  it('a PodDisruptionBudget guards more than one replica, and selects the server pods', () => {
    const objects = get(name);
    const d = deploymentOf(objects);
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler') as (IHorizontalPodAutoscaler & K8sObject) | undefined;
    const min = hpa ? hpa.spec!.minReplicas! : d.spec!.replicas!;
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget') as (IPodDisruptionBudget & K8sObject) | undefined;
    if (min > 1) {
      expect(pdb).toBeDefined();
      expect(matches(pdb!.spec!.selector!.matchLabels, d.spec!.template.metadata!.labels!)).toBe(true);
    } else {
      expect(pdb).toBeUndefined();
    }
  });
});

describe('Redis wiring', () => {
  it('bundled: REDIS_URL points at the bundled Redis Service, whose port reaches the StatefulSet', () => {
    const objects = get('defaults (bundled Redis)');
    const env = envOf(objects);
    const url = new URL(env.REDIS_URL!);
    const svc = find<IService & K8sObject>(objects, 'Service', url.hostname);
    expect(svc.spec!.ports![0]!.port).toBe(Number(url.port));
    const sts = find<IStatefulSet & K8sObject>(objects, 'StatefulSet');
    expect(matches(svc.spec!.selector, sts.spec!.template.metadata!.labels!)).toBe(true);
    const redisPort = sts.spec!.template.spec!.containers[0]!.ports!.find((p) => p.name === svc.spec!.ports![0]!.targetPort);
    expect(redisPort?.containerPort).toBe(Number(url.port));
    expect(sts.spec!.serviceName).toBe(`${svc.metadata.name}-headless`);
    expect(find<IService & K8sObject>(objects, 'Service', sts.spec!.serviceName).spec!.clusterIP).toBe('None');
    expect(env.REDIS_PASSWORD).toBeUndefined();
  });

  it('bundled: only the server pods may reach Redis', () => {
    const objects = get('defaults (bundled Redis)');
    const np = find<INetworkPolicy & K8sObject>(objects, 'NetworkPolicy', 'mcp-fleet-redis');
    const templates = podTemplates(objects);
    const guarded = templates.filter((t) => matches(np.spec!.podSelector!.matchLabels, t.labels)).map((t) => t.owner);
    expect(guarded).toEqual(['StatefulSet/mcp-fleet-redis']);
    expect(np.spec!.policyTypes).toEqual(['Ingress']);
    expect(np.spec!.ingress).toHaveLength(1);
    const from = np.spec!.ingress![0]!.from!;
    expect(from).toHaveLength(1);
    const allowed = templates.filter((t) => matches(from[0]!.podSelector?.matchLabels, t.labels)).map((t) => t.owner);
    expect(allowed).toEqual(['Deployment/mcp-fleet']);
    expect(np.spec!.ingress![0]!.ports).toEqual([{ protocol: 'TCP', port: 6379 }]);
  });

  it('bundled with a password and a volume: requirepass from the Secret, a claim for /data', () => {
    const objects = get('bundled Redis with password and volume');
    const sts = find<IStatefulSet & K8sObject>(objects, 'StatefulSet');
    const c = sts.spec!.template.spec!.containers[0]!;
    const env = resolveEnv(c, FAKES);
    expect(c.args).toContain('--requirepass');
    expect(c.args![c.args!.indexOf('--requirepass') + 1]).toBe('$(REDIS_PASSWORD)');
    expect(env.REDIS_PASSWORD).toBe('s3cret');
    expect(c.args![c.args!.indexOf('--appendonly') + 1]).toBe('yes');
    expect(sts.spec!.volumeClaimTemplates![0]!.spec!.resources!.requests!.storage).toBe('2Gi');
    expect(sts.spec!.volumeClaimTemplates![0]!.spec!.storageClassName).toBe('standard');
    expect(sts.spec!.template.spec!.volumes!.find((v) => v.name === 'data')).toBeUndefined();
    expect(envOf(objects).REDIS_PASSWORD).toBe('s3cret');
  });

  it('external by URL: TLS, password from the existing Secret, nothing bundled', () => {
    const objects = get('external Redis (url, Secret, TLS)');
    const d = deploymentOf(objects);
    const env = envOf(objects);
    expect(env.REDIS_URL).toBe('rediss://redis-master.redis.svc.cluster.local:6379');
    expect(env.REDIS_TLS).toBe('true');
    expect(serverContainer(d).env!.find((e) => e.name === 'REDIS_PASSWORD')!.valueFrom!.secretKeyRef).toEqual({ name: 'mcp-fleet-redis', key: 'password' });
    expect(objects.filter((o) => o.kind === 'StatefulSet' || o.metadata.labels?.['app.kubernetes.io/component'] === 'redis')).toEqual([]);
    expect(loadConfig(env).redis).toMatchObject({ tls: true, password: 's3cret', url: env.REDIS_URL });
  });

  it('external by host and port, with a user and a key prefix', () => {
    const config = loadConfig(envOf(get('external Redis (host/port, user)')));
    expect(config.redis).toMatchObject({ url: 'rediss://redis.example.internal:6380', tls: true, username: 'mcp', keyPrefix: 'fleet-a:' });
  });

  it('Sentinel and Cluster settings reach the server', () => {
    const sentinel = loadConfig(envOf(get('external Redis Sentinel'))).redis!;
    expect(sentinel.url).toBeUndefined();
    expect(sentinel.sentinels).toHaveLength(3);
    expect(sentinel.sentinelName).toBe('mymaster');
    const cluster = loadConfig(envOf(get('external Redis Cluster'))).redis!;
    expect(cluster.clusterNodes.map((n) => n.port)).toEqual([6379, 6379, 6379]);
  });

  it('one replica in memory: no Redis variables, no metrics listener', () => {
    const env = envOf(get('one replica in memory'));
    expect(Object.keys(env).filter((n) => n.startsWith('REDIS_'))).toEqual([]);
    expect(env.METRICS_PORT).toBe('0');
    expect(loadConfig(env).redis).toBeUndefined();
  });

  it('external PostgreSQL: the URLs from the Secret, every setting passed, no Redis variables and no Redis objects', () => {
    const objects = get('external PostgreSQL (URLs from a Secret)');
    const container = serverContainer(deploymentOf(objects));
    const ref = (name: string) => container.env!.find((e) => e.name === name)!.valueFrom!.secretKeyRef;
    expect(ref('DATABASE_URL')).toEqual({ name: 'mcp-fleet-postgres', key: 'pooled-url' });
    expect(ref('DATABASE_LISTEN_URL')).toEqual({ name: 'mcp-fleet-postgres', key: 'direct-url' });
    const env = envOf(objects);
    expect(Object.keys(env).filter((n) => n.startsWith('REDIS_'))).toEqual([]);
    expect(objects.filter((o) => o.kind === 'StatefulSet' || o.metadata.labels?.['app.kubernetes.io/component'] === 'redis')).toEqual([]);
    const config = loadConfig(env);
    expect(config.redis).toBeUndefined();
    expect(config.postgres).toEqual({
      url: 'postgres://mcp:s3cret@pgbouncer.db.svc:6432/fleet',
      listenUrl: 'postgres://mcp:s3cret@postgres.db.svc:5432/fleet',
      schema: 'fleet_a',
      poolSize: 20,
      statementTimeoutMs: 3000,
      connectTimeoutMs: 7000,
    });
  });

  it('external PostgreSQL by a URL in values (no password): DATABASE_URL is that URL', () => {
    const env = envOf(render({ set: ['redis.mode=none', 'postgres.enabled=true', 'postgres.url=postgres://mcp@db.example.internal/fleet'] }).objects);
    expect(env.DATABASE_URL).toBe('postgres://mcp@db.example.internal/fleet');
    expect(env.DATABASE_LISTEN_URL).toBeUndefined();
    expect(loadConfig(env).postgres).toMatchObject({ url: 'postgres://mcp@db.example.internal/fleet', schema: 'mcp_fleet', poolSize: 10 });
  });

  it('postgres.enabled without a URL or a Secret is refused', () => {
    expect(renderError({ set: ['redis.mode=none', 'postgres.enabled=true'] })).toContain('postgres.enabled needs postgres.existingSecret');
  });

  it('the chart can reach every setting the server has', () => {
    const set = new Set(VALUE_SETS.flatMap((s) => Object.keys(envOf(get(s.name)))));
    expect([...SERVER_ENV].filter((n) => !set.has(n)).sort()).toEqual([]);
  });

  it("the chart's defaults are the server's own defaults", () => {
    const env = envOf(get('defaults (bundled Redis)'));
    const fromChart = loadConfig(env);
    const serverDefaults = loadConfig({ POD_NAME: env.POD_NAME, REDIS_URL: env.REDIS_URL, REQUEST_STATE_KEYS: env.REQUEST_STATE_KEYS });
    expect(fromChart).toEqual(serverDefaults);
    expect(fromChart.auth).toBeUndefined();
  });

  it('every server.* and auth.* value reaches the server setting of the same name', () => {
    const defaults = parseYaml(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as { server: Record<string, unknown> };
    const given = parseYaml(fs.readFileSync(path.join(valuesDir, 'server-settings.yaml'), 'utf8')) as {
      server: Record<string, unknown>;
      requestState: { ttlSeconds: number };
    };
    // The value set changes every server value, so a value wired to the wrong variable shows.
    expect(Object.keys(given.server).sort()).toEqual(Object.keys(defaults.server).sort());
    for (const [k, v] of Object.entries(given.server)) expect(v, k).not.toEqual(defaults.server[k]);
    const config = loadConfig(envOf(get('every server setting changed'))) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(given.server)) expect(config[k], k).toEqual(v);
    expect(config.requestStateTtlSeconds).toBe(given.requestState.ttlSeconds);

    const auth = (parseYaml(fs.readFileSync(path.join(valuesDir, 'auth.yaml'), 'utf8')) as { auth: Record<string, unknown> }).auth;
    const settings = loadConfig(envOf(get('authorization on, Ingress and Gateway'))).auth as unknown as Record<string, unknown>;
    const { enabled, toolScopes, ...plain } = auth;
    expect(enabled).toBe(true);
    for (const [k, v] of Object.entries(plain)) expect(settings[k], k).toEqual(v);
    expect(Object.fromEntries(settings.toolScopes as Map<string, string[]>)).toEqual(toolScopes);
  });
});

describe('optional objects', () => {
  it('autoscaling: the HPA scales the Deployment, which then leaves replicas to it', () => {
    const objects = get('autoscaling on');
    const hpa = find<IHorizontalPodAutoscaler & K8sObject>(objects, 'HorizontalPodAutoscaler');
    const d = deploymentOf(objects);
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name });
    expect(d.spec!.replicas).toBeUndefined();
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(hpa.spec!.metrics!.map((m) => [m.resource!.name, m.resource!.target.averageUtilization])).toEqual([
      ['cpu', 65],
      ['memory', 80],
    ]);
    expect(get('defaults (bundled Redis)').some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  it('ingress: only the MCP path, to the Service port, with the SSE annotations', () => {
    const objects = get('ingress on');
    const ing = find<IIngress & K8sObject>(objects, 'Ingress');
    const env = envOf(objects);
    const svc = mainService(objects);
    expect(ing.spec!.ingressClassName).toBe('nginx');
    expect(ing.spec!.rules).toHaveLength(1);
    expect(ing.spec!.rules![0]!.host).toBe('mcp.example.com');
    expect(ing.spec!.rules![0]!.http!.paths).toEqual([
      { path: env.MCP_PATH, pathType: 'Exact', backend: { service: { name: svc.metadata.name, port: { name: svc.spec!.ports![0]!.name } } } },
    ]);
    const a = ing.metadata.annotations!;
    expect(a['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(a['nginx.ingress.kubernetes.io/proxy-body-size']).toBe(env.MAX_BODY_BYTES);
    expect(ing.spec!.tls).toEqual([{ secretName: 'mcp-example-tls', hosts: ['mcp.example.com'] }]);
    expect(env.ALLOWED_HOSTS).toBe('mcp.example.com,mcp-fleet');
    expect(loadConfig(env).allowedHosts).toEqual(['mcp.example.com', 'mcp-fleet']);
  });

  it('ingress without hosts: one rule for any host', () => {
    const ing = find<IIngress & K8sObject>(render({ set: ['ingress.enabled=true'] }).objects, 'Ingress');
    expect(ing.spec!.rules).toHaveLength(1);
    expect(ing.spec!.rules![0]!.host).toBeUndefined();
  });

  it('gateway: an HTTPRoute for the MCP path to the Service, without a request or backend timeout', () => {
    const objects = get('gateway on');
    const route = find<IHTTPRoute & K8sObject>(objects, 'HTTPRoute');
    const svc = mainService(objects);
    expect(route.spec!.parentRefs).toEqual([{ name: 'public', namespace: 'gateway-system', sectionName: 'https' }]);
    expect(route.spec!.hostnames).toEqual(['mcp.example.com']);
    const rule = route.spec!.rules![0]!;
    expect(rule.matches).toEqual([{ path: { type: 'Exact', value: envOf(objects).MCP_PATH } }]);
    expect(rule.backendRefs).toEqual([{ name: svc.metadata.name, port: svc.spec!.ports![0]!.port }]);
    expect(rule.timeouts).toEqual({ request: '0s', backendRequest: '0s' });
    // Timeouts of your own: a backend timeout alone is allowed too.
    const own = find<IHTTPRoute & K8sObject>(
      render({ valueFiles: vf('gateway.yaml'), set: ['gateway.requestTimeout=', 'gateway.backendRequestTimeout=30m'] }).objects,
      'HTTPRoute',
    );
    expect(own.spec!.rules![0]!.timeouts).toEqual({ backendRequest: '30m' });
  });

  it('ServiceMonitor: only with the monitoring.coreos.com/v1 API or when forced; it scrapes the metrics Service', () => {
    expect(get('defaults (bundled Redis)').some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    for (const name of ['monitoring on', 'monitoring forced without the API']) {
      const objects = get(name);
      const sm = find<IServiceMonitor & K8sObject>(objects, 'ServiceMonitor');
      const targets = objects.filter((o) => o.kind === 'Service' && matches(sm.spec.selector.matchLabels, o.metadata.labels ?? {})) as Array<
        IService & K8sObject
      >;
      expect(targets.map((t) => t.metadata.name)).toEqual(['mcp-fleet-metrics']);
      expect(sm.spec.endpoints).toHaveLength(1);
      const endpoint = sm.spec.endpoints![0]!;
      expect(endpoint.path).toBe('/metrics');
      expect(targets[0]!.spec!.ports!.map((p) => p.name)).toContain(endpoint.port);
      expect(sm.spec.namespaceSelector).toEqual({ matchNames: ['mcp-fleet'] });
    }
    expect(find(get('monitoring on'), 'ServiceMonitor').metadata.labels?.release).toBe('kube-prometheus-stack');
    const off = render({ apiVersions: [MONITORING_API], set: ['metrics.serviceMonitor.enabled=false'] }).objects;
    expect(off.some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    const noMetrics = render({ apiVersions: [MONITORING_API], set: ['metrics.enabled=false'] }).objects;
    expect(noMetrics.some((o) => o.kind === 'ServiceMonitor' || o.metadata.name.endsWith('-metrics'))).toBe(false);
  });

  it('PrometheusRule: metrics.prometheusRule.runbookBaseUrl makes each runbook_url absolute', () => {
    const objects = render({ apiVersions: [MONITORING_API], set: ['metrics.prometheusRule.runbookBaseUrl=https://example.com/mcp-fleet/blob/v1/'] }).objects;
    const rule = objects.find((o) => o.kind === 'PrometheusRule') as (IPrometheusRule & K8sObject) | undefined;
    const urls = rule!.spec!.groups!.flatMap((g) => (g.rules ?? []).filter((r) => r.alert).map((r) => [r.alert, r.annotations?.runbook_url]));
    expect(urls.length).toBeGreaterThan(0);
    for (const [alert, url] of urls) expect(url).toBe(`https://example.com/mcp-fleet/blob/v1/docs/runbook.md#${alert!.toLowerCase()}`);
  });

  it("PrometheusRule and dashboard: the chart's own files/ when present", () => {
    const objects = get('monitoring on');
    const rulesFile = path.join(chartDir, 'files/prometheus-rules.yaml');
    const dashboardFile = path.join(chartDir, 'files/grafana-dashboard.json');
    const rule = objects.find((o) => o.kind === 'PrometheusRule') as (IPrometheusRule & K8sObject) | undefined;
    const dashboard = objects.find((o) => o.kind === 'ConfigMap') as (IConfigMap & K8sObject) | undefined;
    if (fs.existsSync(rulesFile)) {
      const source = parseYaml(fs.readFileSync(rulesFile, 'utf8')) as { groups?: unknown; spec?: { groups?: unknown } };
      expect(rule?.spec.groups).toEqual(source.spec?.groups ?? source.groups);
      expect(JSON.stringify(rule?.spec.groups)).toContain('mcp_fleet_');
    } else {
      expect(rule).toBeUndefined();
    }
    if (fs.existsSync(dashboardFile)) {
      expect(JSON.parse(dashboard!.data!['mcp-fleet.json']!)).toEqual(JSON.parse(fs.readFileSync(dashboardFile, 'utf8')));
      expect(dashboard!.metadata.labels?.grafana_dashboard).toBe('1');
    } else {
      expect(dashboard).toBeUndefined();
    }
  });

  describe('PrometheusRule and dashboard templates, on a copy of the chart with sample files', () => {
    let copy: string;
    const rules = {
      groups: [
        {
          name: 'mcp-fleet',
          rules: [
            {
              alert: 'McpFleetReplicaNotReady',
              expr: 'sum(kube_pod_status_ready{condition="false", pod=~"mcp-fleet-.*"}) > 0',
              for: '5m',
              labels: { severity: 'warning' },
              annotations: { summary: '{{ $labels.pod }} is not ready' },
            },
            {
              record: 'mcp_fleet:store_seconds_per_request:p99',
              expr: 'histogram_quantile(0.99, sum by (le) (rate(mcp_fleet_request_store_seconds_bucket[5m])))',
            },
          ],
        },
      ],
    };
    const dashboard = { title: 'mcp-fleet', panels: [{ title: 'Redis time per request', type: 'timeseries' }], schemaVersion: 39 };

    beforeAll(() => {
      copy = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-chart-'));
      fs.cpSync(chartDir, path.join(copy, 'mcp-fleet'), { recursive: true });
      copy = path.join(copy, 'mcp-fleet');
      fs.mkdirSync(path.join(copy, 'files'), { recursive: true });
      fs.writeFileSync(path.join(copy, 'files/grafana-dashboard.json'), JSON.stringify(dashboard, null, 2));
      return () => fs.rmSync(path.dirname(copy), { recursive: true, force: true });
    });

    for (const [format, content] of [
      ['a rule file (groups:)', rules],
      ['a PrometheusRule object', { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'x' }, spec: rules }],
    ] as const) {
      it(`rules given as ${format}`, () => {
        fs.writeFileSync(path.join(copy, 'files/prometheus-rules.yaml'), JSON.stringify(content));
        const { objects } = render({ chart: copy, valueFiles: vf('monitoring.yaml'), apiVersions: [MONITORING_API] });
        validateWithModels(objects);
        expect(typeCheckObjects(objects.filter((o) => o.kind === 'PrometheusRule' || o.kind === 'ConfigMap'))).toEqual([]);
        const rule = find<IPrometheusRule & K8sObject>(objects, 'PrometheusRule');
        expect(rule.spec.groups).toEqual(rules.groups);
        expect(rule.metadata.labels?.release).toBe('kube-prometheus-stack');
        const cm = find<IConfigMap & K8sObject>(objects, 'ConfigMap');
        expect(JSON.parse(cm.data!['mcp-fleet.json']!)).toEqual(dashboard);
        // Without the API (and not forced) the rule is left out; the dashboard is a ConfigMap and stays.
        const without = render({ chart: copy, valueFiles: vf('monitoring.yaml') }).objects;
        expect(without.some((o) => o.kind === 'PrometheusRule')).toBe(false);
        expect(without.some((o) => o.kind === 'ConfigMap')).toBe(true);
      });
    }

    it('a rules file that does not parse is an error', () => {
      fs.writeFileSync(path.join(copy, 'files/prometheus-rules.yaml'), 'groups: [unclosed');
      for (const major of HELM_MAJORS)
        expect(renderError({ chart: copy, apiVersions: [MONITORING_API], helm: major })).toContain('prometheus-rules.yaml does not parse');
    });
  });
});

describe('authorization', () => {
  const METADATA = '/.well-known/oauth-protected-resource';

  it('publishes the metadata paths the server serves next to the MCP path, through the Ingress and the HTTPRoute', () => {
    const objects = get('authorization on, Ingress and Gateway');
    const env = envOf(objects);
    const svc = mainService(objects);
    const expected = [env.MCP_PATH, METADATA, `${METADATA}${env.MCP_PATH}`];
    const ing = find<IIngress & K8sObject>(objects, 'Ingress');
    for (const rule of ing.spec!.rules!) {
      expect(rule.http!.paths.map((p) => p.path)).toEqual(expected);
      for (const p of rule.http!.paths) expect(p.backend).toEqual({ service: { name: svc.metadata.name, port: { name: 'http' } } });
    }
    const route = find<IHTTPRoute & K8sObject>(objects, 'HTTPRoute');
    expect(route.spec!.rules!.flatMap((r) => r.matches!.map((m) => m.path!.value))).toEqual(expected);
    for (const r of route.spec!.rules!) expect(r.backendRefs).toEqual([{ name: svc.metadata.name, port: svc.spec!.ports![0]!.port }]);
    // Without authorization only the MCP path is published.
    expect(find<IIngress & K8sObject>(get('ingress on'), 'Ingress').spec!.rules![0]!.http!.paths.map((p) => p.path)).toEqual([env.MCP_PATH]);
    expect(find<IHTTPRoute & K8sObject>(get('gateway on'), 'HTTPRoute').spec!.rules).toHaveLength(1);
  });

  it('a resource URL with a path of its own (a rewriting proxy) gets its metadata path published too', () => {
    const set = ['auth.enabled=true', 'auth.issuer=https://id.example.com', 'auth.resourceUrl=https://mcp.example.com/public/mcp/', 'ingress.enabled=true'];
    const ing = find<IIngress & K8sObject>(render({ set }).objects, 'Ingress');
    expect(ing.spec!.rules![0]!.http!.paths.map((p) => p.path)).toEqual(['/mcp', METADATA, `${METADATA}/public/mcp`, `${METADATA}/mcp`]);
    const root = find<IIngress & K8sObject>(
      render({ set: [...set.slice(0, 2), 'auth.resourceUrl=https://mcp.example.com', 'ingress.enabled=true'] }).objects,
      'Ingress',
    );
    expect(root.spec!.rules![0]!.http!.paths.map((p) => p.path)).toEqual(['/mcp', METADATA, `${METADATA}/mcp`]);
  });

  it('the server starts with the AUTH_ variables only when auth.enabled is true', () => {
    const on = envOf(get('authorization on, Ingress and Gateway'));
    expect(loadConfig(on).auth).toMatchObject({ issuer: 'https://id.example.com/realms/mcp', resourceUrl: 'https://mcp.example.com/mcp' });
    const off = envOf(render({ set: ['auth.issuer=https://id.example.com', 'auth.resourceUrl=https://mcp.example.com/mcp'] }).objects);
    expect(Object.keys(off).filter((n) => n.startsWith('AUTH_'))).toEqual([]);
  });
});

describe('server NetworkPolicy', () => {
  const namespaceOf = (name: string): Record<string, string> => ({
    'kubernetes.io/metadata.name': VALUE_SETS.find((s) => s.name === name)!.namespace ?? 'mcp-fleet',
  });
  const policyOf = (objects: K8sObject[]): INetworkPolicy & K8sObject =>
    find<INetworkPolicy & K8sObject>(objects, 'NetworkPolicy', deploymentOf(objects).metadata.name);
  const KUBE_DNS: Endpoint = { pod: { 'k8s-app': 'kube-dns' }, namespace: { 'kubernetes.io/metadata.name': 'kube-system' } };
  const OUTSIDE = '203.0.113.10';
  const portOf = (url: string): number => Number(new URL(url).port || { 'https:': 443, 'http:': 80, 'redis:': 6379, 'rediss:': 6379 }[new URL(url).protocol]);

  /** Where the server's Redis is, and its ports, from the environment the server gets. */
  function redisEndpoints(objects: K8sObject[], env: Record<string, string>, ns: Record<string, string>): Array<{ peer: Endpoint; port: number }> {
    const nodes = [env.REDIS_SENTINELS, env.REDIS_CLUSTER_NODES].filter(Boolean).flatMap((list) => list!.split(',').map((n) => Number(n.split(':').pop())));
    const ports = [...(env.REDIS_URL ? [portOf(env.REDIS_URL)] : []), ...nodes, ...(env.REDIS_SENTINELS ? [6379] : [])];
    const bundled = env.REDIS_URL && objects.some((o) => o.kind === 'Service' && o.metadata.name === new URL(env.REDIS_URL!).hostname);
    const peer: Endpoint = bundled
      ? { pod: find<IStatefulSet & K8sObject>(objects, 'StatefulSet').spec!.template.metadata!.labels!, namespace: ns }
      : { ip: '10.20.1.5' };
    return ports.map((port) => ({ peer, port }));
  }

  it.each(VALUE_SETS.map((s) => s.name))('%s: on the server pods alone, it admits only their ports and lets out only DNS, Redis and the issuer', (name) => {
    const objects = get(name);
    const ns = namespaceOf(name);
    const np = policyOf(objects);
    const d = deploymentOf(objects);
    const env = envOf(objects);
    expect(
      podTemplates(objects)
        .filter((t) => matches(np.spec!.podSelector!.matchLabels, t.labels))
        .map((t) => t.owner),
    ).toEqual([`Deployment/${d.metadata.name}`]);
    expect(np.spec!.policyTypes).toEqual(['Ingress', 'Egress']);
    const containerPorts = serverContainer(d).ports!.map((p) => p.containerPort);
    for (const rule of np.spec!.ingress!) for (const p of rule.ports ?? []) if (typeof p.port === 'number') expect(containerPorts).toContain(p.port);
    // The helm test Pod reaches the MCP port; nothing reaches another one.
    const testPod: Endpoint = { pod: objects.find((o) => o.kind === 'Pod')!.metadata.labels!, namespace: ns };
    expect(admits(np, { peer: testPod, port: Number(env.PORT), portName: 'http' }, ns)).toBe(true);
    expect(admits(np, { peer: testPod, port: 22 }, ns)).toBe(false);

    const out = (peer: Endpoint, port: number, protocol: 'TCP' | 'UDP' = 'TCP') => letsOut(np, { peer, port, protocol }, ns);
    expect(out(KUBE_DNS, 53, 'UDP') && out(KUBE_DNS, 53, 'TCP')).toBe(true);
    for (const { peer, port } of redisEndpoints(objects, env, ns)) {
      expect(out(peer, port), `Redis ${JSON.stringify(peer)}:${port}`).toBe(true);
      expect(out(peer, port + 11)).toBe(false);
    }
    for (const url of [env.AUTH_ISSUER, env.AUTH_JWKS_URL].filter(Boolean)) expect(out({ ip: OUTSIDE }, portOf(url!)), url).toBe(true);
    if (!env.AUTH_ISSUER) expect(out({ ip: OUTSIDE }, 443)).toBe(false);
    expect(out({ ip: OUTSIDE }, 80)).toBe(false);
    expect(out({ ip: OUTSIDE }, 22)).toBe(false);
  });

  it('external PostgreSQL: the pods are let out to postgres.port, and to no Redis port', () => {
    const name = 'external PostgreSQL (URLs from a Secret)';
    const np = policyOf(get(name));
    const out = (port: number) => letsOut(np, { peer: { ip: OUTSIDE }, port, protocol: 'TCP' }, namespaceOf(name));
    expect(out(6432)).toBe(true);
    expect(out(5432)).toBe(false);
    expect(out(6379)).toBe(false);
    const byDefault = render({ set: ['redis.mode=none', 'postgres.enabled=true', 'postgres.existingSecret=mcp-fleet-postgres'] }).objects;
    expect(letsOut(policyOf(byDefault), { peer: { ip: OUTSIDE }, port: 5432, protocol: 'TCP' }, namespaceOf(name))).toBe(true);
  });

  it('defaults: no peer named, so any pod may reach the MCP and metrics ports; only the bundled Redis pods are let out to', () => {
    const objects = get('defaults (bundled Redis)');
    const np = policyOf(objects);
    const stranger: Endpoint = { pod: { app: 'anything' }, namespace: { 'kubernetes.io/metadata.name': 'elsewhere' } };
    expect(admits(np, { peer: stranger, port: 3000 }, namespaceOf('defaults (bundled Redis)'))).toBe(true);
    expect(admits(np, { peer: stranger, port: 9464 }, namespaceOf('defaults (bundled Redis)'))).toBe(true);
    expect(letsOut(np, { peer: { ip: '10.20.1.5' }, port: 6379 }, namespaceOf('defaults (bundled Redis)'))).toBe(false);
    expect(
      letsOut(np, { peer: { pod: { app: 'redis' }, namespace: namespaceOf('defaults (bundled Redis)') }, port: 6379 }, namespaceOf('defaults (bundled Redis)')),
    ).toBe(false);
  });

  it('with its peers named: only the ingress controller, Prometheus, the k6 pods and the helm test reach in; out only to the named networks', () => {
    const name = 'NetworkPolicy naming its peers';
    const objects = get(name);
    const ns = namespaceOf(name);
    const np = policyOf(objects);
    const nginx: Endpoint = { pod: { 'app.kubernetes.io/name': 'ingress-nginx' }, namespace: { 'kubernetes.io/metadata.name': 'ingress-nginx' } };
    const prometheus: Endpoint = { pod: { 'app.kubernetes.io/name': 'prometheus' }, namespace: { 'kubernetes.io/metadata.name': 'monitoring' } };
    const k6: Endpoint = { pod: { 'app.kubernetes.io/name': 'mcp-fleet', 'app.kubernetes.io/component': 'loadtest' }, namespace: ns };
    const neighbour: Endpoint = { pod: { app: 'other' }, namespace: ns };
    const inbound = (peer: Endpoint, port: number) => admits(np, { peer, port, portName: port === 3000 ? 'http' : 'metrics' }, ns);
    expect([inbound(nginx, 3000), inbound(nginx, 9464)]).toEqual([true, false]);
    expect([inbound(prometheus, 9464), inbound(prometheus, 3000)]).toEqual([true, false]);
    expect([inbound(k6, 3000), inbound(neighbour, 3000), inbound(neighbour, 9464)]).toEqual([true, false, false]);
    expect(inbound({ pod: nginx.pod, namespace: { 'kubernetes.io/metadata.name': 'elsewhere' } }, 3000)).toBe(false);
    expect(inbound({ pod: {}, namespace: nginx.namespace }, 3000)).toBe(false);

    const out = (peer: Endpoint, port: number, protocol: 'TCP' | 'UDP' = 'TCP') => letsOut(np, { peer, port, protocol }, ns);
    expect([out(KUBE_DNS, 53, 'UDP'), out({ ip: '8.8.8.8' }, 53, 'UDP')]).toEqual([true, false]);
    expect([out({ ip: '10.20.1.5' }, 6379), out({ ip: '10.30.0.1' }, 6379)]).toEqual([true, false]);
    expect([out({ ip: OUTSIDE }, 443), out({ ip: OUTSIDE }, 8443), out({ ip: '10.1.2.3' }, 443), out({ ip: OUTSIDE }, 6379)]).toEqual([
      true,
      true,
      false,
      false,
    ]);

    // Without helm test, its Pod is not let in.
    const untested = policyOf(render({ valueFiles: vf('external.yaml', 'auth.yaml', 'network-policy.yaml'), set: ['tests.enabled=false'] }).objects);
    const testPod: Endpoint = { pod: objects.find((o) => o.kind === 'Pod')!.metadata.labels!, namespace: ns };
    expect(admits(untested, { peer: testPod, port: 3000 }, ns)).toBe(false);
  });

  it('ports given for Redis and the issuer replace the derived ones', () => {
    const objects = render({
      valueFiles: vf('external.yaml', 'auth.yaml'),
      set: ['networkPolicy.egress.redis.ports[0].port=7000', 'networkPolicy.egress.auth.ports[0].port=9443'],
    }).objects;
    const np = policyOf(objects);
    const ns = { 'kubernetes.io/metadata.name': 'mcp-fleet' };
    const out = (port: number) => letsOut(np, { peer: { ip: OUTSIDE }, port }, ns);
    expect([7000, 9443, 6379, 443, 8443].map(out)).toEqual([true, true, false, false, false]);
  });

  it('networkPolicy.enabled=false: no NetworkPolicy at all', () => {
    expect(render({ set: ['networkPolicy.enabled=false'] }).objects.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
  });
});

describe('NOTES.txt', () => {
  /** helm template does not print NOTES.txt (and helm 3's install --dry-run needs a cluster): render it as a ConfigMap in a copy of the chart. */
  function notes(o: RenderOptions): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-notes-'));
    try {
      const copy = path.join(root, 'mcp-fleet');
      fs.cpSync(chartDir, copy, { recursive: true });
      const text = fs.readFileSync(path.join(copy, 'templates/NOTES.txt'), 'utf8');
      fs.rmSync(path.join(copy, 'templates/NOTES.txt'));
      fs.writeFileSync(path.join(copy, 'templates/_notes.tpl'), `{{- define "test.notes" -}}\n${text}\n{{- end }}`);
      fs.writeFileSync(
        path.join(copy, 'templates/zz-notes.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "test.notes" . | toJson }}\n',
      );
      const cm = find<IConfigMap & K8sObject>(render({ ...o, chart: copy }).objects, 'ConfigMap', 'notes');
      return cm.data!.notes!;
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }

  it('tells how to port-forward the Service and connect the command-line client', () => {
    const text = notes({ releaseName: 'mcp-fleet', namespace: 'mcp-fleet' });
    expect(text).toContain('kubectl -n mcp-fleet port-forward service/mcp-fleet 3000:3000');
    expect(text).toContain('npx mcp-fleet client http://127.0.0.1:3000/mcp call whoami');
    expect(text).toContain('helm test mcp-fleet -n mcp-fleet');
    expect(text).toContain('kubectl -n mcp-fleet rollout status deployment/mcp-fleet');
  });

  it('says whether authorization is on, what the NetworkPolicy lets in, and where the requestState key is', () => {
    const off = notes({ valueFiles: vf('ingress.yaml') });
    expect(off).toContain('Authorization: off. Anyone who reaches the Service, the Ingress or the Gateway can use the server');
    expect(off).toContain(
      'NetworkPolicy: the server pods reach only DNS and Redis; any pod may connect to port 3000 (name your ingress controller or Gateway in networkPolicy.ingress.from).',
    );
    expect(notes({ valueFiles: vf('single-memory.yaml') })).toContain('the server pods reach only DNS;');
    expect(off).toContain('requestState keys: Secret mcp-fleet-request-state, made by the chart');
    expect(off).toContain('calls whoami through the Service');
    const on = notes({ valueFiles: vf('external.yaml', 'auth.yaml', 'network-policy.yaml', 'ingress.yaml') });
    expect(on).toContain(
      'Authorization: on. Every request to /mcp needs a bearer token from https://id.example.com/realms/mcp for https://mcp.example.com/mcp',
    );
    expect(on).toContain('the server pods reach only DNS, Redis and the issuer; only the peers of networkPolicy.ingress.from (and helm test) reach port 3000.');
    expect(on).not.toContain('requestState keys:');
    expect(on).toContain("npx mcp-fleet client https://mcp.example.com/mcp --header 'Authorization: Bearer <token>' call whoami");
  });

  it('follows the release, the Service port and the MCP path, and names the Ingress URL', () => {
    const text = notes({ releaseName: 'edge', namespace: 'tools', valueFiles: vf('ingress.yaml'), set: ['service.port=8080', 'server.mcpPath=/v1/mcp'] });
    expect(text).toContain('kubectl -n tools port-forward service/edge-mcp-fleet 8080:8080');
    expect(text).toContain('npx mcp-fleet client http://127.0.0.1:8080/v1/mcp tools');
    expect(text).toContain('npx mcp-fleet client https://mcp.example.com/v1/mcp call whoami');
  });
});

describe('values the templates refuse', () => {
  const REFUSED: Array<[string[], string]> = [
    [['redis.mode=none'], 'redis.mode=none keeps sessions in one process'],
    [['redis.mode=none', 'replicaCount=1', 'autoscaling.enabled=true'], 'redis.mode=none keeps sessions in one process'],
    [['redis.mode=external'], 'redis.mode=external needs exactly one of'],
    [['redis.mode=external', 'redis.external.url=redis://a:6379', 'redis.external.clusterNodes[0]=b:6379'], 'needs exactly one of'],
    [['redis.mode=external', 'redis.external.sentinels[0]=s:26379'], 'needs redis.external.sentinelName'],
    [['terminationGracePeriodSeconds=12'], 'terminationGracePeriodSeconds (12 s) must cover'],
    [['server.drainTimeoutMs=60000'], 'must cover lifecycle.preStopSleepSeconds + server.shutdownDelayMs + server.drainTimeoutMs'],
    [['server.shutdownDelayMs=25000'], '(42000 ms)'],
    [['metrics.port=3000'], 'metrics.port must differ from server.port'],
    [['autoscaling.enabled=true', 'autoscaling.minReplicas=5', 'autoscaling.maxReplicas=4'], 'minReplicas must not exceed'],
    [['gateway.enabled=true'], 'gateway.enabled needs gateway.parentRefs'],
    [['auth.enabled=true'], 'auth.enabled needs auth.issuer'],
    [['auth.enabled=true', 'auth.issuer=https://id.example.com'], 'and auth.resourceUrl'],
    [['auth.enabled=true', 'auth.resourceUrl=https://mcp.example.com/mcp'], 'auth.enabled needs auth.issuer'],
  ];
  it.each(HELM_MAJORS.flatMap((major) => REFUSED.map(([set, message]) => [major, set, message] as const)))('Helm %i: %j', (major, set, message) => {
    expect(renderError({ set, helm: major })).toContain(message);
  });

  it("extraEnv entries are appended after the chart's own variables", () => {
    const objects = render({ set: ['extraEnv[0].name=NODE_OPTIONS', 'extraEnv[0].value=--max-old-space-size=384'] }).objects;
    validateWithModels(objects);
    const env = serverContainer(deploymentOf(objects)).env!;
    expect(env[env.length - 1]).toEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=384' });
    expect(env.slice(0, -1).map((e) => e.name)).toEqual(serverContainer(deploymentOf(get('defaults (bundled Redis)'))).env!.map((e) => e.name));
  });

  it('stateless mode may run several replicas without Redis', () => {
    const objects = render({ set: ['redis.mode=none', 'server.sessionMode=stateless'] }).objects;
    const env = envOf(objects);
    expect(env.SESSION_MODE).toBe('stateless');
    expect(Object.keys(env).some((n) => n.startsWith('REDIS_'))).toBe(false);
  });
});
