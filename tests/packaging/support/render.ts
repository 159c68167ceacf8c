/**
 * The chart through real Helm: `helm template` and `helm lint --strict`, with Helm 3 or Helm 4
 * from the test tools (scripts/install-test-tools.sh).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { chartDir } from './paths.js';
import { tool, toolsDir } from './tools.js';

/** Every test that renders the chart does it with both. */
export const HELM_MAJORS = [3, 4] as const;
export type HelmMajor = (typeof HELM_MAJORS)[number];

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  [key: string]: unknown;
}

export interface RenderOptions {
  chart?: string;
  valueFiles?: string[];
  set?: string[];
  apiVersions?: string[];
  releaseName?: string;
  namespace?: string;
  /** Which Helm: unset, render() uses both and compares them, renderError() and lint() use Helm 3. */
  helm?: HelmMajor;
  /**
   * A kubeconfig: render with `--dry-run=server` against its cluster, so that `lookup` reads it as
   * an install or upgrade does (without one, `helm template` has no cluster and `lookup` finds nothing).
   */
  kubeconfig?: string;
}

export interface Rendered {
  text: string;
  objects: K8sObject[];
  /** Template file each object came from (same order as objects). */
  sources: string[];
}

function valueArgs(o: RenderOptions): string[] {
  const a: string[] = [];
  for (const f of o.valueFiles ?? []) a.push('-f', f);
  for (const v of o.set ?? []) a.push('--set', v);
  return a;
}

function templateArgs(o: RenderOptions): string[] {
  const a = ['template', o.releaseName ?? 'mcp-fleet', o.chart ?? chartDir, '--namespace', o.namespace ?? 'mcp-fleet', ...valueArgs(o)];
  for (const v of o.apiVersions ?? []) a.push('--api-versions', v);
  // Helm 4 would otherwise validate against the cluster's OpenAPI documents.
  if (o.kubeconfig) a.push('--dry-run=server', '--disable-openapi-validation', '--kubeconfig', o.kubeconfig);
  return a;
}

/** Helm's own state (repositories, plugins, caches) in the tools directory, not the user's. */
const helmHome = path.join(toolsDir, 'helm-home');
const helmEnv = {
  ...process.env,
  HELM_CACHE_HOME: path.join(helmHome, 'cache'),
  HELM_CONFIG_HOME: path.join(helmHome, 'config'),
  HELM_DATA_HOME: path.join(helmHome, 'data'),
};

function helm(major: HelmMajor, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(tool(`helm${major}`), args, { encoding: 'utf8', env: helmEnv, maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  return result;
}

export function parseManifests(text: string): { objects: K8sObject[]; sources: string[] } {
  const objects: K8sObject[] = [];
  const sources: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const source = /# Source: (\S+)/.exec(String(doc.commentBefore ?? ''))?.[1] ?? '';
    objects.push(value as K8sObject);
    sources.push(source);
  }
  return { objects, sources };
}

function template(major: HelmMajor, o: RenderOptions): Rendered {
  const result = helm(major, templateArgs(o));
  if (result.status !== 0) throw new Error(`helm ${major} template failed:\n${result.stderr}`);
  const parsed = parseManifests(result.stdout);
  const incomplete = parsed.objects.filter((x) => !x.apiVersion || !x.kind || !x.metadata?.name);
  if (incomplete.length > 0) throw new Error(`helm ${major} rendered objects without apiVersion, kind or metadata.name: ${JSON.stringify(incomplete)}`);
  return { text: result.stdout, ...parsed };
}

const key = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export const CHECKSUM_ANNOTATION = 'checksum/request-state';
const GENERATED = '(generated)';

interface PodOwner {
  spec: {
    template: {
      metadata?: { annotations?: Record<string, string> };
      spec: { containers: Array<{ env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }> }> };
    };
  };
}

/**
 * Without a cluster the chart makes a new random request-state key on every render. The objects
 * with that key and its checksum replaced by a placeholder, so that two renders compare; each
 * Deployment's checksum is first checked to be that of the key its pods get.
 */
export function maskGeneratedKey(objects: K8sObject[]): K8sObject[] {
  const out = structuredClone(objects);
  for (const d of out.filter((o) => o.kind === 'Deployment') as Array<K8sObject & PodOwner>) {
    const annotations = d.spec.template.metadata?.annotations ?? {};
    const checksum = annotations[CHECKSUM_ANNOTATION];
    if (checksum === undefined) continue;
    const ref = d.spec.template.spec.containers.flatMap((c) => c.env ?? []).find((e) => e.name === 'REQUEST_STATE_KEYS')?.valueFrom?.secretKeyRef;
    const secret = out.find((o) => o.kind === 'Secret' && o.metadata.name === ref?.name) as (K8sObject & { data?: Record<string, string> }) | undefined;
    const data = ref && secret?.data?.[ref.key];
    if (data === undefined || createHash('sha256').update(data).digest('hex') !== checksum) {
      throw new Error(`${d.metadata.name}: ${CHECKSUM_ANNOTATION} ${checksum} is not the checksum of the key in ${ref?.name}/${ref?.key}`);
    }
    annotations[CHECKSUM_ANNOTATION] = GENERATED;
    secret!.data![ref!.key] = GENERATED;
  }
  return out;
}

/**
 * The objects of `b` that differ from (or are missing in) `a`, and the other way round; a
 * generated request-state key is no difference (maskGeneratedKey).
 */
export function differences(a: K8sObject[], b: K8sObject[]): string[] {
  [a, b] = [maskGeneratedKey(a), maskGeneratedKey(b)];
  const byKey = (objects: K8sObject[]) => new Map(objects.map((o) => [key(o), o]));
  const [ma, mb] = [byKey(a), byKey(b)];
  const out: string[] = [];
  for (const k of new Set([...ma.keys(), ...mb.keys()])) {
    if (!ma.has(k) || !mb.has(k)) out.push(`${k}: only in the ${ma.has(k) ? 'first' : 'second'}`);
    else if (!isDeepStrictEqual(ma.get(k), mb.get(k))) out.push(`${k}: ${JSON.stringify(ma.get(k))} / ${JSON.stringify(mb.get(k))}`);
  }
  if (a.length !== ma.size || b.length !== mb.size) out.push('an object appears twice');
  return out;
}

/**
 * `helm template` with the Helm `o.helm`, or, when unset, with Helm 3 and Helm 4, which must give
 * the same objects (Helm 3's rendering is returned). Throws with Helm's error.
 */
export function render(o: RenderOptions = {}): Rendered {
  if (o.helm !== undefined) return template(o.helm, o);
  const [first, ...others] = HELM_MAJORS.map((major) => template(major, o));
  for (const [i, other] of others.entries()) {
    const diff = differences(first!.objects, other.objects);
    if (diff.length > 0) throw new Error(`helm ${HELM_MAJORS[0]} and helm ${HELM_MAJORS[i + 1]} render different objects:\n${diff.join('\n').slice(0, 4000)}`);
  }
  return first!;
}

/** Renders values that must be refused (with Helm 3 unless `o.helm` says otherwise); returns Helm's error text. */
export function renderError(o: RenderOptions = {}): string {
  const major = o.helm ?? 3;
  const result = helm(major, templateArgs(o));
  if (result.status === 0) throw new Error(`helm ${major} template accepted values it should refuse: ${JSON.stringify(o)}`);
  return result.stderr;
}

/** `helm lint --strict` (lint warnings fail it, and so does a reference to a missing value); its output. */
export function lint(o: RenderOptions = {}): { ok: boolean; output: string } {
  const result = helm(o.helm ?? 3, ['lint', o.chart ?? chartDir, '--strict', ...valueArgs(o)]);
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** What the binary used as Helm `major` says it is (`helm version --short`: v3.17.2+gcc0bbbd). */
export function helmVersion(major: HelmMajor): string {
  return helm(major, ['version', '--short']).stdout.trim();
}

export function find<T = K8sObject>(objects: K8sObject[], kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  }
  return found[0] as T;
}

export function kinds(objects: K8sObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
}
