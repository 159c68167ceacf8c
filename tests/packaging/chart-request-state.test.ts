/**
 * The chart's REQUEST_STATE_KEYS: a Secret made once per release and kept by upgrades, or one of
 * your own. Upgrades are rendered with both Helms against a fake API server (support/fake-apiserver.ts)
 * holding what an earlier release left, so that `lookup` reads it as `helm upgrade` does.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { loadConfig } from '../../src/config.js';
import { FakeApiServer, ownedByRelease } from './support/fake-apiserver.js';
import { renderedSecrets, resolveEnv, serverContainer } from './support/pod.js';
import { CHECKSUM_ANNOTATION, find, HELM_MAJORS, render, type K8sObject, type RenderOptions } from './support/render.js';

const RELEASE = { releaseName: 'mcp-fleet', namespace: 'mcp-fleet' };
const SECRET = 'mcp-fleet-request-state';

function keysOf(objects: K8sObject[]): string {
  const d = find<IDeployment & K8sObject>(objects, 'Deployment');
  const env = resolveEnv(serverContainer(d), { fields: { 'metadata.name': 'p' }, secrets: renderedSecrets(objects) });
  return env.REQUEST_STATE_KEYS!;
}

const checksumOf = (objects: K8sObject[]): string | undefined =>
  find<IDeployment & K8sObject>(objects, 'Deployment').spec!.template.metadata!.annotations?.[CHECKSUM_ANNOTATION];

/** The release's Secret as the cluster holds it, with these keys. */
function leftInCluster(keys: string): K8sObject {
  const secret = find<ISecret & K8sObject>(render({ ...RELEASE, helm: 3 }).objects, 'Secret', SECRET);
  return ownedByRelease({ ...secret, data: { keys: Buffer.from(keys).toString('base64') } }, RELEASE.releaseName, RELEASE.namespace);
}

describe.each(HELM_MAJORS)('Helm %i', (helm) => {
  const template = (o: RenderOptions = {}) => render({ ...RELEASE, ...o, helm }).objects;

  it('without a cluster (helm template): a new random key on every render, which the server accepts, and its checksum on the pods', () => {
    const [first, second] = [template(), template()];
    const [a, b] = [keysOf(first), keysOf(second)];
    expect(a).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(b).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(a).not.toBe(b);
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', REQUEST_STATE_KEYS: a }).requestStateKeys).toEqual([a]);
    const data = find<ISecret & K8sObject>(first, 'Secret', SECRET).data!.keys!;
    expect(checksumOf(first)).toBe(createHash('sha256').update(data).digest('hex'));
    expect(checksumOf(first)).not.toBe(checksumOf(second));
  });

  it('your own Secret: no Secret rendered, the key name you give, no checksum; pod annotations stay', () => {
    const objects = template({ set: ['requestState.existingSecret=fleet-keys', 'requestState.existingSecretKey=ring', 'podAnnotations.team=mcp'] });
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const env = serverContainer(find<IDeployment & K8sObject>(objects, 'Deployment')).env!;
    expect(env.find((e) => e.name === 'REQUEST_STATE_KEYS')!.valueFrom!.secretKeyRef).toEqual({ name: 'fleet-keys', key: 'ring' });
    expect(find<IDeployment & K8sObject>(objects, 'Deployment').spec!.template.metadata!.annotations).toEqual({ team: 'mcp' });
  });

  it('another release in the namespace has a Secret of its own', () => {
    const objects = render({ releaseName: 'edge', namespace: 'mcp-fleet', helm }).objects;
    expect(find(objects, 'Secret').metadata.name).toBe('edge-mcp-fleet-request-state');
    expect(keysOf(objects)).toMatch(/^[A-Za-z0-9]{64}$/);
  });
});

describe('against a cluster (helm upgrade)', () => {
  const earlier = 'key-of-the-first-install-0123456789abcdefghij';
  const rotating = `${earlier},key-added-by-the-operator-9876543210zyxwvutsrq`;
  let servers: Record<string, FakeApiServer>;

  beforeAll(async () => {
    servers = {
      empty: await FakeApiServer.start([]),
      installed: await FakeApiServer.start([leftInCluster(earlier)]),
      rotating: await FakeApiServer.start([leftInCluster(rotating)]),
    };
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers ?? {}).map((s) => s.close()));
  });

  const upgrade = (server: string, helm: (typeof HELM_MAJORS)[number]) => render({ ...RELEASE, helm, kubeconfig: servers[server]!.kubeconfig }).objects;

  it.each(HELM_MAJORS)('Helm %i: an upgrade keeps the key the release holds, and so does not roll the pods', async (helm) => {
    const [a, b] = [upgrade('installed', helm), upgrade('installed', helm)];
    expect(keysOf(a)).toBe(earlier);
    expect(checksumOf(a)).toBe(checksumOf(b));
    expect(await servers.installed!.requests()).toContain(`/api/v1/namespaces/mcp-fleet/secrets/${SECRET}`);
  });

  it.each(HELM_MAJORS)('Helm %i: keys an operator added to the Secret (a rotation) survive an upgrade, which rolls the pods onto them', (helm) => {
    const objects = upgrade('rotating', helm);
    expect(keysOf(objects)).toBe(rotating);
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', REQUEST_STATE_KEYS: keysOf(objects) }).requestStateKeys).toHaveLength(2);
    expect(checksumOf(objects)).not.toBe(checksumOf(upgrade('installed', helm)));
  });

  it.each(HELM_MAJORS)('Helm %i: a first install (no Secret yet) makes a new key', async (helm) => {
    const objects = upgrade('empty', helm);
    expect(keysOf(objects)).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(await servers.empty!.requests()).toContain(`/api/v1/namespaces/mcp-fleet/secrets/${SECRET}`);
  });
});
