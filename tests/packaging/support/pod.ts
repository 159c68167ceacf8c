import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { K8sObject } from './render.js';

export interface PodTemplate {
  owner: string;
  labels: Record<string, string>;
  spec: IPodSpec;
}

/** Every pod (template) among the objects: Deployments, StatefulSets, Jobs and bare Pods. */
export function podTemplates(objects: K8sObject[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const o of objects) {
    const owner = `${o.kind}/${o.metadata.name}`;
    if (o.kind === 'Pod') {
      out.push({ owner, labels: o.metadata.labels ?? {}, spec: o.spec as IPodSpec });
    } else if (['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(o.kind)) {
      const template = (o.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: IPodSpec } }).template;
      out.push({ owner, labels: template.metadata?.labels ?? {}, spec: template.spec });
    }
  }
  return out;
}

export function serverContainer(deployment: K8sObject): IContainer {
  const containers = (deployment as unknown as IDeployment).spec!.template.spec!.containers;
  const server = containers.find((c) => c.name === 'server');
  if (!server) throw new Error(`${deployment.metadata.name} has no container named server`);
  return server;
}

export interface EnvResolution {
  /** fieldPath -> value, for downward-API variables. */
  fields?: Record<string, string>;
  /** "secret/key" -> value, for secretKeyRef variables. */
  secrets?: Record<string, string>;
}

/**
 * The environment the kubelet gives a container from its `env` list: literal values as they are,
 * `$(VAR)` references expanded as Kubernetes does, downward-API and Secret references from the
 * given fakes (an unknown reference is an error, so nothing is silently dropped).
 */
export function resolveEnv(container: IContainer, resolution: EnvResolution = {}): Record<string, string> {
  if (container.envFrom && container.envFrom.length > 0) throw new Error(`${container.name}: envFrom is not resolved by this helper`);
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    let value: string;
    if (e.value !== undefined) {
      value = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
    } else if (e.valueFrom?.fieldRef) {
      const v = resolution.fields?.[e.valueFrom.fieldRef.fieldPath];
      if (v === undefined) throw new Error(`${e.name}: no fake value for field ${e.valueFrom.fieldRef.fieldPath}`);
      value = v;
    } else if (e.valueFrom?.secretKeyRef) {
      const key = `${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`;
      const v = resolution.secrets?.[key];
      if (v === undefined) throw new Error(`${e.name}: no fake value for secret ${key}`);
      value = v;
    } else if (e.valueFrom === undefined) {
      value = '';
    } else {
      throw new Error(`${e.name}: valueFrom ${JSON.stringify(e.valueFrom)} is not resolved by this helper`);
    }
    env[e.name] = value;
  }
  return env;
}

export function matches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Breaches of the Pod Security Standards "restricted" profile (and of this chart's own rules). */
export function restrictedProblems(t: PodTemplate): string[] {
  const p: string[] = [];
  const pod = t.spec.securityContext ?? {};
  const all = [...(t.spec.initContainers ?? []), ...t.spec.containers];
  if (t.spec.hostNetwork || t.spec.hostPID || t.spec.hostIPC) p.push('host namespaces');
  if (pod.seccompProfile?.type !== 'RuntimeDefault') p.push('pod seccompProfile is not RuntimeDefault');
  if (t.spec.automountServiceAccountToken !== false) p.push('service account token is mounted');
  for (const c of all) {
    const sc = c.securityContext ?? {};
    const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    const uid = sc.runAsUser ?? pod.runAsUser;
    if (nonRoot !== true) p.push(`${c.name}: runAsNonRoot is not true`);
    if (uid === 0) p.push(`${c.name}: runs as UID 0`);
    if (sc.allowPrivilegeEscalation !== false) p.push(`${c.name}: allowPrivilegeEscalation is not false`);
    if (sc.privileged) p.push(`${c.name}: privileged`);
    if (sc.readOnlyRootFilesystem !== true) p.push(`${c.name}: root filesystem is writable`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) p.push(`${c.name}: capabilities not dropped`);
    if ((sc.capabilities?.add ?? []).some((cap) => cap !== 'NET_BIND_SERVICE')) p.push(`${c.name}: adds capabilities`);
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') p.push(`${c.name}: seccomp`);
    if (!c.resources?.requests || !c.resources.limits?.memory) p.push(`${c.name}: no resource requests or memory limit`);
    for (const port of c.ports ?? []) if (port.hostPort) p.push(`${c.name}: hostPort`);
  }
  for (const v of t.spec.volumes ?? []) if (v.hostPath) p.push(`volume ${v.name}: hostPath`);
  return p;
}

/** "secret/key" -> value of every Secret among the objects (for resolveEnv's `secrets`). */
export function renderedSecrets(objects: K8sObject[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of objects.filter((x) => x.kind === 'Secret') as Array<K8sObject & { data?: Record<string, string>; stringData?: Record<string, string> }>) {
    for (const [key, value] of Object.entries(o.data ?? {})) out[`${o.metadata.name}/${key}`] = Buffer.from(value, 'base64').toString('utf8');
    for (const [key, value] of Object.entries(o.stringData ?? {})) out[`${o.metadata.name}/${key}`] = value;
  }
  return out;
}
