import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { chartDir, sharedDir } from './paths.js';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  [key: string]: unknown;
}

const binary = path.join(os.tmpdir(), 'chart-render', 'chart-render');
let built: string | undefined;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function lockHolder(lock: string): number {
  try {
    return Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8')) || 0;
  } catch {
    return 0;
  }
}

function lockAgeMs(lock: string): number {
  try {
    return Date.now() - fs.statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Builds ../shared/tools/chart-render once per machine (build.sh skips the build when the binary is
 * newer than main.go). Test files run in parallel workers, so the build (and the apt-get install
 * it may run on a fresh machine) is serialized with a lock directory.
 */
export function chartRender(): string {
  if (built) return built;
  const script = path.join(sharedDir, 'tools/chart-render/build.sh');
  if (!fs.existsSync(script)) {
    throw new Error(`${script} is missing: CI must have shared/ beside the repository (../shared)`);
  }
  const lock = `${binary}.lock`;
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = lockHolder(lock);
      let alive = holder > 0;
      if (alive) {
        try {
          process.kill(holder, 0);
        } catch {
          alive = false;
        }
      }
      const stale = holder > 0 ? !alive : lockAgeMs(lock) > 600_000;
      if (stale) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      sleep(200);
    }
  }
  try {
    const out = execFileSync('bash', [script, binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    built = out.trim().split('\n').pop()!;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
  return built;
}

export interface RenderOptions {
  chart?: string;
  valueFiles?: string[];
  set?: string[];
  apiVersions?: string[];
  releaseName?: string;
  namespace?: string;
}

export interface Rendered {
  text: string;
  objects: K8sObject[];
  /** Template file each object came from (same order as objects). */
  sources: string[];
}

function args(o: RenderOptions): string[] {
  const a = [o.chart ?? chartDir, '--strict', '--release-name', o.releaseName ?? 'mcp-fleet', '--namespace', o.namespace ?? 'mcp-fleet'];
  for (const f of o.valueFiles ?? []) a.push('-f', f);
  for (const s of o.set ?? []) a.push('--set', s);
  for (const v of o.apiVersions ?? []) a.push('--api-versions', v);
  return a;
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

export function render(o: RenderOptions = {}): Rendered {
  const result = spawnSync(chartRender(), args(o), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`chart-render failed:\n${result.stderr}`);
  return { text: result.stdout, ...parseManifests(result.stdout) };
}

/** Renders values that must be refused; returns chart-render's error text. */
export function renderError(o: RenderOptions = {}): string {
  const result = spawnSync(chartRender(), args(o), { encoding: 'utf8' });
  if (result.status === 0) throw new Error(`chart-render accepted values it should refuse: ${JSON.stringify(o)}`);
  return result.stderr;
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
