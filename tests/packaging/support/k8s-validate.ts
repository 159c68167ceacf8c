/**
 * Validates Kubernetes objects in two ways:
 * 1. each object is constructed with its kubernetes-models class and `.validate()`d (the
 *    OpenAPI schemas: types, required fields, enums, formats);
 * 2. the same objects, as object literals, are type-checked by the TypeScript compiler against the
 *    models' interfaces. The schemas of (1) accept unknown fields; TypeScript's excess-property
 *    check does not, so a misspelt field (`readinesProbe`) anywhere in an object fails here.
 */
import path from 'node:path';
import { Ajv } from 'ajv';
import ts from 'typescript';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { K8sObject } from './render.js';
import type { ITestRun } from './k6-testrun.js';
import { repoRoot } from './paths.js';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

interface Kind {
  model?: ModelClass;
  /** Module and interface name for the TypeScript check. */
  typeModule: string;
  typeName: string;
}

const KINDS: Record<string, Kind> = {
  'v1/ConfigMap': { model: ConfigMap, typeModule: 'kubernetes-models/v1/ConfigMap', typeName: 'IConfigMap' },
  'v1/Namespace': { model: Namespace, typeModule: 'kubernetes-models/v1/Namespace', typeName: 'INamespace' },
  'v1/Pod': { model: Pod, typeModule: 'kubernetes-models/v1/Pod', typeName: 'IPod' },
  'v1/Secret': { model: Secret, typeModule: 'kubernetes-models/v1/Secret', typeName: 'ISecret' },
  'v1/Service': { model: Service, typeModule: 'kubernetes-models/v1/Service', typeName: 'IService' },
  'v1/ServiceAccount': { model: ServiceAccount, typeModule: 'kubernetes-models/v1/ServiceAccount', typeName: 'IServiceAccount' },
  'apps/v1/Deployment': { model: Deployment, typeModule: 'kubernetes-models/apps/v1/Deployment', typeName: 'IDeployment' },
  'apps/v1/StatefulSet': { model: StatefulSet, typeModule: 'kubernetes-models/apps/v1/StatefulSet', typeName: 'IStatefulSet' },
  'batch/v1/Job': { model: Job, typeModule: 'kubernetes-models/batch/v1/Job', typeName: 'IJob' },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    typeModule: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    typeName: 'IPodDisruptionBudget',
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    typeModule: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    typeName: 'IHorizontalPodAutoscaler',
  },
  'networking.k8s.io/v1/Ingress': { model: Ingress, typeModule: 'kubernetes-models/networking.k8s.io/v1/Ingress', typeName: 'IIngress' },
  'networking.k8s.io/v1/NetworkPolicy': {
    model: NetworkPolicy,
    typeModule: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    typeName: 'INetworkPolicy',
  },
  'gateway.networking.k8s.io/v1/HTTPRoute': {
    model: HTTPRoute as unknown as ModelClass,
    typeModule: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute',
    typeName: 'IHTTPRoute',
  },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    model: ServiceMonitor,
    typeModule: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
    typeName: 'IServiceMonitor',
  },
  'monitoring.coreos.com/v1/PrometheusRule': {
    model: PrometheusRule,
    typeModule: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule',
    typeName: 'IPrometheusRule',
  },
  // No model package exists for the k6-operator: its shape is checked by the interface below
  // and its pod fields by the core Pod model (validateTestRun).
  'k6.io/v1alpha1/TestRun': { typeModule: './k6-testrun.js', typeName: 'ITestRun' },
};

function kindOf(o: K8sObject): Kind {
  const key = `${o.apiVersion}/${o.kind}`;
  const kind = KINDS[key];
  if (!kind) throw new Error(`no schema known for ${key} (${o.metadata?.name}); add it to tests/packaging/support/k8s-validate.ts`);
  return kind;
}

const testRunShape = new Ajv({ allErrors: true }).compile({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    spec: {
      type: 'object',
      required: ['script', 'parallelism'],
      properties: {
        parallelism: { type: 'integer', minimum: 1 },
        script: { type: 'object', minProperties: 1, maxProperties: 1 },
        cleanup: { enum: ['post'] },
      },
    },
  },
});

/** The runner of a TestRun becomes a Pod: check its core fields with the Pod model. */
function validateTestRun(o: K8sObject): void {
  if (!testRunShape(o)) throw new Error(`TestRun ${o.metadata.name}: ${JSON.stringify(testRunShape.errors)}`);
  const spec = (o as unknown as ITestRun).spec;
  for (const [role, p] of Object.entries({ runner: spec.runner, starter: spec.starter, initializer: spec.initializer })) {
    if (!p) continue;
    new Pod({
      metadata: { name: `${o.metadata.name}-${role}`, labels: p.metadata?.labels, annotations: p.metadata?.annotations },
      spec: {
        containers: [
          {
            name: 'k6',
            image: p.image ?? 'grafana/k6',
            imagePullPolicy: p.imagePullPolicy,
            env: p.env,
            envFrom: p.envFrom,
            resources: p.resources,
            securityContext: p.containerSecurityContext,
            volumeMounts: p.volumeMounts,
          },
        ],
        volumes: p.volumes,
        securityContext: p.securityContext,
        affinity: p.affinity,
        nodeSelector: p.nodeSelector,
        tolerations: p.tolerations,
        topologySpreadConstraints: p.topologySpreadConstraints,
        serviceAccountName: p.serviceAccountName,
        imagePullSecrets: p.imagePullSecrets,
        priorityClassName: p.priorityClassName,
      },
    }).validate();
  }
}

/** Runs the kubernetes-models schema validation of each object; throws with every failure. */
export function validateWithModels(objects: K8sObject[]): void {
  const failures: string[] = [];
  for (const o of objects) {
    try {
      const kind = kindOf(o);
      if (kind.model) new kind.model(o as never).validate();
      else validateTestRun(o);
    } catch (error) {
      failures.push(`${o.kind}/${o.metadata?.name}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) throw new Error(`schema validation failed:\n${failures.join('\n')}`);
}

const compilerOptions: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  skipLibCheck: true,
  types: [],
};

/**
 * Type-checks the objects against the kubernetes-models interfaces; returns one message per
 * problem ("Kind/name: message"), empty when every field is known and well-typed.
 */
export function typeCheckObjects(objects: K8sObject[]): string[] {
  const file = path.join(repoRoot, 'tests/packaging/support/__rendered_objects__.ts');
  const imports = new Map<string, string>();
  const lines: string[] = [];
  const owners: string[] = [];
  objects.forEach((o, i) => {
    const kind = kindOf(o);
    const alias = `T${imports.size}`;
    const key = `${kind.typeModule}#${kind.typeName}`;
    if (!imports.has(key)) imports.set(key, alias);
    lines.push(`export const o${i}: ${imports.get(key)} = ${JSON.stringify(o)};`);
    owners.push(`${o.kind}/${o.metadata?.name}`);
  });
  const header = [...imports].map(([key, alias]) => {
    const [mod, name] = key.split('#');
    return `import type { ${name} as ${alias} } from '${mod}';`;
  });
  const source = [...header, ...lines].join('\n');
  const host = ts.createCompilerHost(compilerOptions);
  const original = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    path.resolve(name) === file ? ts.createSourceFile(name, source, languageVersion, true) : original(name, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], compilerOptions, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file && path.resolve(d.file.fileName) === file && d.start !== undefined) {
      const line = d.file.getLineAndCharacterOfPosition(d.start).line - header.length;
      return `${owners[line] ?? 'import'}: ${message.slice(0, 600)}`;
    }
    return `${d.file?.fileName ?? ''}: ${message.slice(0, 600)}`;
  });
}

/** Both validations; throws listing every problem. */
export function validateObjects(objects: K8sObject[]): void {
  validateWithModels(objects);
  const problems = typeCheckObjects(objects);
  if (problems.length > 0) throw new Error(`objects do not match the Kubernetes types:\n${problems.join('\n')}`);
}
