/**
 * Just enough of a Kubernetes API server for `helm template --dry-run=server` (support/render.ts,
 * `kubeconfig`): the version, the discovery documents of the kinds the chart renders, and GET of
 * the objects it holds (404 for the others). Helm then renders as an install or upgrade does,
 * with `lookup` reading these objects: how the chart finds what an earlier release left.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { K8sObject } from './render.js';

/** Group/version -> [plural, kind] of every kind the chart renders with its default values. */
const RESOURCES: Record<string, Array<[string, string]>> = {
  v1: [
    ['configmaps', 'ConfigMap'],
    ['pods', 'Pod'],
    ['secrets', 'Secret'],
    ['serviceaccounts', 'ServiceAccount'],
    ['services', 'Service'],
  ],
  'apps/v1': [
    ['deployments', 'Deployment'],
    ['statefulsets', 'StatefulSet'],
  ],
  'policy/v1': [['poddisruptionbudgets', 'PodDisruptionBudget']],
  'networking.k8s.io/v1': [
    ['ingresses', 'Ingress'],
    ['networkpolicies', 'NetworkPolicy'],
  ],
};

const groupVersionPath = (gv: string): string => (gv === 'v1' ? '/api/v1' : `/apis/${gv}`);

function discovery(): Map<string, unknown> {
  const docs = new Map<string, unknown>();
  docs.set('/version', { major: '1', minor: '31', gitVersion: 'v1.31.0' });
  docs.set('/api', { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
  const groups = Object.keys(RESOURCES).filter((gv) => gv !== 'v1');
  docs.set('/apis', {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((gv) => {
      const [name, version] = gv.split('/') as [string, string];
      return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
    }),
  });
  for (const [gv, resources] of Object.entries(RESOURCES)) {
    docs.set(groupVersionPath(gv), {
      kind: 'APIResourceList',
      groupVersion: gv,
      resources: resources.map(([name, kind]) => ({
        name,
        singularName: kind.toLowerCase(),
        namespaced: true,
        kind,
        verbs: ['get', 'list', 'create', 'update'],
      })),
    });
  }
  return docs;
}

function objectPath(o: K8sObject): string {
  const plural = RESOURCES[o.apiVersion]?.find(([, kind]) => kind === o.kind)?.[0];
  if (!plural) throw new Error(`the fake API server does not serve ${o.apiVersion} ${o.kind}`);
  return `${groupVersionPath(o.apiVersion)}/namespaces/${o.metadata.namespace}/${plural}/${o.metadata.name}`;
}

/**
 * The server runs in a worker thread: the tests render with spawnSync, which blocks the main
 * thread's event loop while Helm waits for the answers.
 */
const WORKER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const docs = new Map(workerData.docs);
const requests = [];
const server = http.createServer((req, res) => {
  const pathname = new URL(req.url || '/', 'http://fake').pathname;
  requests.push(pathname);
  const doc = req.method === 'GET' ? docs.get(pathname) : undefined;
  res.setHeader('content-type', 'application/json');
  if (doc === undefined) {
    res.statusCode = req.method === 'GET' ? 404 : 405;
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: res.statusCode === 404 ? 'NotFound' : 'MethodNotAllowed', code: res.statusCode }));
  } else {
    res.end(JSON.stringify(doc));
  }
});
parentPort.on('message', (m) => {
  if (m === 'requests') parentPort.postMessage({ requests });
  if (m === 'close') server.close(() => parentPort.close());
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
`;

export class FakeApiServer {
  private constructor(
    private readonly worker: Worker,
    private readonly dir: string,
    /** A kubeconfig pointing at this server. */
    readonly kubeconfig: string,
  ) {}

  /** Starts a server holding these objects (each with metadata.namespace). */
  static async start(objects: K8sObject[]): Promise<FakeApiServer> {
    const docs = discovery();
    for (const o of objects) docs.set(objectPath(o), o);
    const worker = new Worker(WORKER, { eval: true, workerData: { docs: [...docs] } });
    const { port } = await FakeApiServer.reply<{ port: number }>(worker, 'port');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-fleet-apiserver-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${port}` } }],
        users: [{ name: 'fake', user: { token: 'fake' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
        'current-context': 'fake',
      }),
    );
    return new FakeApiServer(worker, dir, kubeconfig);
  }

  private static reply<T>(worker: Worker, field: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (!(field in m)) return;
        worker.off('message', onMessage);
        resolve(m as T);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  /** Every path Helm asked for so far (query strings dropped). */
  async requests(): Promise<string[]> {
    const answer = FakeApiServer.reply<{ requests: string[] }>(this.worker, 'requests');
    this.worker.postMessage('requests');
    return (await answer).requests;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage('close');
    await exited;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An object as a release left it in the cluster: with the ownership metadata Helm checks before it adopts one. */
export function ownedByRelease<T extends K8sObject>(o: T, release: string, namespace: string): T {
  return {
    ...o,
    metadata: {
      ...o.metadata,
      namespace,
      labels: { ...o.metadata.labels, 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { ...o.metadata.annotations, 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': namespace },
    },
  };
}
